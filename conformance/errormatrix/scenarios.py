"""The scenarios of the error-handling matrix and how each is staged: a network failure a
program meets (nothing listens, an unknown host, the server killed mid-session, a client's
reset, ...), every one on loopback with ephemeral ports, one program at a time per scenario,
and every process killed at the end.

Each scenario yields a Cell: how the program ended (exit status, killed by a signal, or still
running at the bound: a hang), the first line it wrote on stderr with the run's incidentals
(ports, pids, temporary paths) normalized, whether it crashed (a signal, a stack trace or an
uncaught exception on stderr), and for servers whether it still serves the next client.
Timings are chosen so that each verdict is the same on every run: the harness waits for the
program to reach the state a scenario needs (the echo is back, the server is reading) before it
strikes.
"""

from __future__ import annotations

import re
import socket
import struct
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

from conformance import process
from conformance.manifest import Implementation, default_root
from conformance.net import impair, unused_port
from conformance.net.recorder import RecordingServer
from conformance.net.wire import session
from conformance.process import Ending, Process, crashed

HOST = "127.0.0.1"
UNKNOWN_HOST = "no-such-host.invalid"  # never resolves (RFC 6761)
EXIT_BOUND = 20.0  # a program that has not exited this long after its cue hangs
READY_BOUND = 20.0  # a JVM starting on a busy two-core machine
STEP_BOUND = 15.0  # waiting for an echo or a partner's report
STRIKE_REPORT = 1.0  # how long a server's line about the strike may take before the next client comes
SETTLE = 5.0  # how long a server may take to write its line about a session that ended (idle waiting)
VANISH_BOUND = 10.0  # a client still waiting this long after its server's host vanished hangs


@dataclass
class Cell:
    """What one program did in one scenario."""

    ended: str  # "exit 1", "killed by SIGPIPE", "hang", "no start", or "" when it was not meant to end
    stderr: str = ""  # first non-blank line, normalized; "" when there was none
    stdout: str = ""  # first line of stdout when it is not the transcript (a bad client's notice)
    crash: bool = False
    notes: list[str] = field(default_factory=list)  # short facts: "serves next", "bytes lost"
    ok: bool = True  # what the contract asks for
    skipped: str | None = None  # why it did not run

    def to_json(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v not in (None, "", [], False) or k in ("ended", "ok")}

    @staticmethod
    def from_json(data: dict) -> "Cell":
        return Cell(**{k: data.get(k, Cell.__dataclass_fields__[k].default) if k != "notes"
                       else list(data.get("notes", [])) for k in Cell.__dataclass_fields__})


@dataclass(frozen=True)
class Scenario:
    key: str
    role: str
    title: str
    description: str
    expect: str  # what the contract asks, for the legend
    stage: Callable[[Implementation], Cell]
    network: str | None = None  # the network fault it needs (conformance/net/impair.py), if any

    @property
    def id(self) -> str:
        return f"{self.role}/{self.key}"


# --- normalizing what programs print --------------------------------------------------------

_FOREIGN_IPV4 = re.compile(r"\b(?!127\.)\d{1,3}(?:\.\d{1,3}){3}\b")  # a resolver, a gateway
_ADDRESS_PORT = re.compile(r"(\[[0-9A-Za-z:.%_-]*\]|\b\d{1,3}(?:\.\d{1,3}){3}|\bADDR|\blocalhost|"
                           + re.escape(UNKNOWN_HOST) + r"):\d{1,5}\b")
_PORT_WORD = re.compile(r"\b(port) \d{1,5}\b", re.I)
_PID = re.compile(r"\b(pid|PID)([ =:]?)\d+|\((node|deno):\d+\)")
_TEMP = re.compile(r"/tmp/[^\s'\":,)]+")
_RESOLVER = re.compile(r"(lookup \S+ on )\S+:PORT")
_THREAD_ID = re.compile(r"(thread '[^']*') \(\d+\)")  # Rust's panic message names the thread's id


