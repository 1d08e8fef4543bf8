"""Programs as processes: the one place the harness starts, feeds, watches, stops and judges a
program, whatever check it runs it for (a conformance case, a robustness case, an error-matrix
scenario, a benchmark, a stage check).

    server = Server(impl.command("::", 0), cwd=impl.directory).start()   # waits until ready
    done = run(client.command(HOST, server.port), cwd, stdin=b"hello\\n", timeout=30)
    print(done.ending, done.stdout)
    server.stop(signal.SIGTERM)

Every program starts in a session of its own, so it and anything it spawns share one process
group that `kill_group` ends with SIGKILL; `kill_all` is the last resort that leaves nothing
behind. Every program gets the same controlled environment (`environment()`), so a grade is
the same whatever the grader's shell holds: no PYTHONUNBUFFERED to hide a missing flush, one
locale.
"""

from __future__ import annotations

import os
import re
import resource
import select
import shlex
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from conformance import procfs, toolchains
from conformance.net import sandbox

READY_LINE = re.compile(rb"listening on (\[[0-9a-fA-F:.%a-zA-Z0-9_-]+\]|[0-9.]+):(\d+)")
READY_TIMEOUT = 10.0
# How long a server whose port is already listening gets to print its readiness line before the
# harness decides the line is not coming (it was never flushed, or never written).
LINE_GRACE = 1.5
TAIL_LINES = 15

# What a program inherits from the harness's environment; everything else is left out, so the
# grader's shell cannot change a verdict. Sanitizer options pass through for make test-asan.
KEPT = ("PATH", "HOME", "USER", "LOGNAME", "TMPDIR", "JAVA_HOME", "GOROOT", "GOPATH", "CARGO_HOME",
        "RUSTUP_HOME", "ASAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS", "LSAN_OPTIONS")
FIXED = {"LC_ALL": "C.UTF-8", "LANG": "C.UTF-8", "TZ": "UTC"}

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
DEATHS = {
    signal.SIGPIPE: "a write to a peer that had gone raised SIGPIPE, whose default action ends the process: "
                    "ignore SIGPIPE, or send with MSG_NOSIGNAL, and treat EPIPE as the end of that session only",
    signal.SIGSEGV: "a segmentation fault",
    signal.SIGABRT: "an abort (an uncaught exception or a failed assertion)",
}

_live: dict[int, subprocess.Popen] = {}
_live_lock = threading.Lock()
_stopping = threading.Event()


def environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment every program runs in: the kept variables, the lab's toolchains on
    PATH, a fixed locale and time zone, then `extra`."""
    env = {k: v for k, v in os.environ.items() if k in KEPT}
    env["PATH"] = toolchains.search_path()
    env.update(FIXED)
    env.update(extra or {})
    return env


def crashed(stderr: bytes) -> bool:
    text = stderr.decode("utf-8", errors="replace")
    return any(mark in text for mark in CRASH_MARKS)


@dataclass(frozen=True)
class Ending:
    """How a process ended: an exit status, a signal, or a hang (still running at the bound, so
    the harness killed it)."""
    status: int | None  # the exit status; None for a signal or a hang
    signal: int | None = None
    hang: float | None = None  # seconds waited before it was killed

    @staticmethod
    def of(returncode: int | None, waited: float | None = None) -> "Ending":
        if returncode is None:
            return Ending(None, hang=waited)
        if returncode < 0:
            return Ending(None, signal=-returncode)
        return Ending(returncode)

    @property
    def returncode(self) -> int | None:
        """subprocess's convention: negative for a signal, None for a hang."""
        return -self.signal if self.signal else self.status

    @property
    def signal_name(self) -> str:
        try:
            return signal.Signals(self.signal).name
        except ValueError:
            return f"signal {self.signal}"

    def __str__(self) -> str:
        if self.signal:
            return f"killed by {self.signal_name}"
        if self.status is None:
            return "hang" if self.hang is None else f"hang (still running after {self.hang:.0f} s)"
        return f"exit {self.status}"

    def death(self) -> str:
        """Why the process died, in words a student can act on."""
        if self.signal:
            return f"it was killed by {self.signal_name}: {DEATHS.get(signal.Signals(self.signal), 'a fatal signal')}"
        return f"it exited with status {self.status}"


