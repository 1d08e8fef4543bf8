"""Faults only a network makes, injected on the private loopback with nftables and tc:

    with impair.vanish(2000):          # every packet to or from the port dropped: no FIN, no RST
    with impair.unreachable(2000):     # packets to the port answered by ICMP host unreachable
    with impair.reset(2000):           # packets of a connection answered by a TCP reset
    with impair.slow_link(100_000):    # lo limited to that many bytes per second

Each installs its rules on entry and removes them on exit. They refuse to run outside the
private namespace of `namespace.py`: there they would hit the host's own loopback, shared by
everything else on the machine. `why_unavailable(feature)` says why a fault cannot be made here
(not inside the namespace, nft or tc missing, the kernel without nf_tables or tbf), so that the
harness can report the case SKIPPED with that reason.

What the programs see (Linux):
- vanish: nothing at all; a reader without a timeout waits forever, a writer's data is
  retransmitted until the kernel gives up (ETIMEDOUT, after about 15 minutes by default), and a
  new connection's SYN is never answered.
- unreachable: connect() fails at once with EHOSTUNREACH (`icmp="host"`) or ECONNREFUSED
  (`icmp="port"`); the chosen errno is the context's `errno` attribute. On an established
  connection the ICMP error is a soft one: the kernel keeps retransmitting and reports it only
  when it gives up.
- reset: the first packet either side sends on an established connection is answered with a
  RST, so each end sees ECONNRESET when it next sends (and then reads). The SYNs pass, so a new
  connection is set up and reset at its first packet after the SYNs.
- slow_link: the rate applies to lo's one queue, so both directions of a loopback connection
  share it."""

from __future__ import annotations

import errno as errnos
import itertools
import shutil
import subprocess
import threading
from contextlib import contextmanager

from conformance.net import namespace

FEATURES = ("vanish", "unreachable", "reset", "slow_link")
_NFT_FEATURES = ("vanish", "unreachable", "reset")
_counter = itertools.count(1)
_probed: dict[str, str | None] = {}


class ImpairmentUnavailable(RuntimeError):
    pass


def why_unavailable(feature: str) -> str | None:
    """None when `feature` (one of FEATURES) can be injected here, else the reason."""
    if feature not in FEATURES:
        raise ValueError(f"unknown impairment {feature!r}; known: {', '.join(FEATURES)}")
    if not namespace.inside():
        reason = namespace.why_unavailable()
        return ("network faults are made only inside the private network namespace"
                + (f" ({reason})" if reason else " (this process has not entered it)"))
    key = "nft" if feature in _NFT_FEATURES else "tbf"
    if key not in _probed:
        _probed[key] = _probe_nft() if key == "nft" else _probe_tbf()
    return _probed[key]


class _Rules:
    """An nftables table of our own, added on entry and deleted on exit."""

    feature = ""

    def __init__(self, port: int) -> None:
        if not 0 < port < 65536:
            raise ValueError(f"port {port} is not a TCP port")
        self.port = port
        self.table = f"echo_lab_{self.feature}_{port}_{next(_counter)}"

    def chains(self) -> str:
        raise NotImplementedError

    def __enter__(self):
        reason = why_unavailable(self.feature)
        if reason:
            raise ImpairmentUnavailable(reason)
        _nft(f"table inet {self.table} {{\n{self.chains()}}}\n")
        return self

    def __exit__(self, *exc) -> None:
        _nft(f"delete table inet {self.table}\n")


class vanish(_Rules):
    """Every packet to or from `port` disappears, in both directions. Dropped where packets
    arrive, after a capture has seen them: the trace shows what was sent into the void."""

    feature = "vanish"

    def chains(self) -> str:
        return (f"  chain void {{\n    type filter hook prerouting priority raw; policy accept;\n"
                f"    meta l4proto {{ tcp, udp }} th dport {self.port} drop\n"
                f"    meta l4proto {{ tcp, udp }} th sport {self.port} drop\n  }}\n")


class unreachable(_Rules):
    """Packets to or from `port` are answered by ICMP (v4 or v6) host unreachable, or port
    unreachable with `icmp="port"`."""

    feature = "unreachable"
    _KINDS = {"host": ("host-unreachable", errnos.EHOSTUNREACH),
              "port": ("port-unreachable", errnos.ECONNREFUSED)}

    def __init__(self, port: int, icmp: str = "host") -> None:
        if icmp not in self._KINDS:
            raise ValueError(f"icmp must be one of {', '.join(self._KINDS)}")
        super().__init__(port)
        self.icmp = icmp
        self.errno = self._KINDS[icmp][1]  # what connect() fails with

    def chains(self) -> str:
        kind = self._KINDS[self.icmp][0]
        return (f"  chain far {{\n    type filter hook input priority filter; policy accept;\n"
                f"    tcp dport {self.port} reject with icmpx type {kind}\n"
                f"    tcp sport {self.port} reject with icmpx type {kind}\n  }}\n")