def normalize(line: str, root: str | None = None) -> str:
    """The run's incidentals replaced by names, so two runs print the same line."""
    root = root or str(default_root())
    line = line.replace(root, "<repo>")
    line = _TEMP.sub("TMP", line)
    line = _FOREIGN_IPV4.sub("ADDR", line)
    line = _ADDRESS_PORT.sub(lambda m: f"{m.group(1)}:PORT", line)
    line = _PORT_WORD.sub(lambda m: f"{m.group(1)} PORT", line)
    line = _RESOLVER.sub(r"\1ADDR:PORT", line)  # Go names the DNS server, which varies by machine
    line = _THREAD_ID.sub(r"\1 (TID)", line)
    line = _PID.sub(lambda m: f"({m.group(3)}:PID)" if m.group(3) else f"{m.group(1)}{m.group(2)}PID", line)
    line = " ".join(line.split())
    return line if len(line) <= 150 else line[:147] + "..."


def first_line(data: bytes) -> str:
    for line in data.decode("utf-8", errors="replace").splitlines():
        if line.strip():
            return normalize(line)
    return ""


# --- a client in a scenario -------------------------------------------------------------------

def observe(program: Process, ending: Ending, expected_exit: int) -> Cell:
    stderr, stdout = program.stderr, program.stdout
    crash = bool(ending.signal) or crashed(stderr)
    notice = next((line for line in stdout.decode("utf-8", errors="replace").splitlines()
                   if line.strip() and not line.startswith("Echoed: '")), "")
    ok = ending.status == expected_exit and not crash and (expected_exit == 0 or bool(stderr.strip()))
    return Cell(str(ending), first_line(stderr), normalize(notice), crash, ok=ok)


def client(impl: Implementation, host: str, port: int) -> Process:
    return Process(impl.command(host, port), impl.directory, interactive=True).start()


def client_refused(impl: Implementation) -> Cell:
    run = client(impl, HOST, unused_port(HOST))
    run.feed(b"hello\n")
    run.close_stdin()
    return observe(run, run.finish(EXIT_BOUND), 1)


def client_unknown_host(impl: Implementation) -> Cell:
    run = client(impl, UNKNOWN_HOST, 2000)
    run.feed(b"hello\n")
    run.close_stdin()
    return observe(run, run.finish(EXIT_BOUND), 1)


class Partner:
    """conformance/net/partner.py in its own process group: one connection, echoed."""

    def __init__(self, mode: str):
        self.run = Process([sys.executable, "-B", "-m", "conformance.net.partner", mode], default_root()).start()
        self.run.out.wait_for(lambda d: b"\n" in d.data, STEP_BOUND)
        match = re.match(rb"listening on [0-9.]+:(\d+)\n", self.run.stdout)
        if not match:
            self.stop()
            raise RuntimeError(f"the partner server did not start: {self.run.stderr!r}")
        self.port = int(match.group(1))

    def reported(self, word: bytes, bound: float = STEP_BOUND) -> bool:
        return self.run.out.wait_for(lambda d: word in d.data, bound) and word in self.run.stdout

    def stop(self) -> None:
        self.run.kill()


def client_after_first_echo(impl: Implementation, mode: str) -> Cell:
    """The client sends one line and gets its echo; then the partner vanishes (SIGKILL, `echo`
    mode) or has already half-closed (`half-close` mode); then the client sends a second line
    and its input ends. The contract: one line on stderr, exit 1."""
    partner = Partner(mode)
    run = None
    try:
        run = client(impl, HOST, partner.port)
        run.feed(b"one\n")
        partner.reported(b"half-closed" if mode == "half-close" else b"echoed 4")
        run.out.wait_for(lambda d: b"one" in d.data, STEP_BOUND)
        if mode == "echo":
            partner.stop()  # SIGKILL: the kernel closes its socket, FIN first
        time.sleep(0.3)  # the FIN reaches the client before its next line, as a user types later
        run.feed(b"two\n")
        run.close_stdin()
        result = observe(run, run.finish(EXIT_BOUND), 1)
        if run.stdout.count(b"Echoed: '") > 1:  # "two" never came back
            result.notes.append("false echo")
            result.ok = False
        return result
    finally:
        if run is not None:
            run.kill()
        partner.stop()


