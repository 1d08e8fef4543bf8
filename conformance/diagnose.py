"""The diagnosis: what is most likely wrong with a program, named by a stable id, before the
list of cases, the way a teaching assistant would say it.

Two sources, both data: a short behaviour profile the engine measures on each server before its
cases (`profile_server`: which of IPv4 and IPv6 it serves, whether an echo comes back at once,
only after a newline, only after the client's FIN, or never, how it closes, whether a second
client is served while a first one waits), and the observations the failed cases recorded
(conformance/observation.py). `diagnose` turns them into diagnoses, each with the failures that
follow from it; a failure's `cause` names the diagnosis, and its printout then cites the rule
that diagnosis breaks rather than the case's own.

The ids are stable (conformance/README.md lists them): reports, Gradescope's tags, JUnit and
the class summary all use them.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field

from conformance.cases import rules
from conformance.cases.case import Rule
from conformance.net.wire import Timeouts
from conformance.outcomes import Outcome
from conformance.process import Server
from conformance.wirelog import WireLog

PROBE = 1.0  # seconds the profile waits for an echo that should come at once


@dataclass(frozen=True)
class Diagnosis:
    id: str
    summary: str  # what is wrong, said to the student ("your server ...")
    fix: str  # what to write first
    rule: Rule | None  # the sentence it breaks; None: each case's own (the cause is that case's rule)


def _d(id_: str, summary: str, fix: str, rule: Rule | None) -> Diagnosis:
    return Diagnosis(id_, summary, fix, rule)


# In order of precedence: when two explain as many failures, the earlier is the root cause.
ORDER = [
    _d("no-ready-line", "your server never became ready: it printed no readiness line and listened on no port "
       "(or exited first)", "start listening, then print `listening on <host>:<port>` with the port really "
       "bound, and flush stdout", rules.READY),
    _d("ready-line-not-flushed", "your server listens, but its readiness line never came: it is still in "
       "stdout's buffer", "flush stdout right after printing the readiness line (a pipe is block-buffered)",
       rules.READY),
    _d("wrong-ready-line", "your server's first line on stdout is not `listening on <host>:<port>`",
       "print exactly `listening on <host>:<port>`, the bound address, IPv6 in brackets", rules.READY),
    _d("no-echo", "your server sends nothing back, not even after the client's FIN",
       "read from the connection and send back what you read, in a loop, until the read says the "
       "client closed", rules.ECHO),
    _d("echoes-after-eof", "your server echoes only after the client's FIN: it stores everything until the "
       "end of the stream", "send back what each read returns before reading again; do not wait for the "
       "end of the stream", rules.AT_ONCE),
    _d("waits-for-newline", "your server echoes whole lines only: bytes after the last newline wait (and "
       "may never come back)", "echo the bytes a read returns, whatever they hold; do not read lines",
       rules.AT_ONCE),
    _d("holds-bytes", "your server holds bytes back: a few bytes are not echoed until more arrive (it waits to "
       "fill a buffer)", "send back what each read returns at once, however few bytes it is", rules.AT_ONCE),
    _d("ipv4-only", "your server serves IPv4 clients only: it does not listen on :: (dual stack)",
       "listen on :: with IPV6_V6ONLY set to 0, so IPv4 and IPv6 clients both get in", rules.DUAL_STACK),
    _d("ipv6-only", "your server serves IPv6 clients only: IPv4 clients are refused",
       "set IPV6_V6ONLY to 0 on the listening socket before bind", rules.DUAL_STACK),
    _d("rst-instead-of-fin", "your server closes connections with RST instead of FIN, which can destroy "
       "echo still in flight", "read until the client's FIN before you close, and close normally (no "
       "SO_LINGER 0, no unread input left behind)", rules.HALF_CLOSE),
    _d("drops-tail", "your server loses the tail: after the client's half-close it closes with echo still "
       "owed", "when the read says the client closed, first send everything still buffered, then close",
       rules.HALF_CLOSE),
    _d("short-write", "your server ignores how many bytes a send took: a short write loses the rest",
       "loop until everything is sent (sendall, write_all, or a loop over send's count), and retry on "
       "EINTR", rules.EVERY_BYTE),
    _d("changes-bytes", "your server changes the bytes it echoes", "echo the bytes exactly as received: no "
       "decoding, no line-end rewriting, no trimming", rules.OCTETS),
    _d("extra-bytes", "your server sends bytes nobody sent (a banner, a prompt, an added newline)",
       "send back only what was received", rules.OCTETS),
    _d("crashes-on-reset", "a client's reset ends your whole server", "treat ECONNRESET and EPIPE as the end "
       "of that session only (and ignore SIGPIPE, or send with MSG_NOSIGNAL)", rules.SESSION_END),
    _d("server-exits", "a client's session ends your whole server", "catch what one session raises in that "
       "session, and go on serving", rules.SESSION_END),
    _d("one-client-at-a-time", "your server serves one client at a time: a second client waits while the "
       "first is connected", "serve each connection on its own thread, task or event-loop entry",
       rules.CONCURRENT),
    _d("no-fin", "your server never closes the connection after the client's half-close and the echo",
       "when the read says the client closed, close your side", rules.HALF_CLOSE),
    _d("stdout-noise", "your server prints more than the readiness line on stdout",
       "write diagnostics to stderr", rules.STDOUT),
    _d("no-sigterm", "your server does not exit 0 on SIGTERM", "handle SIGTERM and SIGINT: stop accepting "
       "and exit 0", rules.STOP),
    # clients
    _d("refused-exit-0", "your client exits 0 when it cannot connect", "when connecting fails, print one line "
       "on stderr naming the address and the reason, and exit 1", rules.REFUSED),
    _d("wrong-exit-status", "your client's exit status is not the contract's", "exit 0 at the end of input "
       "or BYE, 1 on an error, 2 on bad arguments", None),
    _d("error-message", "your client's error message is not one stderr line naming the address",
       "print exactly one line on stderr that names HOST:PORT and the reason", rules.REFUSED),
    _d("raw-deadlock", "your client's --raw writes everything before it reads, and deadlocks once the data "
       "outgrows the socket buffers", "read the socket while you write it (a thread, or poll)", rules.RAW),
    _d("raw-broken", "your client's --raw does not copy the bytes both ways", "copy stdin to the socket and "
       "the socket to stdout, byte for byte, and half-close at the end of stdin", rules.RAW),
    _d("bye-not-honoured", "your client does not end the session on BYE", "when a line is BYE (or BYE\\r), "
       "close the connection without sending it and exit 0", rules.CLIENT_BYE),
    _d("sends-wrong-bytes", "your client sends the server something other than the lines", "send each line "
       "as its bytes followed by \\n, nothing else", rules.LINE_MODE),
    _d("wrong-transcript", "your client prints a wrong transcript", "print `Echoed: '<line>'` for each line once "
       "its whole echo is back, nothing else on stdout", rules.LINE_MODE),
    _d("hangs", "your program stops making progress (a deadlock, or a missed end of input or close)",
       "see the first case that hangs: what was it waiting for?", rules.CONTINUES),
]
DIAGNOSES: dict[str, Diagnosis] = {d.id: d for d in ORDER}


# --- the profile -------------------------------------------------------------------------------------

@dataclass
class Profile:
    """A server's behaviour, measured in a few short sessions before its cases."""
    families: dict[str, bool] = field(default_factory=dict)  # ipv4, ipv6 -> a connection was accepted
    echo: str = "unknown"  # at-once, after-newline, in-blocks, after-eof, never
    close: str = "unknown"  # fin, rst, open: how it ended the session after the half-close
    concurrent: bool | None = None  # a second client served while a first one waits
    banner: bool = False  # bytes nobody sent came before the echo
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def host(self) -> str:
        """The loopback address data cases use: IPv4 unless only IPv6 is served."""
        return "::1" if self.families.get("ipv6") and not self.families.get("ipv4") else "127.0.0.1"

    def to_json(self) -> dict:
        return {"families": self.families, "echo": self.echo, "close": self.close,
                "concurrent": self.concurrent, "banner": self.banner, "seconds": round(self.seconds, 3),
                "notes": self.notes}


