"""A client that pushes and never reads: backpressure, and the other clients meanwhile."""

from __future__ import annotations

import asyncio
import socket
import time

from conformance.cases.case import MUST, Context, Fail, case
from conformance.cases.robust import BUFFER_CAP, CONCURRENT, HOST, KIB, MIB, NOISE, pick, rule, serving, warm_up
from conformance.net import load
from conformance.procfs import mib

STALLED = rule("A client that pushes 1 GiB and never reads: the server's memory for it stays within "
               "twice its buffer cap; meanwhile other clients' round-trip p99 stays within twice the "
               "baseline.")


async def push(port: int, limit: int, quiet: float, stop: asyncio.Event | None = None) -> int:
    """Send up to `limit` bytes and never read: stop when the server has taken nothing for
    `quiet` seconds (it stopped reading: backpressure) or `stop` is set. The bytes sent."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    try:
        await asyncio.get_running_loop().sock_connect(sock, (HOST, port))
        block, pushed, moved = b"\x5a" * (256 * KIB), 0, time.monotonic()
        while pushed < limit and time.monotonic() - moved < quiet and not (stop and stop.is_set()):
            try:
                pushed += sock.send(block[:limit - pushed])
                moved = time.monotonic()
            except BlockingIOError:
                await asyncio.sleep(0.01)
            except OSError:
                break
            else:
                await asyncio.sleep(0)
        return pushed
    finally:
        sock.close()


@case("robust/stalled-reader", MUST, 2, STALLED)
def stalled_reader(ctx: Context) -> None:
    """A client pushes 1 GiB (bounded: 64 MiB) and never reads: the server stops reading from it,
    and its memory grows by less than twice the 8 MiB buffer cap a connection may have."""
    limit, quiet = pick(ctx, (1024 * MIB, 2.0), (64 * MIB, 1.0))
    with serving(ctx) as server:
        warm_up(ctx, server)
        idle = server.usage()
        pushed = asyncio.run(push(server.port, limit, quiet))
        server.check_alive("while a client pushed and never read")
        after = server.usage()
    growth = (max(after.hwm_kib, after.rss_kib) - idle.rss_kib) * KIB
    ctx.note(f"pushed {pushed / MIB:.1f} MiB of {limit // MIB} MiB; memory grew {mib(growth / KIB)} "
             f"(limit {mib(2 * BUFFER_CAP / KIB)}); peak RSS {mib(after.hwm_kib)}")
    if growth > 2 * BUFFER_CAP:
        raise Fail(f"the server's memory grew by {mib(growth / KIB)} while a client that never reads "
                   f"pushed {pushed / MIB:.0f} MiB: it keeps reading and piles up an echo nobody takes",
                   notes=("backpressure: while a client is not taking its echo, stop reading from it "
                          "(keep at most a bounded buffer); TCP then makes the client wait",))


@case("robust/stalled-reader/others-served", MUST, 1, STALLED, requires=CONCURRENT)
def stalled_reader_others(ctx: Context) -> None:
    """While a client pushes and never reads, another client's round trips stay fast: p99 within
    twice the p99 measured before, or 20 ms above it (a busy machine's noise)."""
    pings, limit = pick(ctx, (1000, 1024 * MIB), (200, 64 * MIB))
    with serving(ctx) as server:
        async def pings_on_a_new_connection() -> list[float]:
            reader, writer = await load.connect(HOST, server.port)
            try:
                return [await asyncio.wait_for(load.ping(reader, writer), 5) for _ in range(pings)]
            finally:
                writer.transport.abort()

        async def run() -> tuple[list[float], list[float], int]:
            before = await pings_on_a_new_connection()
            stop = asyncio.Event()
            pusher = asyncio.ensure_future(push(server.port, limit, quiet=3600, stop=stop))
            try:
                await asyncio.sleep(0.2)  # the pusher is under way
                during = await pings_on_a_new_connection()
            finally:
                stop.set()
            return before, during, await pusher
        try:
            before, during, pushed = asyncio.run(run())
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError) as e:
            server.check_alive("while a client pushed and never read")
            raise Fail(f"another client's round trip failed while one client pushed and never read: "
                       f"{str(e) or 'no echo within 5 s'}", notes=(
                           "a server that serves one client at a time is held by a client that never "
                           "reads: it is stuck writing an echo nobody takes, and everyone else waits",)) from None
        server.check_alive("while a client pushed and never read")
    base, busy = load.percentile(before, 99), load.percentile(during, 99)
    bound = max(2 * base, base + NOISE)  # a loaded machine's baseline itself swings by milliseconds
    ctx.note(f"round-trip p99 {base * 1e3:.2f} ms before, {busy * 1e3:.2f} ms while pushed "
             f"({pushed / MIB:.0f} MiB); bound {bound * 1e3:.2f} ms")
    if busy > bound:
        raise Fail(f"another client's round-trip p99 rose from {base * 1e3:.2f} ms to {busy * 1e3:.2f} ms "
                   f"(bound {bound * 1e3:.2f} ms) while one client pushed and never read: one client's "
                   f"stalled echo must not slow the others")
