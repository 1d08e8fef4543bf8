"""Helpers for driving lab programs from tests: process groups that are always killed, a
server under test, a client run, a 1 MiB echo session, and a small in-test echo server.

Every program starts in its own session (start_new_session=True), so it and anything it spawns
share one process group that `kill_group` ends with SIGKILL, even when a test fails.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import conformance
from conformance.diff import mismatch
from conformance.manifest import Implementation

READY_LINE = re.compile(rb"listening on (\[[0-9a-f:.]+\]|[0-9.]+):(\d+)")
READY_TIMEOUT = 10.0
CLIENT_TIMEOUT = 20.0
TAIL_LINES = 15

_live: dict[int, subprocess.Popen] = {}
_live_lock = threading.Lock()


# --- the shared byte vectors (conformance/vectors.json, also used by the C++ tests) ----------

VECTORS_FILE = Path(conformance.__file__).parent / "vectors.json"
MASK64 = (1 << 64) - 1


def splitmix64(seed: int, length: int) -> bytes:
    """The vectors' generator, as vectors.json describes it."""
    out = bytearray()
    state = seed
    while len(out) < length:
        state = (state + 0x9E3779B97F4A7C15) & MASK64
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        z ^= z >> 31
        out += z.to_bytes(8, "little")
    return bytes(out[:length])


def load_vectors(path: Path = VECTORS_FILE) -> dict[str, bytes]:
    """Every vector by name, checked against its length and sha256."""
    vectors = {}
    for entry in json.loads(path.read_text())["vectors"]:
        if "hex" in entry:
            data = bytes.fromhex(entry["hex"])
        else:
            data = splitmix64(entry["splitmix64"]["seed"], entry["splitmix64"]["length"])
        if len(data) != entry["length"] or hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise ValueError(f"{path}: vector {entry['name']!r} does not match its length and sha256")
        vectors[entry["name"]] = data
    return vectors


# --- processes -------------------------------------------------------------------------------

def spawn(argv: list[str], cwd, **kwargs) -> subprocess.Popen:
    proc = subprocess.Popen(argv, cwd=cwd, start_new_session=True, **kwargs)
    with _live_lock:
        _live[proc.pid] = proc
    return proc


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the program's whole process group (stragglers included) and reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
    with _live_lock:
        _live.pop(proc.pid, None)


def kill_all() -> None:
    """Last resort at the end of the session: nothing a test started may outlive it."""
    with _live_lock:
        procs = list(_live.values())
    for proc in procs:
        kill_group(proc)


def tail(data: bytes, lines: int = TAIL_LINES) -> str:
    text = data.decode("utf-8", errors="replace").rstrip("\n")
    if not text:
        return "    (empty)"
    kept = text.split("\n")[-lines:]
    return "\n".join("    " + line[:300] for line in kept)


def shorten(data: bytes, limit: int = 200) -> str:
    text = repr(data[:limit])
    return text + (f"... ({len(data)} bytes)" if len(data) > limit else "")


class _Drain(threading.Thread):
    """Reads a pipe to EOF in the background so the program never blocks on a full pipe."""

    def __init__(self, pipe):
        super().__init__(daemon=True)
        self.pipe = pipe
        self.data = bytearray()
        self.changed = threading.Condition()
        self.eof = False
        self.start()

    def run(self) -> None:
        fd = self.pipe.fileno()
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            with self.changed:
                if chunk:
                    self.data += chunk
                else:
                    self.eof = True
                self.changed.notify_all()
            if not chunk:
                return

    def wait_for(self, predicate, timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: predicate(self) or self.eof, timeout)

    def value(self) -> bytes:
        with self.changed:
            return bytes(self.data)


# --- the server under test -------------------------------------------------------------------