def _read(sock: socket.socket, want: int, timeout: float, until: bytes | None = None) -> tuple[bytes, str | None]:
    """Up to `want` bytes within `timeout` (or until `until` has arrived); and "fin" or "rst" if
    the connection ended meanwhile."""
    got = bytearray()
    deadline = time.monotonic() + timeout
    while len(got) < want and not (until and until in got):
        left = deadline - time.monotonic()
        if left <= 0:
            return bytes(got), None
        sock.settimeout(left)
        try:
            chunk = sock.recv(want - len(got))
        except socket.timeout:
            return bytes(got), None
        except (ConnectionResetError, BrokenPipeError):
            return bytes(got), "rst"
        if not chunk:
            return bytes(got), "fin"
        got += chunk
    return bytes(got), None


def _connect(host: str, port: int, timeout: float = PROBE) -> socket.socket | None:
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError:
        return None
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def profile_server(server: Server, timeouts: Timeouts, log: WireLog, concurrent: bool = True) -> Profile:
    """A few short sessions with a ready server: quick when it is correct (a few milliseconds),
    bounded when it is not (a few seconds). The concurrency probe runs only for a server held to
    `concurrent`."""
    started = time.monotonic()
    found = Profile()
    for family, host in (("ipv4", "127.0.0.1"), ("ipv6", "::1")):
        sock = _connect(host, server.port)
        found.families[family] = sock is not None
        if sock:
            sock.close()
    if not any(found.families.values()):
        found.notes.append("no connection was accepted on 127.0.0.1 or ::1")
        found.seconds = time.monotonic() - started
        return found
    host = found.host
    try:
        _echo_probe(found, host, server.port, log)
        if concurrent and found.echo in ("at-once", "after-newline"):
            _concurrency_probe(found, host, server.port, log, newline=found.echo == "after-newline")
    except OSError as e:
        found.notes.append(f"the profile's session failed: {e}")
    found.seconds = time.monotonic() - started
    log.note("tester", f"profile: {found.to_json()}")
    return found


