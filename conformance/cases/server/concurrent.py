"""Clients at the same time: none keeps another waiting."""

from __future__ import annotations

from conformance.cases import rules
from conformance.cases.case import MUST, Context, case
from conformance.cases.server import CONCURRENT, serve_echo


@case("server/concurrent/interleaved-5", MUST, 2, rules.CONCURRENT, requires=CONCURRENT)
def interleaved(ctx: Context) -> None:
    """5 clients connected at once send their lines in turn, 4 rounds: each gets its own echo."""
    wires = [ctx.connect(name=f"client {k}") for k in range(1, 6)]
    try:
        for round_ in range(1, 5):
            lines = [f"client {k} round {round_}\n".encode() for k in range(1, 6)]
            for wire, line in zip(wires, lines):
                wire.send(line)
            for wire in wires:
                wire.expect(bytes(wire.sent))
        if ctx.server.has("half_close"):
            for wire in wires:
                wire.half_close()
                wire.expect_fin()
    finally:
        for wire in wires:
            wire.close()


@case("server/concurrent/idle-client", MUST, 1, rules.CONCURRENT, requires=CONCURRENT)
def idle_client(ctx: Context) -> None:
    """A client connects and stays silent; another client is served meanwhile; then the silent
    one is served too."""
    with ctx.connect(name="idle client") as idle:
        serve_echo(ctx, b"not blocked by an idle client\n", name="busy client")
        idle.send(b"my turn\n")
        idle.expect(b"my turn\n")
