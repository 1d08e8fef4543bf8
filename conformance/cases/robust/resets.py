"""Clients that reset mid-stream, and clients that write and leave without reading."""

from __future__ import annotations

import asyncio
import random
import time

from conformance.cases.case import MUST, Context, Fail, case
from conformance.cases.robust import HOST, KIB, MIB, half_close, pick, rule, serving, warm_up
from conformance.net import load
from conformance.procfs import settle_fds

RESETS = rule("10,000 clients that reset mid-stream: no crash, no SIGPIPE death, the server's "
              "descriptor count returns to its baseline.")
LEAVE = rule("A client that writes 1 MiB and closes without reading: the server survives and frees "
             "the descriptor within 1 s.")


@case("robust/resets", MUST, 2, RESETS)
def resets(ctx: Context) -> None:
    """10,000 clients (bounded: 500), 50 at a time, send 16 KiB, get some echo back and reset
    the connection (SO_LINGER 0): the server survives, its descriptor count returns to its
    baseline within 2 s, and it still serves."""
    count = pick(ctx, 10000, 500)
    data = bytes(random.Random(ctx.seed).randbytes(16 * KIB))
    with serving(ctx) as server:
        warm_up(ctx, server)
        baseline = server.usage().fds

        async def run() -> int:
            connected = 0

            async def one() -> None:
                nonlocal connected
                try:
                    reader, writer = await load.connect(HOST, server.port)
                except (OSError, asyncio.TimeoutError):
                    return
                connected += 1
                writer.write(data)
                try:
                    await asyncio.wait_for(reader.read(1024), 2)
                except (OSError, asyncio.TimeoutError):
                    pass
                load.reset(writer)
            for start in range(0, count, 50):
                await asyncio.gather(*(one() for _ in range(min(50, count - start))))
            return connected
        connected = asyncio.run(run())
        server.check_alive("while clients reset their connections")
        fds, seconds = settle_fds(server.pid, baseline, 2.0)
        server.check_alive("after clients reset their connections")
        problem = asyncio.run(load.echo_client(HOST, server.port, b"after the resets\n", half_close(ctx),
                                               timeout=10))
        if problem:
            server.process.wait(0.3)
            server.check_alive("after clients reset their connections")
    ctx.note(f"{connected}/{count} resets; descriptors {baseline} before, {fds} after "
             f"({'back' if fds <= baseline else 'not back'} in {seconds:.2f} s)")
    if connected < count:
        raise Fail(f"only {connected} of {count} clients could connect")
    if fds > baseline:
        raise Fail(f"the server holds {fds} descriptors 2 s after the last reset, {baseline} before: "
                   f"{fds - baseline} leaked", notes=("a reset (ECONNRESET, EPIPE) ends a session like EOF "
                                                      "does: close its socket on every path",))
    if problem:
        raise Fail(f"after the resets, an ordinary client failed: {problem}")


@case("robust/write-and-leave", MUST, 2, LEAVE)
def write_and_leave(ctx: Context) -> None:
    """50 clients (bounded: 5), one after another, each write 1 MiB without reading and close:
    the server survives, and after each its descriptor count is back to the baseline within 1 s."""
    count = pick(ctx, 50, 5)
    data = random.Random(ctx.seed).randbytes(MIB)
    with serving(ctx) as server:
        warm_up(ctx, server)
        baseline = server.usage().fds
        worst = 0.0
        for index in range(count):
            async def leave() -> None:
                reader, writer = await load.connect(HOST, server.port)
                writer.write(data)
                try:
                    await asyncio.wait_for(writer.drain(), 1)  # as much as goes; the server stops reading
                except (OSError, asyncio.TimeoutError):
                    pass
                writer.close()  # with its echo unread: the kernel sends RST
            asyncio.run(leave())
            left = time.monotonic()
            fds, seconds = settle_fds(server.pid, baseline, 1.0 + 0.5)
            server.check_alive(f"after client {index + 1} wrote 1 MiB and left without reading")
            worst = max(worst, seconds)
            if fds > baseline or time.monotonic() - left > 1.0 + 0.5:
                raise Fail(f"1 s after client {index + 1} left without reading its echo, the server still "
                           f"holds {fds} descriptors ({baseline} before)", notes=(
                               "a write that fails (EPIPE, ECONNRESET) ends that session: close its socket "
                               "at once, and never let SIGPIPE end the server",))
        problem = asyncio.run(load.echo_client(HOST, server.port, b"still there?\n", half_close(ctx),
                                               timeout=10))
        if problem:
            server.process.wait(0.3)
            server.check_alive("after clients wrote 1 MiB and left without reading")
    ctx.note(f"{count} clients wrote 1 MiB and left; descriptor freed within {worst * 1e3:.0f} ms at worst")
    if problem:
        raise Fail(f"after clients left without reading, an ordinary client failed: {problem}")