def _echo_probe(found: Profile, host: str, port: int, log: WireLog) -> None:
    """Five bytes without a newline: back at once? If not, a newline: back now (a line server)?
    If not, 64 KiB more: some back now (a server filling a buffer)? If not, the half-close: back
    now (a store-and-forward server), or never? Then how it closes."""
    sock = _connect(host, port)
    if sock is None:
        found.notes.append("the echo probe could not connect")
        return
    with sock:
        sock.sendall(b"probe")
        got, ended = _read(sock, 1 << 16, PROBE, until=b"probe")
        half_closed = False
        if b"probe" in got:
            found.echo = "at-once"
        elif not ended:
            sock.sendall(b"\n")
            more, ended = _read(sock, 1 << 16, PROBE, until=b"probe\n")
            got += more
            if b"probe\n" in got:
                found.echo = "after-newline"
            elif not ended:
                sock.sendall(b"x" * (64 << 10))  # more bytes, and still no newline
                more, ended = _read(sock, 1 << 16, PROBE)
                got += more
                if more:
                    found.echo = "in-blocks"
            if found.echo == "unknown" and not ended:
                sock.shutdown(socket.SHUT_WR)
                half_closed = True
                more, ended = _read(sock, 1 << 20, 2 * PROBE, until=b"probe\n")
                got += more
        if found.echo == "unknown":
            found.echo = "after-eof" if b"probe" in got else "never"
        if got and not got.startswith(b"probe"):
            found.banner = True
            found.notes.append(f"bytes before the echo: {got[:40]!r}")
        if not ended:
            if not half_closed:
                sock.shutdown(socket.SHUT_WR)
            _, ended = _read(sock, 1 << 16, 2 * PROBE)
        found.close = ended or "open"
        log.note("tester", f"profile: echo {found.echo}, close {found.close}")