class ServerProcess:
    """A server started with its run template, host `::` and port 0 (its default host)."""

    def __init__(self, impl: Implementation):
        self.impl = impl
        self.argv = impl.command("::", 0)
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self.ready_line: bytes | None = None
        self.ready_seconds: float | None = None
        self.failure: str | None = None  # why it is not usable, for the readiness test to report
        self._out = self._err = None

    def start(self) -> "ServerProcess":
        """Start the server and wait for its readiness line; check `failure` before use."""
        try:
            self.proc = spawn(self.argv, cwd=self.impl.directory, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except OSError as e:
            self.failure = self.describe(f"{self.impl.id} could not be started: {e}")
            return self
        self._out = _Drain(self.proc.stdout)
        self._err = _Drain(self.proc.stderr)
        self.wait_ready()
        return self

    @property
    def stdout(self) -> bytes:
        return self._out.value() if self._out else b""

    @property
    def stderr(self) -> bytes:
        return self._err.value() if self._err else b""

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        """Wait for the readiness line; on failure set `failure` to a message that teaches."""
        started = time.monotonic()
        self._out.wait_for(lambda d: b"\n" in d.data, timeout)
        out = self.stdout
        if b"\n" not in out:
            if self._out.eof:  # stdout closed: it is exiting; let its status and stderr arrive
                try:
                    self.proc.wait(timeout=1)
                except subprocess.TimeoutExpired:
                    pass
                self._err.wait_for(lambda d: False, 1)
            status = self.proc.poll()
            if status is not None:
                what = f"exited with status {status} before printing its readiness line"
            elif out:
                what = f"printed {shorten(out)} but no complete line within {timeout:.0f} s"
            else:
                what = f"printed no readiness line within {timeout:.0f} s"
            self.failure = self.describe(f"{self.impl.id} {what}")
            return
        line = out.split(b"\n", 1)[0]
        self.ready_line = line
        match = READY_LINE.fullmatch(line)
        if not match:
            self.failure = self.describe(
                f"{self.impl.id}'s first stdout line is {line!r}; the contract wants exactly "
                f"'listening on <host>:<port>' (IPv6 in brackets), matching {READY_LINE.pattern.decode()}")
            return
        self.port = int(match.group(2))
        if self.port == 0:
            self.failure = self.describe(
                f"{self.impl.id} announced port 0: print the port actually bound, not the one asked for")
            return
        self.ready_seconds = time.monotonic() - started

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 2.0) -> int | None:
        """Send `sig` to the process group; the exit status, or None if it did not exit in time.
        The group is killed afterwards either way."""
        try:
            os.killpg(self.proc.pid, sig)
            status = self.proc.wait(timeout=timeout)
        except ProcessLookupError:
            status = self.proc.poll()
        except subprocess.TimeoutExpired:
            status = None
        self.kill()
        return status

    def kill(self) -> None:
        if self.proc is None:
            return
        kill_group(self.proc)
        self._out.join(timeout=2)
        self._err.join(timeout=2)

    def describe(self, headline: str) -> str:
        return (f"{headline}\n  command: {shlex.join(self.argv)}\n  cwd: {self.impl.directory}\n"
                f"  stdout:\n{tail(self.stdout)}\n  stderr:\n{tail(self.stderr)}")


# --- a client run ----------------------------------------------------------------------------

@dataclass
class ClientResult:
    impl: Implementation
    argv: list[str]
    returncode: int
    stdout: bytes
    stderr: bytes
    seconds: float

    def describe(self, headline: str) -> str:
        return (f"{headline}\n  command: {shlex.join(self.argv)}\n  exit status: {self.returncode}"
                f" after {self.seconds:.1f} s\n  stdout ({len(self.stdout)} bytes): {shorten(self.stdout)}\n"
                f"  stderr:\n{tail(self.stderr)}")


