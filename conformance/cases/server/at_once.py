"""The echo comes back as the bytes arrive: before the client's FIN, and without waiting for a
newline. A server that stores everything until the end, or echoes whole lines only, fails here
and not, by accident, in some later case."""

from __future__ import annotations

from conformance.cases import rules
from conformance.cases.case import MUST, Context, case


@case("server/echo/before-fin", MUST, 2, rules.AT_ONCE)
def before_fin(ctx: Context) -> None:
    """A client sends one line and waits for its echo before it sends anything more or
    half-closes; then a second line, the same way; then the half-close and the FIN."""
    each_echoed_before_the_next(ctx, (b"first, and nothing more until its echo\n", b"second\n"))


@case("server/echo/no-newline", MUST, 1, rules.AT_ONCE)
def no_newline(ctx: Context) -> None:
    """A client sends bytes with no newline and waits: they come back at once, a partial line is
    not held back; then a newline and the rest of the line."""
    each_echoed_before_the_next(ctx, (b"a partial line, no newline yet", b" ... and its end\n"))


def each_echoed_before_the_next(ctx: Context, pieces: tuple[bytes, ...]) -> None:
    """Send each piece only once everything sent so far has come back; then half-close and
    expect FIN (when the server declares half_close)."""
    with ctx.connect() as wire:
        for piece in pieces:
            wire.send(piece)
            wire.expect(bytes(wire.sent))
        if ctx.server.has("half_close"):
            wire.half_close()
            wire.expect_fin()