def _concurrency_probe(found: Profile, host: str, port: int, log: WireLog, newline: bool) -> None:
    """A first client connects and waits; a second sends a few bytes: served at once? Either way
    both sessions end cleanly, the second with its whole echo read, so a server that serves one
    client at a time is left idle for the cases."""
    first = _connect(host, port)
    if first is None:
        return
    with first:
        second = _connect(host, port)
        if second is None:
            found.concurrent = False
            return
        with second:
            message = b"second\n" if newline else b"second"
            second.sendall(message)
            got, _ = _read(second, 1 << 16, PROBE, until=message)
            found.concurrent = message in got
            first.shutdown(socket.SHUT_WR)
            _read(first, 1 << 16, PROBE)
            first.close()
            if not found.concurrent:  # served one at a time: its turn has come now
                more, _ = _read(second, 1 << 16, 2 * PROBE, until=message)
                got += more
            second.shutdown(socket.SHUT_WR)
            _read(second, 1 << 16, PROBE)
    log.note("tester", f"profile: a second client served while a first waits: {found.concurrent}")


# --- the diagnosis ---------------------------------------------------------------------------------

@dataclass
class Found:
    """A diagnosis of one program: what is wrong, and the failures that follow from it."""
    diagnosis: Diagnosis
    program: str
    cases: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.diagnosis.id

    def to_json(self) -> dict:
        return {"id": self.id, "program": self.program, "summary": self.diagnosis.summary,
                "fix": self.diagnosis.fix, "rule": self.diagnosis.rule.sentence if self.diagnosis.rule else None,
                "cases": self.cases}


FAILED = (Outcome.FAIL, Outcome.NON_STRICT, Outcome.ERROR, Outcome.EXPECTED_FAIL)


def _failed(result) -> bool:
    return result.outcome in FAILED and result.observation is not None


def diagnose(results: list, profile: Profile | None, program, held_to: set[str]) -> list[Found]:
    """The diagnoses of `program` (an Implementation) from its results and profile; sets each
    explained failure's `cause`. `held_to` is the capabilities it is graded on."""
    mine = [r for r in results if _failed(r) and program.id in (r.server, r.client)
            and (r.case.role != "pair" or not r.expected or r.expected.startswith(program.id + ":"))]
    present: dict[str, Found] = {}

    def blame(id_: str, result=None) -> None:
        found = present.setdefault(id_, Found(DIAGNOSES[id_], program.id))
        if result is not None and result.cause is None:
            result.cause = id_
            partner = result.server if result.client == program.id else result.client
            found.cases.append(result.case.id + (f" with {partner}" if result.case.role == "pair" else ""))

    if program.role == "server":
        _server(mine, results, program.id, profile, held_to, blame)
    else:
        _client(mine, blame)
    for r in mine:  # anything left: a stall is a hang; the rest stays the case's own
        if r.cause is None and r.observation.stalled:
            blame("hangs", r)
    # A finding of the profile alone, which no failing case of this run shows, is left unsaid:
    # the run did not test it (a narrowed --cases), or the cases passed after all.
    ranked = sorted((f for f in present.values() if f.cases),
                    key=lambda f: (-len(f.cases), ORDER.index(f.diagnosis)))
    return ranked


def _by_case(mine: list, prefix: str) -> list:
    return [r for r in mine if r.case.id.startswith(prefix)]


