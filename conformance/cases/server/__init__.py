"""Server cases: the tester is the client. Each runs against the server the engine started (on
its default host `::` with `--port 0`, or as the program was written), shared across cases; a
case that kills the server fails, and the next case gets a fresh one. Data cases connect over
whichever of IPv4 and IPv6 the server serves (`ctx.host`); dual stack is judged by its own cases.

One module per group: launch (readiness, stdout, SIGTERM), octets (every byte value), at_once
(before the FIN, no newline), streams (volume, how the bytes are written, short writes),
sessions (one client after another, resets, BYE), concurrent, dual_stack.
"""

from __future__ import annotations

from conformance.cases.case import Context
from conformance.net.wire import echo

MIB = 1 << 20
CONCURRENT = (("server", "concurrent"),)


def serve_echo(ctx: Context, payload: bytes, pieces: list[int] | None = None, host: str | None = None,
               name: str = "client", stall: float | None = None, pause: float = 0.0,
               receive_buffer: int | None = None, hold: float = 0.0) -> None:
    """One client sends `payload` while reading the echo; it must come back byte for byte. A
    server that declares half_close (the contract's default) gets a half-close after the payload
    and must then close with FIN; one that does not is read back len(payload) bytes, then closed."""
    with ctx.connect(host, name, receive_buffer=receive_buffer) as wire:
        echo(wire, payload, pieces, half_close=ctx.server.has("half_close"), stall=stall, pause=pause, hold=hold)


# Importing the modules registers their cases, in this order.
from conformance.cases.server import launch, octets, at_once, streams, sessions, concurrent, dual_stack  # noqa: E402,F401,E501  isort: skip