def spawn(argv: Sequence[str], cwd, *, env: dict[str, str] | None = None, nofile: int | None = None,
          **kwargs) -> subprocess.Popen:
    """Start `argv` in a session of its own, in the controlled environment (or `env`), with its
    descriptor limit set to `nofile` (as `ulimit -n` would)."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
    preexec = limit if nofile else None
    with _live_lock:
        if _stopping.is_set():
            raise OSError("the harness is stopping: no more programs are started")
        proc = subprocess.Popen(list(argv), cwd=cwd, start_new_session=True, preexec_fn=preexec,
                                env=environment() if env is None else env, **kwargs)
        _live[proc.pid] = proc
    return proc


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the program's whole process group (stragglers included) and reap it.

    The group's id is the leader's pid. While the leader is alive or an unreaped zombie, that pid
    is ours and killpg is safe; once it is reaped, the kernel may give the pid to a new process
    (pids wrap quickly on a busy machine), which may lead a group of its own: another program
    the harness started, say. Then only the stragglers are killed, each by its own pid (their
    group keeps the id allocated while they live)."""
    try:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            for pid in procfs.group_members(proc.pid):
                if pid != proc.pid:
                    os.kill(pid, signal.SIGKILL)
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

    def wait_for(self, predicate: Callable[["Drain"], bool], timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: predicate(self) or self.eof, timeout)

    def value(self, start: int = 0) -> bytes:
        with self.changed:
            return bytes(self.data[start:])

    def __len__(self) -> int:
        with self.changed:
            return len(self.data)


@dataclass(frozen=True)
class Jail:
    """Run the program in the sandbox (conformance/net/sandbox.py): writable only `folder`, and
    `hide` out of its sight."""
    folder: Path
    hide: tuple[Path, ...] = ()


class Process:
    """A started program: its own process group, stdout and stderr drained as they come, stdin
    a pipe the harness can feed (or nothing); in a sandbox when given a Jail (`argv` stays the
    program's own command line, for the logs)."""

    def __init__(self, argv: Sequence[str], cwd, *, env: dict[str, str] | None = None,
                 nofile: int | None = None, interactive: bool = False, jail: Jail | None = None):
        self.argv = list(argv)
        self.cwd = cwd
        self.env = env
        self.nofile = nofile
        self.interactive = interactive
        self.jail = jail
        self.proc: subprocess.Popen | None = None
        self.out: Drain | None = None
        self.err: Drain | None = None
        self.started = 0.0

    def start(self) -> "Process":
        self.started = time.monotonic()
        argv = self.argv
        if self.jail is not None:
            argv = sandbox.wrap(argv, writable=self.jail.folder, cwd=Path(self.cwd), hide=list(self.jail.hide))
        self.proc = spawn(argv, self.cwd, env=self.env, nofile=self.nofile,
                          stdin=subprocess.PIPE if self.interactive else subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.out, self.err = Drain(self.proc.stdout), Drain(self.proc.stderr)
        return self

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def stdout(self) -> bytes:
        return self.out.value() if self.out else b""

    @property
    def stderr(self) -> bytes:
        return self.err.value() if self.err else b""

    def marks(self) -> tuple[int, int]:
        """How much stdout and stderr there is so far, to cut one step's share out later."""
        return (len(self.out), len(self.err)) if self.out else (0, 0)

    def since(self, marks: tuple[int, int]) -> tuple[bytes, bytes]:
        return (self.out.value(marks[0]), self.err.value(marks[1])) if self.out else (b"", b"")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _own(self, status: int | None) -> int | None:
        """The program's status as subprocess gives it (negative for a signal). In a sandbox the
        status is bwrap's, which reports a program killed by signal N as 128 + N."""
        if self.jail is not None and status is not None and 128 < status < 128 + signal.NSIG:
            return 128 - status
        return status

    @property
    def returncode(self) -> int | None:
        return self._own(self.proc.poll()) if self.proc else None

    def wait(self, timeout: float) -> int | None:
        """The exit status (negative for a signal), or None if it is still running after `timeout`."""
        try:
            return self._own(self.proc.wait(timeout=timeout))
        except subprocess.TimeoutExpired:
            return None

    def ending(self) -> Ending:
        return Ending.of(self.returncode)

    def feed(self, data: bytes) -> None:
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except (OSError, ValueError):
            pass  # it stopped reading its input: what it does next is the verdict

    def close_stdin(self) -> None:
        if self.proc and self.proc.stdin:
            try:
                self.proc.stdin.close()
            except OSError:
                pass

    def send_signal(self, sig: int) -> None:
        if self.proc.poll() is not None:
            return  # reaped: its pid may be someone else's now (see kill_group)
        if self.jail is not None:
            # bwrap dies of a SIGTERM meant for the program (its status would be bwrap's death,
            # not the program's exit): signal the program's processes, not bwrap's.
            members = [pid for pid in procfs.group_members(self.proc.pid) if sandbox.command_name(pid) != "bwrap"]
            for pid in members:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            if members:
                return
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 2.0) -> int | None:
        """Send `sig` to the process group; the exit status, or None if it did not exit in time.
        The group is killed afterwards either way."""
        self.send_signal(sig)
        status = self.wait(timeout)
        self.kill()
        return status

    def finish(self, bound: float) -> Ending:
        """Wait up to `bound` seconds for it to end by itself, then kill what is left: how it ended."""
        status = self.wait(bound)
        self.kill()
        return Ending.of(status, bound)

    def kill(self) -> None:
        if self.proc is None:
            return
        kill_group(self.proc)
        self.out.join(timeout=2)
        self.err.join(timeout=2)

    def describe(self, headline: str) -> str:
        return (f"{headline}\n  command: {shlex.join(self.argv)}\n  cwd: {self.cwd}\n"
                f"  stdout:\n{tail(self.stdout)}\n  stderr:\n{tail(self.stderr)}")


