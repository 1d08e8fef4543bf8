"""The harness talking to a server as a plain client: a 1 MiB session read while it is
written, a quick exchange, and a port nobody listens on."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass


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
    with socket.socket(family_of(host), socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def family_of(host: str) -> int:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host
