"""One connection from the tester to the server under test. Every byte is logged; reads stop at
the first wrong byte; a read that sees nothing for `stall` seconds raises Stalled; how the
server ended the connection (FIN, RST, or not at all) is recorded in the failure.

    with Wire("127.0.0.1", port, log, timeouts) as wire:
        wire.send(b"hello\\n")
        wire.expect(b"hello\\n")
        wire.half_close()
        wire.expect_fin()

    echo(wire, payload, half_close=True)   # send while reading; all of it back, then FIN
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from dataclasses import dataclass

from conformance import procfs
from conformance.net import bracket
from conformance.observation import Fail, Stalled
from conformance.wirelog import WireLog


@dataclass(frozen=True)
class Timeouts:
    connect: float = 3.0  # for a connection to be accepted
    stall: float = 3.0  # for the next byte of an echo
    close: float = 3.0  # for the FIN once everything is back
    ready: float = 10.0  # for a server's readiness
    client: float = 30.0  # for a client to finish, at most

    def scaled(self, factor: float) -> "Timeouts":
        values = (self.connect, self.stall, self.close, self.ready, self.client)
        return Timeouts(*(value * factor for value in values))


class Wire:
    def __init__(self, host: str, port: int, log: WireLog | None = None, timeouts: Timeouts = Timeouts(),
                 name: str = "client", receive_buffer: int | None = None):
        self.name = name
        self.log = log or WireLog()
        self.timeouts = timeouts
        self.where = f"{bracket(host)}:{port}"
        try:
            self.sock = socket.create_connection((host, port), timeout=timeouts.connect)
        except socket.timeout:
            raise Stalled(f"{name}: connecting to {self.where} was not accepted within "
                          f"{timeouts.connect:.0f} s", connection=name) from None
        except OSError as e:
            raise Fail(f"{name}: cannot connect to {self.where}: {e.strerror or e}", connection=name,
                       facts={"connect_error": e.strerror or str(e)}) from None
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # (ours, the server's): kept now, since a closed connection can no longer say
        self.ports = (self.sock.getsockname()[1], self.sock.getpeername()[1])
        if receive_buffer:  # a fixed size: the kernel stops growing it to what the host allows
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sent = bytearray()
        self.received = bytearray()
        self.closed: str | None = None  # "fin" or "rst" once the server ended the connection
        self.log.note("tester", f"{name}: connected to {self.where}")

    def __enter__(self) -> "Wire":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _fail(self, kind, summary: str, expected: bytes | None = None, **facts):
        return kind(f"{self.name}: {summary}", sent=bytes(self.sent), expected=expected,
                    received=bytes(self.received), close=self.closed, connection=self.name, **facts)

    # --- sending -----------------------------------------------------------------------------

    def send(self, data: bytes, pieces: list[int] | None = None) -> None:
        """Send `data`, in pieces of the given sizes when `pieces` is given."""
        start = 0
        for size in pieces or [len(data)]:
            piece = data[start:start + size]
            start += size
            self.log.data("tester", f"{self.name} sends", len(self.sent), piece)
            self.sent += piece  # before sending: its echo may be read before sendall returns
            try:
                self.sock.sendall(piece)
            except OSError as e:
                if isinstance(e, (ConnectionResetError, BrokenPipeError)):
                    self.closed = self.closed or "rst"
                raise self._fail(Fail, f"sending failed: {e.strerror or e} (the server closed or reset the "
                                       f"connection)") from None

    def send_in_background(self, data: bytes, pieces: list[int] | None = None,
                           half_close: bool = False) -> "Writer":
        """Send from a thread, so the echo is read while it is written (a client that does not
        read while it writes deadlocks against a back-pressured server)."""
        return Writer(self, data, pieces, half_close)

    def half_close(self) -> None:
        self.sock.shutdown(socket.SHUT_WR)
        self.log.note("tester", f"{self.name}: half-close (FIN sent)")

    def reset(self) -> None:
        """Close with RST instead of FIN, as a crashed client's kernel would."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()
        self.log.note("tester", f"{self.name}: reset (RST sent)")

    def close(self) -> None:
        if self.sock.fileno() >= 0:
            self.sock.close()

    # --- receiving ---------------------------------------------------------------------------

    def expect(self, expected: bytes, stall: float | None = None, pace: float = 0.0) -> None:
        """Read until the bytes received on this connection are `expected`: fail at the first
        wrong byte, at an early FIN or RST, or after `stall` seconds with nothing new. With
        `pace`, sleep that long between reads (a slow reader)."""
        stall = stall or self.timeouts.stall
        while len(self.received) < len(expected):
            before = len(self.received)
            chunk = self._recv(stall, f"the next byte of the echo ({before} of {len(expected)} back)", expected)
            if chunk is None:
                raise self._fail(Fail, f"the server closed the connection (FIN) after echoing {before} of "
                                       f"{len(expected)} bytes", expected)
            if self.received[before:] != expected[before:len(self.received)]:
                raise self._fail(Fail, "the echo differs from what was sent", expected)
            if pace:
                time.sleep(pace)

    def expect_fin(self, timeout: float | None = None, after: str = "after the whole echo") -> None:
        """The next thing on the connection must be a FIN: not more bytes, not RST, not silence."""
        timeout = timeout or self.timeouts.close
        known = bytes(self.received)
        chunk = self._recv(timeout, f"the server to close the connection {after}", known)
        if chunk is not None:
            raise self._fail(Fail, f"the server sent more bytes where it should have closed {after}", known)
        self.log.note("program", f"{self.name}: close (FIN received)")

    def _recv(self, timeout: float, waiting_for: str, expected: bytes, size: int = 1 << 16) -> bytes | None:
        """One chunk, appended to `received`; None at FIN; Fail on RST, Stalled on timeout."""
        self.sock.settimeout(timeout)
        try:
            chunk = self.sock.recv(size)
        except socket.timeout:
            self.closed = self.closed or "open"
            raise self._fail(Stalled, f"waited {timeout:g} s for {waiting_for}; nothing came", expected,
                             waited=timeout) from None
        except ConnectionResetError:
            self.closed = "rst"
            self.log.note("program", f"{self.name}: reset (RST received)")
            raise self._fail(Fail, f"the server reset the connection (RST) after {len(self.received)} bytes "
                                   f"of echo: it must send everything it owes, then close with FIN",
                             expected) from None
        if not chunk:
            self.closed = "fin"
            return None
        self.log.data("program", f"{self.name} echoed", len(self.received), chunk)
        self.received += chunk
        return chunk