# --- a server -----------------------------------------------------------------------------------

class Server(Process):
    """A server: started, then ready when it prints `listening on <host>:<port>`, or, when
    `line` is False (a program as written, which announces nothing) or the line never comes,
    when its process group holds a listening socket that accepts a connection.

    After start(): `port` is where it listens (None when it is not usable), `failure` says why
    it is not usable, `ready_line` is the line it printed (None if none), `line_problem` why the
    line was not what the contract asks (the server may still be usable by its port)."""

    def __init__(self, argv: Sequence[str], cwd, *, ready_timeout: float = READY_TIMEOUT, line: bool = True,
                 expected_port: int | None = None, **kwargs):
        super().__init__(argv, cwd, **kwargs)
        self.ready_timeout = ready_timeout
        self.line = line
        self.expected_port = expected_port  # the port a program as written listens on (2000)
        self.port: int | None = None
        self.ready_line: bytes | None = None
        self.ready_seconds: float | None = None
        self.failure: str | None = None
        self.line_problem: str | None = None
        self.listening_without_line = False
        self.retired = False  # the harness stopped it on purpose (to free its fixed port)

    def start(self) -> "Server":
        try:
            super().start()
        except OSError as e:
            self.failure = f"could not be started: {e}"
            return self
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = self.started + self.ready_timeout
        seen_listening: float | None = None
        while True:
            now = time.monotonic()
            if self.line and self.out.wait_for(lambda d: b"\n" in d.data, min(0.05, max(0.0, deadline - now))) \
                    and b"\n" in self.stdout:
                self._read_line()
                return
            if not self.line:
                time.sleep(0.05)
            if self.out.eof and not self.line and self.alive():
                pass  # a program as written may close its stdout: only its port counts
            elif self.out.eof or not self.alive():
                self._died_before_ready()
                return
            listening = procfs.listening_ports(self.proc.pid)
            if listening and seen_listening is None:
                seen_listening = time.monotonic()
            if listening and (not self.line or time.monotonic() - seen_listening >= LINE_GRACE):
                self._ready_by_port(listening)
                return
            if time.monotonic() >= deadline:
                out = self.stdout
                what = (f"printed {shorten(out)} but no complete line" if out else "printed no readiness line")
                self.failure = f"{what} and listened on no port within {self.ready_timeout:.0f} s"
                return

    def _read_line(self) -> None:
        line = self.stdout.split(b"\n", 1)[0]
        self.ready_line = line
        self.ready_seconds = time.monotonic() - self.started
        match = READY_LINE.fullmatch(line.rstrip(b"\r"))
        if not match:
            self.line_problem = (f"its first stdout line is {line!r}; the contract wants exactly "
                                 f"'listening on <host>:<port>' (IPv6 in brackets)")
        elif int(match.group(2)) == 0:
            self.line_problem = "it announced port 0: print the port actually bound, not the one asked for"
        else:
            self.port = int(match.group(2))
            return
        listening = procfs.listening_ports(self.proc.pid)
        if listening:
            self.port = self._pick(listening)
        else:
            self.failure = self.line_problem

    def _ready_by_port(self, listening: set[int]) -> None:
        self.port = self._pick(listening)
        self.ready_seconds = time.monotonic() - self.started
        self.listening_without_line = True
        if not self.line:  # a program as written: the line is looked for, not waited for
            time.sleep(0.1)
            line = self.stdout.split(b"\n", 1)[0] if b"\n" in self.stdout else None
            self.ready_line = line
            if line is None or not READY_LINE.fullmatch(line.rstrip(b"\r")):
                self.line_problem = (f"it listens on port {self.port}; it printed "
                                     + (f"{line!r} rather than" if line else "no") + " `listening on <host>:<port>` "
                                     "(not required of a program as written, which gets its port by listening)")
        elif self.line:
            self.line_problem = (f"it listens on port {self.port} but printed no readiness line within "
                                 f"{LINE_GRACE:g} s of listening: print `listening on <host>:<port>` and "
                                 f"flush stdout (a pipe is block-buffered: without a flush the line waits "
                                 f"in the buffer)")

    def _pick(self, listening: set[int]) -> int:
        if self.expected_port in listening:
            return self.expected_port
        return min(listening)

    def _died_before_ready(self) -> None:
        status = self.wait(1.0)
        self.err.wait_for(lambda d: False, 0.5)  # let the last of stderr arrive
        ending = Ending.of(status)
        self.failure = (f"exited ({ending}) before it was ready" if status is not None
                        else "closed its stdout before it was ready")