def client_after_the_network_fails(impl: Implementation, fault) -> Cell:
    """The client sends one line and gets its echo; then the network fails (`fault(port)`, an
    nftables rule on the partner's port); then it sends a second line and its input ends."""
    partner = Partner("echo")
    run = None
    try:
        run = client(impl, HOST, partner.port)
        run.feed(b"one\n")
        partner.reported(b"echoed 4")
        run.out.wait_for(lambda d: b"one" in d.data, STEP_BOUND)
        with fault(partner.port):
            run.feed(b"two\n")
            run.close_stdin()
            result = observe(run, run.finish(VANISH_BOUND), 1)
        if run.stdout.count(b"Echoed: '") > 1:
            result.notes.append("false echo")
            result.ok = False
        return result
    finally:
        if run is not None:
            run.kill()
        partner.stop()


def client_host_vanishes(impl: Implementation) -> Cell:
    """What a program does with no timeout of its own: the contract asks for none, so the cell is
    an observation, never a cross."""
    cell = client_after_the_network_fails(impl, impair.vanish)
    cell.ok = True
    return cell


def client_network_resets(impl: Implementation) -> Cell:
    return client_after_the_network_fails(impl, impair.reset)


def client_host_unreachable(impl: Implementation) -> Cell:
    port = unused_port(HOST)
    with impair.unreachable(port, icmp="host"):
        run = client(impl, HOST, port)
        run.feed(b"hello\n")
        run.close_stdin()
        return observe(run, run.finish(EXIT_BOUND), 1)


def client_server_killed(impl: Implementation) -> Cell:
    return client_after_first_echo(impl, "echo")


def client_server_half_closes(impl: Implementation) -> Cell:
    return client_after_first_echo(impl, "half-close")


def client_stdin_ends(impl: Implementation) -> Cell:
    """One line, then end of input without BYE: the echo printed, exit 0, and the connection
    closed with a FIN."""
    with RecordingServer(HOST) as server:
        run = client(impl, HOST, server.port)
        run.feed(b"one\n")
        run.close_stdin()
        ending = run.finish(EXIT_BOUND)
        result = observe(run, ending, 0)
        if run.stdout != b"Echoed: 'one'\n":
            result.notes.append("no echo" if b"one" not in run.stdout else "echo garbled")
            result.ok = False
        server.received(1, timeout=STEP_BOUND if ending.status is not None else 1)
        record = server.connections[0] if server.connections else None
        if record is None:
            result.notes.append("never connected")
            result.ok = False
        elif not record.eof:
            result.notes.append("RST, no FIN" if record.error else "no FIN")
            result.ok = False
    return result


# --- a server in a scenario -------------------------------------------------------------------

def server_port_in_use(impl: Implementation) -> Cell:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind((HOST, 0))
        taken.listen()
        run = Process(impl.command(HOST, taken.getsockname()[1]), impl.directory).start()
        ending = run.finish(READY_BOUND)
    result = observe(run, ending, 1)
    if b"listening on" in run.stdout:
        result.notes.append("claims to listen")
        result.ok = False
    return result


def next_client_served(port: int, bound: float = STEP_BOUND) -> bool:
    try:
        received, _ = session(HOST, port, b"next\n", half_close=False, timeout=bound)
    except OSError:  # refused: the server is down
        return False
    return received == b"next\n"


BAD_NOTES = {"bytes lost", "bytes changed", "extra bytes", "RST", "no close", "no echo"}


