"""One client after another: a client that sends nothing, a hundred in a row, one that resets
mid-stream, and the chapter's BYE."""

from __future__ import annotations

from conformance.cases import rules
from conformance.cases.case import MUST, Context, case
from conformance.cases.server import serve_echo


@case("server/session/connect-close", MUST, 1, rules.CONTINUES)
def connect_close(ctx: Context) -> None:
    """A client connects and closes without sending; the server carries on and serves the next."""
    with ctx.connect(name="client 1") as wire:
        if ctx.server.has("half_close"):
            wire.half_close()
            wire.expect_fin(after="after a half-close with nothing sent")
    serve_echo(ctx, b"still there?\n", name="client 2")


@case("server/sequential/100-clients", MUST, 2, rules.CONTINUES)
def hundred_clients(ctx: Context) -> None:
    """100 clients one after another, each with its own line: every one is served."""
    for number in range(1, 101):
        serve_echo(ctx, f"client {number} of 100\n".encode(), name=f"client {number}")


@case("server/reset/mid-stream", MUST, 2, rules.SESSION_END)
def reset_mid_stream(ctx: Context) -> None:
    """A client sends 64 KiB, resets the connection while the echo is under way, and the next
    client is served."""
    payload = ctx.payload(65536)
    with ctx.connect(name="client 1") as first:
        first.send(payload[:4096])
        first.expect(payload[:4096])
        first.send(payload[4096:])
        first.reset()
    serve_echo(ctx, b"served after a reset\n", name="client 2")


@case("server/bye", MUST, 1, rules.BYE, requires=(("server", "bye"),))
def bye(ctx: Context) -> None:
    """`hello` then `BYE`, no half-close: both are echoed, then the server closes the session."""
    with ctx.connect() as wire:
        wire.send(b"hello\nBYE\n")
        wire.expect(b"hello\nBYE\n")
        wire.expect_fin(after="after echoing BYE")
