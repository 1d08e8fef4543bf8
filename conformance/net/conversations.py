"""Loopback conversations whose packet ladders are known (an orderly FIN close, a close by RST,
a half-close, a 1 MiB stream), captured in a private namespace of their own:

    python3 -m conformance.net.conversations fin trace.pcap      # prints {"port": ..., ...}

The tests of this package run them in a fresh process, so that the test process itself stays on
the host's network; `python_command` builds that process's command line, as another user when
asked (which needs root)."""

from __future__ import annotations

import functools
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

NOBODY = 65534
ROOT = Path(__file__).resolve().parents[2]


def fin_close(port_box: list, host: str = "127.0.0.1") -> None:
    """The client sends a line, reads the echo and closes; the server closes after EOF."""
    with _server(port_box, host) as listener:
        client = socket.create_connection((host, port_box[0]))
        conn, _ = listener.accept()
        client.sendall(b"hello\n")
        conn.sendall(conn.recv(64))
        client.recv(64)
        client.close()
        conn.recv(64)  # EOF
        conn.close()


def rst_close(port_box: list) -> None:
    """The server reads a line and closes with SO_LINGER 0: a RST instead of a FIN."""
    with _server(port_box) as listener:
        client = socket.create_connection(("127.0.0.1", port_box[0]))
        conn, _ = listener.accept()
        client.sendall(b"hello\n")
        conn.recv(64)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        conn.close()
        client.settimeout(2)
        try:
            client.recv(64)
        except ConnectionResetError:
            pass
        client.close()


def half_close(port_box: list) -> None:
    """The client sends and shuts down its sending side; the server reads to EOF, then echoes
    everything and closes."""
    with _server(port_box) as listener:
        client = socket.create_connection(("127.0.0.1", port_box[0]))
        conn, _ = listener.accept()
        client.sendall(b"one\ntwo\n")
        client.shutdown(socket.SHUT_WR)
        got = bytearray()
        while chunk := conn.recv(64):
            got += chunk
        conn.sendall(got)
        conn.close()
        while client.recv(64):
            pass
        client.close()


def stream(port_box: list, size: int = 1 << 20) -> None:
    """The client writes `size` bytes while reading the echo, then half-closes."""
    with _server(port_box) as listener:
        client = socket.create_connection(("127.0.0.1", port_box[0]))
        conn, _ = listener.accept()

        def echo() -> None:
            while chunk := conn.recv(1 << 16):
                conn.sendall(chunk)
            conn.close()

        echoer = threading.Thread(target=echo)
        echoer.start()

        def write() -> None:
            client.sendall(b"x" * size)
            client.shutdown(socket.SHUT_WR)

        writer = threading.Thread(target=write)
        writer.start()
        while client.recv(1 << 16):
            pass
        writer.join()
        echoer.join()
        client.close()


SCENARIOS = {"fin": fin_close, "fin6": lambda box: fin_close(box, "::1"), "rst": rst_close,
             "half-close": half_close, "stream": stream}