def staged_server(impl: Implementation, strike: Callable[[int], list[str]], next_bound: float = STEP_BOUND,
                  settle: float = SETTLE, dying: float = SETTLE) -> Cell:
    """Start the server, apply `strike` to it (which returns notes and leaves its session
    ended), then see whether a next client is served and whether the server still runs."""
    server = process.Server(impl.command(HOST, 0), impl.directory, ready_timeout=READY_BOUND,
                            line=impl.takes_port).start()
    try:
        if server.failure:
            return Cell("no start", first_line(server.stderr), crash=crashed(server.stderr), ok=False)
        notes = strike(server.port)
        # The cell quotes the server's first line about the strike: let it come before the next
        # client's session can write one of its own (a threaded server reports in either order).
        server.err.wait_for(lambda err: b"\n" in err.value() or not server.alive(), STRIKE_REPORT)
        served = next_client_served(server.port, next_bound)
        settle = time.monotonic() + settle
        while b"\n" not in server.stderr and server.alive() and time.monotonic() < settle:
            time.sleep(0.05)
        # A server that failed the next client may be on its way out (a JVM whose main thread
        # died still shuts down): give it the time to finish, so the verdict does not race it.
        status = server.returncode if served else server.wait(dying)
        if status is not None:  # what it wrote as it died may still be in the pipe
            server.err.join(timeout=1)
        stderr = server.stderr
        ending = Ending.of(status)
        crash = bool(ending.signal) or crashed(stderr)
        if status is not None:
            notes.append("down")
        elif served:
            notes.append("serves next")
        else:
            notes.append("next not served")
        ok = status is None and served and not crash and not any(n in BAD_NOTES for n in notes)
        return Cell(str(ending) if status is not None else "", first_line(stderr), crash=crash, notes=notes, ok=ok)
    finally:
        server.kill()


def reset_strike(port: int) -> list[str]:
    """Send two lines, wait until their echo has arrived (without reading it), then close with
    SO_LINGER 0: a reset, which the server meets in its next read."""
    sock = socket.create_connection((HOST, port), timeout=STEP_BOUND)
    notes = []
    try:
        sock.sendall(b"one\ntwo\n")
        deadline = time.monotonic() + STEP_BOUND
        while time.monotonic() < deadline:
            try:
                if len(sock.recv(64, socket.MSG_PEEK | socket.MSG_DONTWAIT)) >= 8:
                    break
            except BlockingIOError:
                pass
            except OSError:
                break
            time.sleep(0.01)
        else:
            notes.append("no echo")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    finally:
        sock.close()
    return notes


def server_client_reset(impl: Implementation) -> Cell:
    return staged_server(impl, reset_strike)


# Lines of text and a last line without its newline: any server that echoes bytes returns it
# unchanged; a line-based one adds a newline at the end.
HALF_CLOSE_PAYLOAD = b"".join(b"line %05d of the half-close payload\n" % i for i in range(2000)) + b"tail"


def half_close_strike(port: int) -> list[str]:
    """Send the payload while reading, shut down the sending side, read to the end."""
    got, close = session(HOST, port, HALF_CLOSE_PAYLOAD, half_close=True, timeout=STEP_BOUND)
    sent = HALF_CLOSE_PAYLOAD
    if got == sent:
        notes = ["all bytes"]
    elif got.startswith(sent):
        notes = ["extra bytes"]
    elif sent.startswith(got):
        notes = ["bytes lost"]
    else:
        notes = ["bytes changed"]
    notes.append({"fin": "FIN", "rst": "RST", "open": "no close"}[close])
    return notes


def server_half_close(impl: Implementation) -> Cell:
    return staged_server(impl, half_close_strike)


def server_client_vanishes(impl: Implementation) -> Cell:
    """A client sends a line and gets its echo, then its host vanishes (every packet of that
    connection dropped: the server hears nothing, not even a FIN); the connection is left so
    until the verdict."""
    vanished = []

    def strike(port: int) -> list[str]:
        sock = socket.create_connection((HOST, port), timeout=STEP_BOUND)
        vanished.append(sock)
        sock.sendall(b"one\n")
        sock.settimeout(STEP_BOUND)
        notes = [] if sock.recv(64) == b"one\n" else ["no echo"]
        rule = impair.vanish(sock.getsockname()[1])
        rule.__enter__()
        vanished.append(rule)
        return notes
    try:
        # A server serving one client at a time is stuck with the vanished one: 3 s tell that.
        cell = staged_server(impl, strike, next_bound=3.0, settle=2.0, dying=0.5)
        if "next not served" in cell.notes and not impl.has("concurrent") and not cell.ended and not cell.crash:
            cell.ok = True  # one client at a time, by design: the vanished one holds it
        return cell
    finally:
        for thing in reversed(vanished):
            if isinstance(thing, impair.vanish):
                thing.__exit__(None, None, None)
            else:
                thing.close()


