"""A correct RFC 862 echo server on a loopback address that records what each connection
sent: the harness's partner for testing clients. It can also misbehave the ways real servers
do: echo in 1-byte segments, or vanish in the middle of a session.

Its socket buffers are small (64 KiB), so a client that writes everything before it reads
deadlocks against it as it would against any back-pressured server, not after 8 MiB of slack.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field

from conformance.net import family_of
from conformance.wirelog import WireLog

BUFFER = 64 * 1024


@dataclass
class Connection:
    received: bytearray = field(default_factory=bytearray)
    done: threading.Event = field(default_factory=threading.Event)
    eof: bool = False  # the client closed its sending side (FIN), as opposed to an error
    error: OSError | None = None


class RecordingServer:
    """Echo every byte back, close with FIN after the client's half-close.

    segment: echo in segments of this many bytes, each its own send with Nagle off.
    vanish_after: echo this many bytes, then close as soon as more arrive, echoing nothing more.
    """

    def __init__(self, host: str = "127.0.0.1", segment: int | None = None,
                 vanish_after: int | None = None, log: WireLog | None = None, port: int = 0):
        self.host = host
        self.segment = segment
        self.vanish_after = vanish_after
        self.log = log or WireLog()
        self._sock = socket.socket(family_of(host), socket.SOCK_STREAM)
        for option in (socket.SO_RCVBUF, socket.SO_SNDBUF):  # inherited by accepted sockets
            self._sock.setsockopt(socket.SOL_SOCKET, option, BUFFER)
        if port:
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self._sock.listen(16)
        self._sock.settimeout(0.1)
        self.port = self._sock.getsockname()[1]
        self.connections: list[Connection] = []
        self._open: list[socket.socket] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def __enter__(self) -> "RecordingServer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, peer = self._sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            record = Connection()
            self.connections.append(record)
            self._open.append(conn)
            self.log.note("tester", f"accepted connection {len(self.connections)} from {peer[0]}")
            threading.Thread(target=self._serve, args=(conn, record), daemon=True).start()

    def _serve(self, conn: socket.socket, record: Connection) -> None:
        conn.settimeout(30)
        if self.segment:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while chunk := conn.recv(65536):
                offset = len(record.received)
                record.received += chunk
                self.log.data("program", "sent", offset, chunk)
                if self.vanish_after is not None and len(record.received) > self.vanish_after:
                    self._echo(conn, chunk[:max(0, self.vanish_after - offset)], offset)
                    self.log.note("tester", "closes the connection without echoing the rest "
                                            "(the server vanishes mid-session)")
                    return
                self._echo(conn, chunk, offset)
            record.eof = True
            self.log.note("program", "half-close (FIN received)")
            conn.shutdown(socket.SHUT_WR)
            self.log.note("tester", "close (FIN sent)")
        except OSError as e:
            record.error = e
            self.log.note("tester", f"connection error: {e}")
        finally:
            conn.close()
            record.done.set()

    def _echo(self, conn: socket.socket, data: bytes, offset: int) -> None:
        step = self.segment or len(data) or 1
        for start in range(0, len(data), step):
            piece = data[start:start + step]
            conn.sendall(piece)
            self.log.data("tester", "echoed", offset + start, piece)

    def total(self) -> int:
        """Bytes received so far on every connection: a client's progress."""
        return sum(len(r.received) for r in list(self.connections))

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