class reset(_Rules):
    """Every TCP packet to or from `port` other than a SYN or a RST is answered by a reset to
    its sender, in both directions."""

    feature = "reset"

    def chains(self) -> str:
        return (f"  chain cut {{\n    type filter hook input priority filter; policy accept;\n"
                f"    tcp dport {self.port} tcp flags & (syn | rst) == 0 reject with tcp reset\n"
                f"    tcp sport {self.port} tcp flags & (syn | rst) == 0 reject with tcp reset\n"
                "  }\n")


class slow_link:
    """lo limited to `rate` bytes per second by a token bucket (tc's tbf). The bucket holds at
    least one 64 KiB loopback segment, which the rate then pays back."""

    feature = "slow_link"

    def __init__(self, rate: int) -> None:
        if rate < 1000:
            raise ValueError("a rate below 1000 bytes per second is not a link, it is a stall")
        self.rate = rate
        self.burst = max(70_000, rate // 10)
        self.limit = max(4 * self.burst, rate)  # a second of queue: the sender waits, no drop

    def __enter__(self):
        reason = why_unavailable(self.feature)
        if reason:
            raise ImpairmentUnavailable(reason)
        _tc("qdisc", "add", "dev", "lo", "root", "tbf", "rate", f"{self.rate}bps",
            "burst", str(self.burst), "limit", str(self.limit))
        return self

    def __exit__(self, *exc) -> None:
        _tc("qdisc", "del", "dev", "lo", "root")


def _nft(script: str, check: bool = False) -> None:
    argv = ["nft", "-c", "-f", "-"] if check else ["nft", "-f", "-"]
    done = subprocess.run(argv, input=script.encode(), capture_output=True, timeout=10)
    if done.returncode != 0:
        said = done.stderr.decode(errors="replace").strip().splitlines()
        first = said[0] if said else f"exit {done.returncode}"
        raise ImpairmentUnavailable(f"nft refused the rules: {first}")


def _tc(*args: str) -> None:
    done = subprocess.run(["tc", *args], capture_output=True, timeout=10)
    if done.returncode != 0:
        said = done.stderr.decode(errors="replace").strip().splitlines()
        raise ImpairmentUnavailable(f"tc {' '.join(args[:2])} failed: {said[0] if said else ''}")


def _probe_nft() -> str | None:
    if shutil.which("nft") is None:
        return "nft is not installed (nftables; scripts/bootstrap installs it)"
    # Every kind of rule above, checked by the kernel without being applied.
    probe = "".join(f"table inet echo_lab_probe_{i} {{\n{rules.chains()}}}\n" for i, rules in
                    enumerate([vanish(9), unreachable(9), unreachable(9, "port"), reset(9)]))
    try:
        _nft(probe, check=True)
    except (ImpairmentUnavailable, OSError, subprocess.TimeoutExpired) as e:
        return f"the kernel refuses these nftables rules: {e}"
    return None


def _probe_tbf() -> str | None:
    if shutil.which("tc") is None:
        return "tc is not installed (iproute2; scripts/bootstrap installs it)"
    try:
        _tc("qdisc", "add", "dev", "lo", "root", "tbf", "rate", "1000000bps", "burst", "70000",
            "limit", "280000")
        _tc("qdisc", "del", "dev", "lo", "root")
    except (ImpairmentUnavailable, OSError, subprocess.TimeoutExpired) as e:
        return f"no token bucket filter (tbf) here: {e}"
    return None


class Loopback:
    """Cases that run at the same time share the namespace's loopback; a case that changes it
    for everyone (a slow link) waits for the others to finish, and they wait for it (new ones
    too, so it is not starved)."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._sharing = 0
        self._alone = False
        self._waiting_alone = 0

    @contextmanager
    def use(self, alone: bool):
        with self._changed:
            if alone:
                self._waiting_alone += 1
                self._changed.wait_for(lambda: not self._alone and self._sharing == 0)
                self._waiting_alone -= 1
                self._alone = True
            else:
                self._changed.wait_for(lambda: not self._alone and self._waiting_alone == 0)
                self._sharing += 1
        try:
            yield
        finally:
            with self._changed:
                if alone:
                    self._alone = False
                else:
                    self._sharing -= 1
                self._changed.notify_all()


LOOPBACK = Loopback()