def run_client(impl: Implementation, host: str, port: int, stdin: bytes,
               options: tuple[str, ...] = (), timeout: float = CLIENT_TIMEOUT) -> ClientResult:
    """Run a client with `stdin` piped in; fail the test if it does not finish in time.

    Stdin is fed from its own thread, like a shell pipeline, not by Popen.communicate: a
    client may splice() its socket into its stdout pipe (Rust's io::copy does), which holds
    the pipe's lock while it waits for the socket, so a single thread that both reads stdout
    and writes stdin can block on that lock and starve the client of input: a deadlock."""
    argv = impl.command(host, port, options)
    started = time.monotonic()
    proc = spawn(argv, cwd=impl.directory, stdin=subprocess.PIPE,
                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = _Drain(proc.stdout), _Drain(proc.stderr)
    threading.Thread(target=_feed, args=(proc.stdin, stdin), daemon=True).start()
    try:
        proc.wait(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        timed_out = True
    finally:
        kill_group(proc)  # stragglers too; their pipes close, so the drains end
    out.join(timeout=2)
    err.join(timeout=2)
    result = ClientResult(impl, argv, proc.returncode, out.value(), err.value(),
                          time.monotonic() - started)
    if timed_out:
        pytest.fail(result.describe(f"{impl.id} did not finish within {timeout:.0f} s "
                                    f"(killed; a deadlock or a missed end of input?)"), pytrace=False)
    return result


def _feed(pipe, data: bytes) -> None:
    try:
        pipe.write(data)
    except OSError:  # the client stopped reading (BYE, an error): not ours to judge here
        pass
    finally:
        try:
            pipe.close()
        except OSError:
            pass


# --- talking to a server ---------------------------------------------------------------------

@dataclass
class Session:
    received: bytes
    outcome: str  # "fin" (orderly close), "reset", "timeout", "complete" (no half-close)
    write_error: OSError | None
    seconds: float


def echo_session(host: str, port: int, payload: bytes, half_close: bool = True,
                 timeout: float = 15.0) -> Session:
    """Send `payload` from a writer thread while reading the echo. With `half_close`, shut
    down the sending side after the payload and read to EOF; without it, read back len(payload)
    bytes and close."""
    started = time.monotonic()
    deadline = started + timeout
    sock = socket.create_connection((host, port), timeout=5)
    sock.settimeout(timeout)
    write_error: list[OSError] = []

    def write() -> None:
        try:
            sock.sendall(payload)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except OSError as e:
            write_error.append(e)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    received = bytearray()
    outcome = "fin" if half_close else "complete"
    try:
        while half_close or len(received) < len(payload):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                outcome = "timeout"
                break
            sock.settimeout(remaining)
            try:
                chunk = sock.recv(1 << 16)
            except ConnectionResetError:
                outcome = "reset"
                break
            except socket.timeout:
                outcome = "timeout"
                break
            if not chunk:
                if not half_close:
                    outcome = "fin"
                break
            received += chunk
        writer.join(timeout=1)
        if writer.is_alive():  # still blocked in sendall: unblock it before closing
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            writer.join(timeout=2)
    finally:
        sock.close()
    return Session(bytes(received), outcome, write_error[0] if write_error else None,
                   time.monotonic() - started)


def exchange(sock: socket.socket, data: bytes, timeout: float = 3.0) -> bytes:
    """Send `data` and read until as many bytes came back (or EOF/timeout)."""
    sock.settimeout(timeout)
    sock.sendall(data)
    got = bytearray()
    try:
        while len(got) < len(data):
            chunk = sock.recv(65536)
            if not chunk:
                break
            got += chunk
    except socket.timeout:
        pass
    return bytes(got)


def unused_port(host: str = "127.0.0.1") -> int:
    """A port that was just bound and released, so connecting to it is refused."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


# --- the in-test echo server for clients -----------------------------------------------------

@dataclass
class Connection:
    received: bytearray = field(default_factory=bytearray)
    done: threading.Event = field(default_factory=threading.Event)
    error: OSError | None = None


class EchoServer:
    """A correct RFC 862 echo server on a loopback address, recording what each connection
    sent. Closes with FIN after the client's half-close."""

    def __init__(self, host: str = "127.0.0.1"):
        self.host = host
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_STREAM)
        self._sock.bind((host, 0))
        self._sock.listen(16)
        self._sock.settimeout(0.1)
        self.port = self._sock.getsockname()[1]
        self.connections: list[Connection] = []
        self._open: list[socket.socket] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            record = Connection()
            self.connections.append(record)
            self._open.append(conn)
            threading.Thread(target=self._serve, args=(conn, record), daemon=True).start()

    @staticmethod
    def _serve(conn: socket.socket, record: Connection) -> None:
        conn.settimeout(30)
        try:
            while chunk := conn.recv(65536):
                record.received += chunk
                conn.sendall(chunk)
            conn.shutdown(socket.SHUT_WR)
        except OSError as e:
            record.error = e
        finally:
            conn.close()
            record.done.set()

    def received(self, count: int = 1, timeout: float = 5.0) -> list[bytes]:
        """What each connection sent, once at least `count` connections came and all of them
        closed (or after `timeout`)."""
        deadline = time.monotonic() + timeout
        while len(self.connections) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        for record in list(self.connections):
            record.done.wait(max(0.0, deadline - time.monotonic()))
        return [bytes(r.received) for r in self.connections]

    def close(self) -> None:
        self._stopping.set()
        try:
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes a blocked accept() on Linux
        except OSError:
            pass
        self._thread.join(timeout=2)
        self._sock.close()
        for conn in self._open:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


# --- assertions ------------------------------------------------------------------------------

def check_bytes(expected: bytes, actual: bytes, what: str, context: str = "", lines: bool = False) -> None:
    """Fail with lengths, first differing offset and a hex window when the bytes differ."""
    message = mismatch(expected, actual, what=what, lines=lines)
    if message:
        pytest.fail(message + ("\n" + context if context else ""), pytrace=False)
