"""Programs under test as processes: each starts in its own session, so it and anything it
spawns share one process group that `kill_group` ends with SIGKILL; `kill_all` is the last
resort that leaves nothing behind.

    server = ServerProcess(impl).start()      # waits for `listening on ...`
    if server.failure: ...                    # a message that teaches
    result = run_client(impl, "127.0.0.1", server.port, b"hello\\n")
    server.kill()
"""

from __future__ import annotations

import os
import re
import select
import shlex
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from conformance.manifest import Implementation

READY_LINE = re.compile(rb"listening on (\[[0-9a-f:.]+\]|[0-9.]+):(\d+)")
READY_TIMEOUT = 10.0
CLIENT_TIMEOUT = 20.0
TAIL_LINES = 15

_live: dict[int, subprocess.Popen] = {}
_live_lock = threading.Lock()
_stopping = threading.Event()


def spawn(argv: list[str], cwd, **kwargs) -> subprocess.Popen:
    with _live_lock:
        if _stopping.is_set():
            raise OSError("the harness is stopping: no more programs are started")
        proc = subprocess.Popen(argv, cwd=cwd, start_new_session=True, **kwargs)
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


def kill_all(final: bool = False) -> None:
    """Last resort at the end of a run: nothing the harness started may outlive it. With
    `final`, nothing more may start either (threads still running cases find out at once)."""
    with _live_lock:
        if final:
            _stopping.set()
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


class Drain(threading.Thread):
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

    def value(self, start: int = 0) -> bytes:
        with self.changed:
            return bytes(self.data[start:])

    def __len__(self) -> int:
        with self.changed:
            return len(self.data)


# --- a server ----------------------------------------------------------------------------------

class ServerProcess:
    """A server started with its run template, host `::` (its default) and port 0. `options`
    go through the template's {options}; `spawn_options` (env, preexec_fn) reach Popen."""

    def __init__(self, impl: Implementation, host: str = "::", ready_timeout: float = READY_TIMEOUT,
                 port: int = 0, options: tuple[str, ...] = (), **spawn_options):
        self.impl = impl
        self.argv = impl.command(host, port, options)
        self.spawn_options = spawn_options
        self.ready_timeout = ready_timeout
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self.ready_line: bytes | None = None
        self.ready_seconds: float | None = None
        self.failure: str | None = None  # why it is not usable
        self._out: Drain | None = None
        self._err: Drain | None = None

    def start(self) -> "ServerProcess":
        """Start the server and wait for its readiness line; check `failure` before use."""
        try:
            self.proc = spawn(self.argv, cwd=self.impl.directory, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, **self.spawn_options)
        except OSError as e:
            self.failure = self.describe(f"{self.impl.id} could not be started: {e}")
            return self
        self._out = Drain(self.proc.stdout)
        self._err = Drain(self.proc.stderr)
        self.wait_ready(self.ready_timeout)
        return self

    @property
    def stdout(self) -> bytes:
        return self._out.value() if self._out else b""

    @property
    def stderr(self) -> bytes:
        return self._err.value() if self._err else b""

    def output_marks(self) -> tuple[int, int]:
        """How much stdout and stderr there is so far, to cut one case's share out later."""
        return (len(self._out) if self._out else 0, len(self._err) if self._err else 0)

    def output_since(self, marks: tuple[int, int]) -> tuple[bytes, bytes]:
        if not self._out:
            return b"", b""
        return self._out.value(marks[0]), self._err.value(marks[1])

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def exited_within(self, seconds: float) -> bool:
        try:
            self.proc.wait(timeout=seconds)
            return True
        except subprocess.TimeoutExpired:
            return False

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


# --- a client run --------------------------------------------------------------------------------

@dataclass
class ClientResult:
    impl: Implementation
    argv: list[str]
    returncode: int
    stdout: bytes
    stderr: bytes
    seconds: float
    timeout: str | None = None  # why it was killed, None when it exited by itself

    def describe(self, headline: str) -> str:
        return (f"{headline}\n  command: {shlex.join(self.argv)}\n  exit status: {self.returncode}"
                f" after {self.seconds:.1f} s\n  stdout ({len(self.stdout)} bytes): {shorten(self.stdout)}\n"
                f"  stderr:\n{tail(self.stderr)}")


def run_client(impl: Implementation, host: str, port: int, stdin: bytes, options: tuple[str, ...] = (),
               timeout: float = CLIENT_TIMEOUT, stall: float | None = None, progress=None,
               cwd: Path | None = None) -> ClientResult:
    """Run a client with `stdin` piped in, until it exits or is killed: after `timeout` seconds,
    or after `stall` seconds in which neither its output nor `progress()` moved.

    Stdin is fed from its own thread, like a shell pipeline, not by Popen.communicate: a
    client may splice() its socket into its stdout pipe (Rust's io::copy does), which holds
    the pipe's lock while it waits for the socket, so a single thread that both reads stdout
    and writes stdin can block on that lock and starve the client of input: a deadlock."""
    argv = impl.command(host, port, options)
    started = time.monotonic()
    proc = spawn(argv, cwd=cwd or impl.directory, stdin=subprocess.PIPE,
                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = Drain(proc.stdout), Drain(proc.stderr)
    threading.Thread(target=_feed, args=(proc.stdin, stdin), daemon=True).start()
    try:
        why = _wait(proc, started + timeout, stall, lambda: (len(out), len(err), progress and progress()))
        if why == "timeout":
            why = f"did not finish within {timeout:.0f} s"
        elif why == "stall":
            why = f"made no progress for {stall:.0f} s (no output, nothing sent)"
    finally:
        kill_group(proc)  # stragglers too; their pipes close, so the drains end
    out.join(timeout=2)
    err.join(timeout=2)
    return ClientResult(impl, argv, proc.returncode, out.value(), err.value(),
                        time.monotonic() - started, why)


def _wait(proc: subprocess.Popen, deadline: float, stall: float | None, measure) -> str | None:
    """None when the process exits, "timeout" or "stall" when it must be killed."""
    try:
        pidfd = os.pidfd_open(proc.pid)  # wakes us the moment the process exits
    except (AttributeError, OSError):
        pidfd = None
    try:
        last, moved = measure(), time.monotonic()
        while proc.poll() is None:
            if pidfd is not None:
                select.select([pidfd], [], [], 0.1)
            else:
                time.sleep(0.02)
            now = time.monotonic()
            current = measure()
            if current != last:
                last, moved = current, now
            if now >= deadline:
                return "timeout"
            if stall is not None and now - moved >= stall:
                return "stall"
        return None
    finally:
        if pidfd is not None:
            os.close(pidfd)


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