class Writer(threading.Thread):
    def __init__(self, wire: Wire, data: bytes, pieces: list[int] | None, half_close: bool):
        super().__init__(daemon=True)
        self.wire, self.data, self.pieces, self.then_half_close = wire, data, pieces, half_close
        self.error: Fail | None = None
        self.start()

    def run(self) -> None:
        try:
            self.wire.send(self.data, self.pieces)
            if self.then_half_close:
                self.wire.half_close()
        except Fail as e:
            self.error = e
        except OSError as e:
            self.error = Fail(f"{self.wire.name}: {e}")

    def abandon(self) -> None:
        """The reader gave up: unblock the writer and let it end."""
        try:
            self.wire.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.join(2)

    def finish(self, timeout: float) -> None:
        """Wait for the writer; unblock it if the reader gave up; raise what it met."""
        self.join(timeout)
        if self.is_alive():
            self.abandon()
            raise self.wire._fail(Stalled, f"the server stopped reading: {len(self.wire.sent)} of "
                                           f"{len(self.data)} bytes could be sent in {timeout:g} s",
                                  self.data, waited=timeout)
        if self.error:
            raise self.error


def echo(wire: Wire, payload: bytes, pieces: list[int] | None = None, half_close: bool = True,
         stall: float | None = None, pace: float = 0.0, pause: float = 0.0, hold: float = 0.0) -> None:
    """Send `payload` while reading the echo; it must come back byte for byte. With `half_close`,
    shut down the sending side after the payload and expect FIN after the last byte; without,
    read back len(payload) bytes. `pause` seconds before the first read and `pace` between reads
    make a slow reader. With `hold`, nothing is read until the writer has sent everything (and
    half-closed) or has not moved for `hold` seconds (a server pushing back): the server then
    owes all it has taken, whatever the machine's speed."""
    writer = wire.send_in_background(payload, pieces, half_close=half_close)
    try:
        if pause:
            time.sleep(pause)
        last, moved = len(wire.sent), time.monotonic()
        while hold and writer.is_alive() and time.monotonic() - moved < hold:
            writer.join(0.02)
            if len(wire.sent) != last:
                last, moved = len(wire.sent), time.monotonic()
        if hold and not writer.is_alive():
            # All sent may still sit in the server's kernel (its receive buffer can hold tens of
            # MiB): wait, briefly, until the server has read it, so it owes the whole echo.
            client_port, server_port = wire.ports
            settled = time.monotonic() + 2.0
            while (procfs.unread(server_port, client_port) or 0) > 0 and time.monotonic() < settled:
                time.sleep(0.02)
        wire.expect(payload, stall, pace)
    except Fail:
        writer.abandon()
        raise
    writer.finish(wire.timeouts.stall)
    if half_close:
        wire.expect_fin(after="after the client's half-close and the whole echo")


def session(host: str, port: int, payload: bytes, half_close: bool = True,
            timeout: float = 15.0) -> tuple[bytes, str]:
    """One plain session, judged by the caller: send `payload` from a thread while reading;
    with `half_close`, shut down the sending side after it and read until the server closes,
    else read len(payload) bytes. What came back, and how the connection ended: "fin", "rst",
    or "open" (still open at the deadline; "fin" too when all of a no-half-close read came)."""
    deadline = time.monotonic() + timeout
    sock = socket.create_connection((host, port), timeout=min(timeout, 5))

    def write() -> None:
        try:
            sock.sendall(payload)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the reader sees how the connection ended

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    received, close = bytearray(), "open"
    try:
        while half_close or len(received) < len(payload):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            sock.settimeout(left)
            try:
                chunk = sock.recv(1 << 16)
            except socket.timeout:
                break
            except ConnectionResetError:
                close = "rst"
                break
            if not chunk:
                close = "fin"
                break
            received += chunk
        else:
            close = "fin"
    finally:
        try:
            sock.shutdown(socket.SHUT_RDWR)  # unblocks a writer still in sendall
        except OSError:
            pass
        writer.join(timeout=2)
        sock.close()
    return bytes(received), close