SCENARIOS = (
    Scenario("refused", "client", "server not running", "nothing listens on the port (connection refused).",
             "exit 1, one line on stderr", client_refused),
    Scenario("unknown-host", "client", "unknown host", "the host is `no-such-host.invalid`, a name that never "
             "resolves.", "exit 1, one line on stderr", client_unknown_host),
    Scenario("killed", "client", "server killed mid-session", "the server echoes the first line and is then "
             "killed with SIGKILL; the client sends a second line and its input ends.",
             "exit 1, one line on stderr", client_server_killed),
    Scenario("half-close", "client", "server half-closes early", "the server echoes the first line and shuts "
             "down its sending side (FIN) but keeps reading; the client sends a second line and its input ends.",
             "exit 1, one line on stderr", client_server_half_closes),
    Scenario("host-vanishes", "client", "server's host vanishes", "the server echoes the first line; then every "
             "packet of the connection is dropped (no FIN, no RST: the host is gone); the client sends a second line "
             f"and its input ends. `hang` means it had not exited {VANISH_BOUND:.0f} s later.",
             "nothing: the contract sets no timeout, and the cell shows what each program does (waiting is "
             "what a program without a timeout or keepalive does)", client_host_vanishes, "vanish"),
    Scenario("unreachable", "client", "host unreachable", "the network answers the connection with ICMP host "
             "unreachable.", "exit 1, one line on stderr", client_host_unreachable, "unreachable"),
    Scenario("network-reset", "client", "network resets mid-session", "the server echoes the first line; then the "
             "network answers every packet of the connection with a reset; the client sends a second line and its "
             "input ends.", "exit 1, one line on stderr", client_network_resets, "reset"),
    Scenario("stdin-eof", "client", "stdin ends without BYE", "the client sends one line and its input ends "
             "without `BYE`; the server is healthy.", "the echo, exit 0, FIN", client_stdin_ends),
    Scenario("port-in-use", "server", "port already in use", "another socket already listens on the address "
             "and port.", "exit 1, one line on stderr", server_port_in_use),
    Scenario("reset", "server", "client resets mid-stream", "a client sends two lines, and once their echo is "
             "back, closes with `SO_LINGER` 0 (a reset) without reading it; then a next client sends a line.",
             "keeps running, serves the next client", server_client_reset),
    Scenario("half-close", "server", "client half-closes", "a client sends 72 KiB of lines and a last line "
             "without a newline, shuts down its sending side, and reads to the end; then a next client sends "
             "a line.", "every byte back, then FIN; serves the next client", server_half_close),
    Scenario("client-vanishes", "server", "client's host vanishes", "a client sends a line and gets its echo; then "
             "every packet of its connection is dropped (no FIN, no RST); then a next client sends a line.",
             "keeps running; serves the next client if it serves clients at the same time",
             server_client_vanishes, "vanish"),
)


def scenarios_for(role: str) -> list[Scenario]:
    return [s for s in SCENARIOS if s.role == role]


def stage(scenario: Scenario, impl: Implementation) -> Cell:
    """Run one scenario; a harness failure becomes a cell that says so, never a pass."""
    if not impl.available:
        return Cell("", skipped=impl.reason or "unavailable")
    why = scenario.network and impair.why_unavailable(scenario.network)
    if why:
        return Cell("", skipped=why)
    try:
        return scenario.stage(impl)
    except Exception as e:  # the harness's own trouble: shown, never mistaken for a verdict
        return Cell("harness error", normalize(f"{type(e).__name__}: {e}"), ok=False)
