"""The faults of the error matrix and how each is staged: every one on loopback, with
ephemeral ports, one program at a time per fault, and every process killed at the end.

Each fault yields an Observation: how the program ended (exit status, killed by a signal, or
still running at the bound: a hang), the first line it wrote on stderr with the run's
incidentals (ports, pids, temporary paths) normalized, whether it crashed (a signal, a stack
trace or an uncaught exception on stderr), and for servers whether it still serves the next
client. Timings are chosen so that each verdict is the same on every run: the harness waits
for the program to reach the state a fault needs (the echo is back, the server is reading)
before it strikes.
"""

from __future__ import annotations

import re
import signal
import socket
import struct
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Callable

from conformance.manifest import Implementation, default_root
from conformance.net import echo_session, exchange, unused_port
from conformance.procs import Drain, ServerProcess, kill_group, spawn
from conformance.recorder import RecordingServer

HOST = "127.0.0.1"
UNKNOWN_HOST = "no-such-host.invalid"  # never resolves (RFC 6761)
EXIT_BOUND = 20.0  # a program that has not exited this long after its cue hangs
READY_BOUND = 20.0  # a JVM starting on a busy two-core machine
STEP_BOUND = 15.0  # waiting for an echo or a partner's report
SETTLE = 5.0  # how long a server may take to write its line about a session that ended (idle waiting)

# Marks of a crash on stderr, language by language: a stack trace or an uncaught exception.
CRASH_MARKS = (
    "Traceback (most recent call last)",  # Python
    "Exception in thread",  # Java
    "\tat ",  # a Java stack frame
    "panicked at",  # Rust
    "goroutine ",  # Go's panic dump
    "terminate called",  # C++ uncaught exception
    "Segmentation fault",
    "Unhandled 'error' event",  # Node.js
    "    at ",  # a Node.js stack frame
    "ERROR: LoadError",  # Julia
)


@dataclass
class Observation:
    """What one program did under one fault."""

    impl: str
    fault: str
    ended: str  # "exit 1", "killed by SIGPIPE", "hang", "no start", or "" when it was not meant to end
    stderr: str = ""  # first non-blank line, normalized; "" when there was none
    stdout: str = ""  # first line of stdout when it is not the transcript (a bad client's notice)
    crash: bool = False
    notes: list[str] = field(default_factory=list)  # short facts: "serves next", "bytes lost"
    ok: bool = True  # what the contract asks for
    skipped: str | None = None  # why it did not run


@dataclass(frozen=True)
class Fault:
    key: str
    title: str
    role: str
    expect: str  # what the contract asks, for the legend
    stage: Callable[[Implementation], Observation]


# --- normalizing what programs print --------------------------------------------------------

_FOREIGN_IPV4 = re.compile(r"\b(?!127\.)\d{1,3}(?:\.\d{1,3}){3}\b")  # a resolver, a gateway
_ADDRESS_PORT = re.compile(r"(\[[0-9A-Za-z:.%_-]*\]|\b\d{1,3}(?:\.\d{1,3}){3}|\bADDR|\blocalhost|"
                           + re.escape(UNKNOWN_HOST) + r"):\d{1,5}\b")
_PORT_WORD = re.compile(r"\b(port) \d{1,5}\b", re.I)
_PID = re.compile(r"\b(pid|PID)([ =:]?)\d+|\((node|deno):\d+\)")
_TEMP = re.compile(r"/tmp/[^\s'\":,)]+")


_RESOLVER = re.compile(r"(lookup \S+ on )\S+:PORT")


def normalize(line: str, root: str | None = None) -> str:
    """The run's incidentals replaced by names, so two runs print the same line."""
    root = root or str(default_root())
    line = line.replace(root, "<repo>")
    line = _TEMP.sub("TMP", line)
    line = _FOREIGN_IPV4.sub("ADDR", line)
    line = _ADDRESS_PORT.sub(lambda m: f"{m.group(1)}:PORT", line)
    line = _PORT_WORD.sub(lambda m: f"{m.group(1)} PORT", line)
    line = _RESOLVER.sub(r"\1ADDR:PORT", line)  # Go names the DNS server, which varies by machine
    line = _PID.sub(lambda m: f"({m.group(3)}:PID)" if m.group(3) else f"{m.group(1)}{m.group(2)}PID", line)
    line = " ".join(line.split())
    return line if len(line) <= 150 else line[:147] + "..."


def first_line(data: bytes) -> str:
    for line in data.decode("utf-8", errors="replace").splitlines():
        if line.strip():
            return normalize(line)
    return ""


def crashed(stderr: bytes) -> bool:
    text = stderr.decode("utf-8", errors="replace")
    return any(mark in text for mark in CRASH_MARKS)


def ending(returncode: int | None) -> str:
    if returncode is None:
        return "hang"
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit {returncode}"


# --- a client under a fault -----------------------------------------------------------------