class _server:
    def __init__(self, port_box: list, host: str = "127.0.0.1") -> None:
        self.port_box = port_box
        self.host = host

    def __enter__(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self.listener = socket.create_server((self.host, 0), family=family)
        self.port_box.append(self.listener.getsockname()[1])
        return self.listener

    def __exit__(self, *exc) -> None:
        self.listener.close()


@functools.cache
def interpreter_for(uid: int | None) -> str:
    """A Python that user `uid` may run: this one, unless it lives where that user cannot go."""
    if uid is None or _runs_as(sys.executable, uid):
        return sys.executable
    for candidate in ("/usr/bin/python3", shutil.which("python3") or ""):
        if candidate and _runs_as(candidate, uid):
            return candidate
    raise RuntimeError(f"no Python interpreter that uid {uid} may run")


def python_command(code: str, *, as_user: int | None = None) -> list[str]:
    """The command line that runs `code` in a fresh Python, as user `as_user` if given."""
    argv = [interpreter_for(as_user), "-c", code]
    if as_user is not None:
        argv = ["setpriv", f"--reuid={as_user}", f"--regid={as_user}", "--clear-groups", *argv]
    return argv


def environment() -> dict:
    """The environment for such a process: this repository importable, no namespace marker."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONDONTWRITEBYTECODE="1")
    env.pop("ECHO_LAB_NAMESPACE", None)
    return env


_PROBE = """
import json
from conformance.net import capture, impair, namespace, sandbox
found = {"namespace": namespace.why_unavailable()}
if namespace.enter():
    found["capture"] = capture.why_unavailable()
    found["sandbox"] = sandbox.why_unavailable()
    found.update({name: impair.why_unavailable(name) for name in impair.FEATURES})
print(json.dumps(found))
"""


@functools.cache
def reasons(as_user: int | None = None) -> dict[str, str | None]:
    """Why each feature (namespace, capture, sandbox and the impairments) is unavailable to a
    fresh process of `as_user`, None where it works; asked of a child, which enters a namespace
    of its own to find out."""
    done = subprocess.run(python_command(_PROBE, as_user=as_user), capture_output=True,
                          text=True, timeout=30, env=environment())
    if done.returncode != 0:
        return {"namespace": f"the probe failed: {done.stderr.strip()[-300:]}"}
    found = json.loads(done.stdout)
    blocked = found["namespace"]
    for feature in ("capture", "sandbox", "vanish", "unreachable", "reset", "slow_link"):
        found.setdefault(feature, f"no private namespace: {blocked}")
    return found


def _runs_as(interpreter: str, uid: int) -> bool:
    if uid == os.getuid():
        return True
    # Inside a user namespace another user's directories are judged by their mode bits alone,
    # so the interpreter and every folder above it must be open to others.
    real = Path(os.path.realpath(interpreter))
    try:
        if any(not (folder.stat().st_mode & 0o001) for folder in real.parents) or not (
                real.stat().st_mode & 0o001):
            return False
    except OSError:
        return False
    try:
        done = subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                               interpreter, "-c", "import socket"], capture_output=True,
                              timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def capture_scenario(name: str, pcap: Path, ring: bool = True) -> dict:
    """Run scenario `name` in a fresh process with a namespace of its own, captured into
    `pcap` (through the receive queue if not `ring`); what it printed (the server's port, the
    packet count, drops, whether the ring was used, start and stop times)."""
    extra = [] if ring else ["--no-ring"]
    done = subprocess.run([sys.executable, "-m", "conformance.net.conversations", name, str(pcap),
                           *extra],
                          capture_output=True, text=True, timeout=60, env=environment())
    if done.returncode != 0:
        raise RuntimeError(f"scenario {name} failed: {done.stderr.strip()[-500:]}")
    return json.loads(done.stdout)


def main(argv: list[str]) -> int:
    from conformance.net import capture, namespace

    ring = "--no-ring" not in argv
    argv = [arg for arg in argv if arg != "--no-ring"]
    if len(argv) != 2 or argv[0] not in SCENARIOS:
        print(f"usage: python3 -m conformance.net.conversations {{{','.join(SCENARIOS)}}} OUT.pcap "
              "[--no-ring]", file=sys.stderr)
        return 2
    if not namespace.enter():
        print(f"scenarios: {namespace.why_unavailable()}", file=sys.stderr)
        return 1
    if ring:
        capture.prepare()
    port_box: list = []
    with capture.Capture(Path(argv[1]), ring_bytes=capture.RING_BYTES if ring else 0) as trace:
        SCENARIOS[argv[0]](port_box)
    print(json.dumps({"port": port_box[0], "packets": trace.packets, "drops": trace.drops,
                      "ring": trace.ring, "start_ms": trace.start_seconds * 1000,
                      "stop_ms": trace.stop_seconds * 1000, "error": trace.error}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
