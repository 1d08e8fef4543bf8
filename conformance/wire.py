"""One connection from the tester to the server under test. Every byte is logged; reads stop
at the first wrong byte, and a read that sees nothing for `stall` seconds raises Stalled.

    with Wire("127.0.0.1", port, log, timeouts) as wire:
        wire.send(b"hello\\n")
        wire.expect(b"hello\\n")
        wire.half_close()
        wire.expect_fin()
"""

from __future__ import annotations

import socket
import struct
import threading
from dataclasses import dataclass

from conformance.failures import Fail, Stalled
from conformance.net import bracket
from conformance.wirelog import WireLog


@dataclass(frozen=True)
class Timeouts:
    connect: float = 3.0  # for a connection to be accepted
    stall: float = 3.0  # for the next byte of an echo
    close: float = 3.0  # for the FIN once everything is back
    ready: float = 10.0  # for a server's readiness line
    client: float = 30.0  # for a client to finish, at most

    def scaled(self, factor: float) -> "Timeouts":
        return Timeouts(*(value * factor for value in (self.connect, self.stall, self.close,
                                                      self.ready, self.client)))


class Wire:
    def __init__(self, host: str, port: int, log: WireLog, timeouts: Timeouts, name: str = "client"):
        self.name = name
        self.log = log
        self.timeouts = timeouts
        self.where = f"{bracket(host)}:{port}"
        try:
            self.sock = socket.create_connection((host, port), timeout=timeouts.connect)
        except socket.timeout:
            raise Stalled(f"{name}: connecting to {self.where} was not accepted within "
                          f"{timeouts.connect:.0f} s") from None
        except OSError as e:
            raise Fail(f"{name}: cannot connect to {self.where}: {e.strerror or e}") from None
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sent = bytearray()
        self.received = bytearray()
        log.note("tester", f"{name}: connected to {self.where}")

    def __enter__(self) -> "Wire":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

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
                raise Fail(f"{self.name}: sending failed: {e.strerror or e} (the server closed or reset "
                           f"the connection)", sent=bytes(self.sent)) from None

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

    def expect(self, expected: bytes, stall: float | None = None) -> None:
        """Read until the bytes received on this connection are `expected`: fail at the first
        wrong byte, at an early FIN or RST, or after `stall` seconds with nothing new."""
        stall = stall or self.timeouts.stall
        while len(self.received) < len(expected):
            before = len(self.received)
            chunk = self._recv(stall, f"the next byte of the echo ({before} of {len(expected)} back)",
                               expected)
            if chunk is None:
                raise Fail(f"{self.name}: the server closed the connection (FIN) after echoing {before} "
                           f"of {len(expected)} bytes", sent=bytes(self.sent), expected=expected,
                           received=bytes(self.received))
            if self.received[before:] != expected[before:len(self.received)]:
                raise Fail(f"{self.name}: the echo differs from what was sent", sent=bytes(self.sent),
                           expected=expected, received=bytes(self.received))

    def expect_fin(self, timeout: float | None = None, after: str = "after the whole echo") -> None:
        """The next thing on the connection must be a FIN: not more bytes, not RST, not silence."""
        timeout = timeout or self.timeouts.close
        known = bytes(self.received)
        chunk = self._recv(timeout, f"the server to close the connection {after}", known)
        if chunk is not None:
            raise Fail(f"{self.name}: the server sent more bytes where it should have closed {after}",
                       sent=bytes(self.sent), expected=known, received=bytes(self.received))
        self.log.note("program", f"{self.name}: close (FIN received)")

    def _recv(self, timeout: float, waiting_for: str, expected: bytes) -> bytes | None:
        """One chunk, appended to `received`; None at FIN; Fail on RST, Stalled on timeout."""
        self.sock.settimeout(timeout)
        try:
            chunk = self.sock.recv(1 << 16)
        except socket.timeout:
            raise Stalled(f"{self.name}: waited {timeout:g} s for {waiting_for}; nothing came",
                          sent=bytes(self.sent), expected=expected, received=bytes(self.received)) from None
        except ConnectionResetError:
            self.log.note("program", f"{self.name}: reset (RST received)")
            raise Fail(f"{self.name}: the server reset the connection (RST) after {len(self.received)} "
                       f"bytes of echo: it must send everything it owes, then close with FIN",
                       sent=bytes(self.sent), expected=expected, received=bytes(self.received)) from None
        if not chunk:
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
            raise Stalled(f"{self.wire.name}: the server stopped reading: {len(self.wire.sent)} of "
                          f"{len(self.data)} bytes could be sent in {timeout:g} s")
        if self.error:
            raise self.error