# --- a program run to its end ----------------------------------------------------------------------

@dataclass
class Run:
    """A program run to its end with its input piped in: how it ended and what it wrote."""
    argv: list[str]
    ending: Ending
    stdout: bytes
    stderr: bytes
    seconds: float
    killed: str | None = None  # why the harness killed it, None when it ended by itself

    @property
    def returncode(self) -> int | None:
        return self.ending.returncode

    def describe(self, headline: str) -> str:
        return (f"{headline}\n  command: {shlex.join(self.argv)}\n  {self.ending} after {self.seconds:.1f} s\n"
                f"  stdout ({len(self.stdout)} bytes): {shorten(self.stdout)}\n  stderr:\n{tail(self.stderr)}")


def run(argv: Sequence[str], cwd, stdin: bytes = b"", *, timeout: float = 30.0, stall: float | None = None,
        progress: Callable[[], object] | None = None, env: dict[str, str] | None = None,
        jail: Jail | None = None) -> Run:
    """Run a program with `stdin` piped in, until it exits or is killed: after `timeout` seconds,
    or after `stall` seconds in which neither its output nor `progress()` moved.

    Stdin is fed from its own thread, like a shell pipeline, not by Popen.communicate: a program
    may splice() its socket into its stdout pipe (Rust's io::copy does), which holds the pipe's
    lock while it waits for the socket, so a single thread that both reads stdout and writes
    stdin can block on that lock and starve it of input: a deadlock."""
    started = time.monotonic()
    process = Process(argv, cwd, env=env, interactive=True, jail=jail).start()
    threading.Thread(target=_feed, args=(process.proc.stdin, stdin), daemon=True).start()
    killed = None
    try:
        why = _wait(process.proc, started + timeout, stall,
                    lambda: (len(process.out), len(process.err), progress and progress()))
        if why == "timeout":
            killed = f"did not finish within {timeout:.0f} s"
        elif why == "stall":
            killed = f"made no progress for {stall:.0f} s (no output, nothing sent)"
    finally:
        process.kill()  # stragglers too; their pipes close, so the drains end
    seconds = time.monotonic() - started
    status = None if killed else process.returncode
    return Run(process.argv, Ending.of(status, seconds), process.stdout, process.stderr, seconds, killed)


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
    except OSError:  # it stopped reading (BYE, an error): not ours to judge here
        pass
    finally:
        try:
            pipe.close()
        except OSError:
            pass