def _server(mine: list, everything: list, program: str, profile: Profile | None, held_to: set[str],
            blame) -> None:
    ready = next((r for r in mine if r.case.id == "server/launch/ready"), None)
    if ready is not None:
        facts = ready.observation.facts
        if facts.get("as_written"):
            pass  # the line is not required of a program as written; its other cases say the rest
        elif facts.get("listening_without_line"):
            blame("ready-line-not-flushed", ready)
        elif "listening" in ready.observation.summary and "first stdout line" in ready.observation.summary:
            blame("wrong-ready-line", ready)
        else:
            blame("no-ready-line", ready)
            for r in mine:
                if r.observation.facts.get("not_started"):
                    blame("no-ready-line", r)
    if profile is not None:
        families = profile.families
        if families.get("ipv4") and not families.get("ipv6"):
            for r in _by_case(mine, "server/dual-stack/ipv6") or [None]:
                blame("ipv4-only", r)
        elif families.get("ipv6") and not families.get("ipv4"):
            for r in _by_case(mine, "server/dual-stack/ipv4") or [None]:
                blame("ipv6-only", r)
        root = {"never": "no-echo", "after-eof": "echoes-after-eof", "after-newline": "waits-for-newline",
                "in-blocks": "holds-bytes"}
        if profile.echo in root:
            blame(root[profile.echo])
            for r in mine:
                if r.case.role in ("server", "pair") and r.case.id not in ("server/launch/stdout",
                                                                           "server/launch/sigterm") \
                        and (r.observation.stalled or r.observation.prefix_only):
                    blame(root[profile.echo], r)
        if profile.close == "rst" and profile.echo == "at-once":  # else the RST is for input never read
            blame("rst-instead-of-fin")
        if profile.concurrent is False and "concurrent" in held_to and profile.echo != "never":
            blame("one-client-at-a-time")
            for r in _by_case(mine, "server/concurrent/"):
                blame("one-client-at-a-time", r)
    plain_volume = {r.case.id: r.outcome for r in everything
                    if r.case.id in ("server/stream/1mib", "server/stream/tail-at-volume") and r.server == program}
    volume_ok = all(o is Outcome.PASS for o in plain_volume.values())
    for r in mine:
        o = r.observation
        if r.cause:
            continue
        if r.case.id == "server/launch/stdout":
            blame("stdout-noise", r)
        elif r.case.id == "server/launch/sigterm":
            blame("no-sigterm", r)
        elif o.server_died:
            blame("crashes-on-reset" if "reset" in r.case.id else "server-exits", r)
        elif o.inserted or o.extra or "should have closed" in o.summary or (
                profile is not None and profile.banner and o.first_difference == 0 and o.received):
            blame("extra-bytes", r)
        elif r.case.id == "server/short-writes" and volume_ok:
            blame("short-write", r)
        elif o.changed is not None:
            blame("changes-bytes", r)
        elif o.close == "rst":
            blame("rst-instead-of-fin", r)
        elif o.prefix_only and o.close == "fin":
            blame("drops-tail", r)
        elif o.stalled and "to close the connection" in o.summary and not r.case.id.startswith("server/bye"):
            blame("no-fin", r)
        elif o.stalled and r.case.id.startswith("server/concurrent/") and "concurrent" in held_to:
            blame("one-client-at-a-time", r)


def _client(mine: list, blame) -> None:
    for r in mine:
        o, cid = r.observation, r.case.id
        if cid.startswith(("client/raw/", "pair/raw")):
            blame("raw-deadlock" if o.stalled else "raw-broken", r)
        elif o.stalled:
            blame("hangs", r)
        elif o.facts.get("message"):
            blame("error-message", r)
        elif "wanted_status" in o.facts:
            blame("refused-exit-0" if cid == "client/errors/refused" and o.exit_status == 0
                  else "wrong-exit-status", r)
        elif cid.startswith("client/bye/"):
            blame("bye-not-honoured", r)
        elif o.facts.get("what") == "sent":
            blame("sends-wrong-bytes", r)
        else:
            blame("wrong-transcript", r)


def headline(found: list[Found]) -> list[str]:
    """The first lines of a grade: the most likely cause, what to write first, then the rest."""
    if not found:
        return []
    top = found[0]
    marked = "Every failure below marked (*) follows from it." if top.cases else ""
    lines = [f"What is wrong, most likely: {top.diagnosis.summary} ({top.id}). {marked}".rstrip(),
             f"  Write this first: {top.diagnosis.fix}."]
    for other in found[1:]:
        lines.append(f"Also: {other.diagnosis.summary} ({other.id})"
                     + (f": {len(other.cases)} case{'s' if len(other.cases) != 1 else ''}" if other.cases else ""))
    return lines
