"""Line mode: the chapter's client, every line echoed and printed, whatever its bytes and
however the stream splits the echo."""

from __future__ import annotations

from conformance.cases import rules
from conformance.cases.case import MUST, Context, Fail, case
from conformance.cases.client import check_session, hundred_lines, run, sent
from conformance.cases.shim import SHIM, shim_cannot_reach, shim_env
from conformance.observation import Skipped, Unsupported


@case("client/transcript/100-lines", MUST, 3, rules.BYTES_NOT_TEXT)
def hundred(ctx: Context) -> None:
    """100 lines on stdin (UTF-8, NUL, invalid UTF-8, a lone CR, an empty line, a 100,000-byte
    line): stdout is exactly the Echoed: lines, and the server got exactly the lines."""
    lines = hundred_lines(ctx.rng)
    with ctx.recorder() as server:
        check_session(ctx, run(ctx, server, sent(lines)), server, lines)


@case("client/transcript/one-byte-segments", MUST, 2, rules.ONE_READ)
def one_byte_segments(ctx: Context) -> None:
    """The server echoes in 1-byte segments: the client still waits for each whole echo."""
    lines = [f"segment test {i}: {'x' * (i * 37)}".encode() for i in range(20)]
    with ctx.recorder(segment=1) as server:
        check_session(ctx, run(ctx, server, sent(lines)), server, lines)


@case("client/transcript/last-line", MUST, 1, rules.LAST_LINE)
def last_line(ctx: Context) -> None:
    """stdin `one\\ntwo` with no final newline: two lines are sent and echoed."""
    with ctx.recorder() as server:
        check_session(ctx, run(ctx, server, b"one\ntwo"), server, [b"one", b"two"], stdin=b"one\ntwo")


@case("client/short-writes", MUST, 2, rules.ONE_READ)
def short_writes(ctx: Context) -> None:
    """With send, recv, read and write on its sockets returning short counts and EINTR at seeded
    random (an LD_PRELOAD shim over libc), the 100 lines come back as the transcript, for 2 seeds."""
    why = shim_cannot_reach(ctx.client)
    if why:
        raise Unsupported(why)
    if not SHIM.exists():
        raise Skipped(f"{SHIM} is missing: run make")
    lines = hundred_lines(ctx.rng)
    for seed in (ctx.seed % 1_000_000, ctx.seed % 1_000_000 + 1):
        with ctx.recorder() as server:
            try:
                check_session(ctx, run(ctx, server, sent(lines), env=shim_env(seed)), server, lines)
            except Fail as e:
                e.note("send and recv may move fewer bytes than asked, or fail with EINTR: loop until the whole "
                       "line is sent and its whole echo is back, and retry on EINTR",
                       "replay by hand: " + " ".join(f"{k}={v}" for k, v in shim_env(seed).items()) + " <client>")
                raise


@case("client/end-of-input", MUST, 1, rules.END_OF_INPUT)
def end_of_input(ctx: Context) -> None:
    """stdin ends without BYE: the client closes the connection and exits 0."""
    with ctx.recorder() as server:
        check_session(ctx, run(ctx, server, b"the only line\n"), server, [b"the only line"])
        if not all(c.eof for c in server.connections):
            raise Fail("the connection was not closed with FIN at the end of input", close="open")


@case("client/ipv6", MUST, 1, rules.HOSTS)
def ipv6(ctx: Context) -> None:
    """HOST `::1`: the client connects over IPv6."""
    lines = [b"over IPv6", b"to ::1"]
    with ctx.recorder("::1") as server:
        check_session(ctx, run(ctx, server, sent(lines), host="::1"), server, lines)