class Interactive:
    """A program whose stdin the harness feeds step by step, its output drained meanwhile."""

    def __init__(self, argv: list[str], cwd, stdin=subprocess.PIPE):
        self.proc = spawn(argv, cwd=cwd, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.out = Drain(self.proc.stdout)
        self.err = Drain(self.proc.stderr)

    def send(self, data: bytes) -> None:
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except (OSError, ValueError):
            pass  # it stopped reading its input: what it does next is the verdict

    def close_stdin(self) -> None:
        if self.proc.stdin:
            try:
                self.proc.stdin.close()
            except OSError:
                pass

    def finish(self, bound: float = EXIT_BOUND) -> int | None:
        """Its exit status, or None when it had to be killed at the bound (a hang)."""
        try:
            status = self.proc.wait(timeout=bound)
        except subprocess.TimeoutExpired:
            status = None
        kill_group(self.proc)
        self.out.join(timeout=2)
        self.err.join(timeout=2)
        return status


def observe(impl: Implementation, fault: str, run: Interactive, status: int | None,
            expected_exit: int) -> Observation:
    stderr = run.err.value()
    stdout = run.out.value()
    ended = ending(status)
    crash = (status is not None and status < 0) or crashed(stderr)
    notice = next((line for line in stdout.decode("utf-8", errors="replace").splitlines()
                   if line.strip() and not line.startswith("Echoed: '")), "")
    ok = status == expected_exit and not crash and (expected_exit == 0 or bool(stderr.strip()))
    return Observation(impl.id, fault, ended, first_line(stderr), normalize(notice), crash, ok=ok)


def client(impl: Implementation, host: str, port: int) -> Interactive:
    return Interactive(impl.command(host, port), impl.directory)


def client_refused(impl: Implementation) -> Observation:
    run = client(impl, HOST, unused_port(HOST))
    run.send(b"hello\n")
    run.close_stdin()
    return observe(impl, "refused", run, run.finish(), 1)


def client_unknown_host(impl: Implementation) -> Observation:
    run = client(impl, UNKNOWN_HOST, 2000)
    run.send(b"hello\n")
    run.close_stdin()
    return observe(impl, "unknown-host", run, run.finish(), 1)


class Partner:
    """conformance/errormatrix/partner.py in its own process group: one connection, echoed."""

    def __init__(self, mode: str):
        self.run = Interactive([sys.executable, "-B", "-m", "conformance.errormatrix.partner", mode],
                               default_root(), stdin=subprocess.DEVNULL)
        self.run.out.wait_for(lambda d: b"\n" in d.data, STEP_BOUND)
        match = re.match(rb"listening on [0-9.]+:(\d+)\n", self.run.out.value())
        if not match:
            self.stop()
            raise RuntimeError(f"the partner server did not start: {self.run.err.value()!r}")
        self.port = int(match.group(1))

    def reported(self, word: bytes, bound: float = STEP_BOUND) -> bool:
        return self.run.out.wait_for(lambda d: word in d.data, bound) and word in self.run.out.value()

    def stop(self) -> None:
        kill_group(self.run.proc)


def client_after_first_echo(impl: Implementation, mode: str, fault: str) -> Observation:
    """The client sends one line and gets its echo; then the partner vanishes (SIGKILL, `echo`
    mode) or has already half-closed (`half-close` mode); then the client sends a second line
    and its input ends. The contract: one line on stderr, exit 1."""
    partner = Partner(mode)
    run = None
    try:
        run = client(impl, HOST, partner.port)
        run.send(b"one\n")
        partner.reported(b"half-closed" if mode == "half-close" else b"echoed 4")
        run.out.wait_for(lambda d: b"one" in d.data, STEP_BOUND)
        if mode == "echo":
            kill_group(partner.run.proc)  # SIGKILL: the kernel closes its socket, FIN first
        run.send(b"two\n")
        run.close_stdin()
        result = observe(impl, fault, run, run.finish(), 1)
        if run.out.value().count(b"Echoed: '") > 1:  # "two" never came back
            result.notes.append("false echo")
            result.ok = False
        return result
    finally:
        if run is not None:
            kill_group(run.proc)
        partner.stop()


def client_server_killed(impl: Implementation) -> Observation:
    return client_after_first_echo(impl, "echo", "killed")


def client_server_half_closes(impl: Implementation) -> Observation:
    return client_after_first_echo(impl, "half-close", "half-close")


def client_stdin_ends(impl: Implementation) -> Observation:
    """One line, then end of input without BYE: the echo printed, exit 0, and the connection
    closed with a FIN."""
    with RecordingServer(HOST) as server:
        run = client(impl, HOST, server.port)
        run.send(b"one\n")
        run.close_stdin()
        status = run.finish()
        result = observe(impl, "stdin-eof", run, status, 0)
        if run.out.value() != b"Echoed: 'one'\n":
            result.notes.append("no echo" if b"one" not in run.out.value() else "echo garbled")
            result.ok = False
        server.received(1, timeout=STEP_BOUND if status is not None else 1)
        record = server.connections[0] if server.connections else None
        if record is None:
            result.notes.append("never connected")
            result.ok = False
        elif not record.eof:
            result.notes.append("RST, no FIN" if record.error else "no FIN")
            result.ok = False
    return result


# --- a server under a fault -----------------------------------------------------------------

def server_port_in_use(impl: Implementation) -> Observation:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind((HOST, 0))
        taken.listen()
        run = Interactive(impl.command(HOST, taken.getsockname()[1]), impl.directory,
                          stdin=subprocess.DEVNULL)
        status = run.finish(READY_BOUND)
    result = observe(impl, "port-in-use", run, status, 1)
    if b"listening on" in run.out.value():
        result.notes.append("claims to listen")
        result.ok = False
    return result


def next_client_served(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=STEP_BOUND) as sock:
            return exchange(sock, b"next\n", timeout=STEP_BOUND) == b"next\n"
    except OSError:
        return False


def staged_server(impl: Implementation, fault: str, strike: Callable[[int], list[str]]) -> Observation:
    """Start the server, apply `strike` to it (which returns notes and leaves its session
    ended), then see whether a next client is served and whether the server still runs."""
    server = ServerProcess(impl, host=HOST, ready_timeout=READY_BOUND).start()
    try:
        if server.failure:
            return Observation(impl.id, fault, "no start", first_line(server.stderr),
                               crash=crashed(server.stderr), ok=False)
        notes = strike(server.port)
        served = next_client_served(server.port)
        settle = time.monotonic() + SETTLE
        while b"\n" not in server.stderr and server.alive() and time.monotonic() < settle:
            time.sleep(0.05)
        # A server that failed the next client may be on its way out (a JVM whose main thread
        # died still shuts down): give it the time to finish, so the verdict does not race it.
        status = server.proc.poll() if served or not server.exited_within(SETTLE) else server.proc.returncode
        stderr = server.stderr
        crash = (status is not None and status < 0) or crashed(stderr)
        if status is not None:
            notes.append("down")
        elif served:
            notes.append("serves next")
        else:
            notes.append("next not served")
        ok = status is None and served and not crash and not any(n in BAD_NOTES for n in notes)
        return Observation(impl.id, fault, ending(status) if status is not None else "", first_line(stderr),
                           crash=crash, notes=notes, ok=ok)
    finally:
        server.kill()


BAD_NOTES = {"bytes lost", "bytes changed", "extra bytes", "RST", "no close", "no echo"}


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


def server_client_reset(impl: Implementation) -> Observation:
    return staged_server(impl, "reset", reset_strike)


# Lines of text and a last line without its newline: any server that echoes bytes returns it
# unchanged; a line-based one adds a newline at the end.
HALF_CLOSE_PAYLOAD = b"".join(b"line %05d of the half-close payload\n" % i for i in range(2000)) + b"tail"


def half_close_strike(port: int) -> list[str]:
    """Send the payload while reading, shut down the sending side, read to the end."""
    session = echo_session(HOST, port, HALF_CLOSE_PAYLOAD, half_close=True, timeout=STEP_BOUND)
    got, sent = session.received, HALF_CLOSE_PAYLOAD
    if got == sent:
        notes = ["all bytes"]
    elif got.startswith(sent):
        notes = ["extra bytes"]
    elif sent.startswith(got):
        notes = ["bytes lost"]
    else:
        notes = ["bytes changed"]
    notes.append({"fin": "FIN", "reset": "RST", "timeout": "no close"}.get(session.outcome, session.outcome))
    return notes


def server_half_close(impl: Implementation) -> Observation:
    return staged_server(impl, "half-close", half_close_strike)


FAULTS = (
    Fault("refused", "server not running", "client", "exit 1, one line on stderr", client_refused),
    Fault("unknown-host", "unknown host", "client", "exit 1, one line on stderr", client_unknown_host),
    Fault("killed", "server killed mid-session", "client", "exit 1, one line on stderr",
          client_server_killed),
    Fault("half-close", "server half-closes early", "client", "exit 1, one line on stderr",
          client_server_half_closes),
    Fault("stdin-eof", "stdin ends without BYE", "client", "the echo, exit 0, FIN", client_stdin_ends),
    Fault("port-in-use", "port already in use", "server", "exit 1, one line on stderr", server_port_in_use),
    Fault("reset", "client resets mid-stream", "server", "keeps running, serves the next client",
          server_client_reset),
    Fault("half-close", "client half-closes", "server", "every byte back, then FIN; serves the next client",
          server_half_close),
)


def faults_for(role: str) -> list[Fault]:
    return [f for f in FAULTS if f.role == role]


def stage(fault: Fault, impl: Implementation) -> Observation:
    """Run one fault; a harness failure becomes an observation that says so, never a pass."""
    if not impl.available:
        return Observation(impl.id, fault.key, "", skipped=impl.reason or "unavailable")
    try:
        return fault.stage(impl)
    except Exception as e:  # the harness's own trouble: shown, never mistaken for a verdict
        return Observation(impl.id, fault.key, "harness error", normalize(f"{type(e).__name__}: {e}"),
                           ok=False)
