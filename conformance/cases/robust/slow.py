"""Slow clients: a thousand that send a byte now and then (slow-loris), and slow peers."""

from __future__ import annotations

import asyncio
import random
import socket
import time

from conformance.cases.case import MUST, Context, Fail, case
from conformance.cases.robust import HOST, KIB, MIB, failures_text, half_close, pick, rule, serving
from conformance.net import load

LORIS = rule("1,000 slow connections sending a byte every 5 s: throughout, a fresh client gets its "
             "echo in under 100 ms; with --idle-timeout 2 they are closed within the timeout plus 10%.")
SLOW_PEER = rule("A peer that sends in 1-byte segments, and one throttled to 64 KB/s: byte-exact, no "
                 "premature timeout.")


PROBE_LIMIT = 0.100


async def probes(port: int, until: float) -> list[float]:
    """A fresh client every 0.25 s until `until`: the seconds each took to get its echo."""
    times = []
    while time.monotonic() < until:
        times.append(await load.round_trip(HOST, port))
        await asyncio.sleep(0.25)
    return times


def check_probes(ctx: Context, times: list[float], held: str) -> None:
    """Every fresh client got its echo in under 100 ms; one slower probe is forgiven as a busy
    machine's noise when there were five or more (a runtime's pause, a neighbour's burst), but
    none may take a second."""
    slow = sorted(t for t in times if t >= PROBE_LIMIT)
    forgiven = 1 if len(times) >= 5 and (not slow or slow[-1] < 1.0) else 0
    worst = max(times) if times else 0.0
    ctx.note(f"{len(times)} fresh clients while {held}: worst {worst * 1e3:.0f} ms, "
             f"{len(slow)} at or over 100 ms")
    if not times or len(slow) > forgiven:
        never = sum(1 for t in slow if t == float("inf"))
        raise Fail(f"{len(slow)} of {len(times)} fresh clients waited 100 ms or more for their echo while "
                   f"{held} ({never} got none within 5 s)", notes=(
                       "slow clients must not hold up the others: serve connections concurrently (a "
                       "thread, task or event-loop entry each), never one at a time",))


def run_held(server, count: int, run):
    """Runs the coroutine `run`, which opens `count` connections and holds them; a server that
    will not take that many connections fails with the likely reason."""
    try:
        return asyncio.run(run())
    except (OSError, asyncio.TimeoutError) as e:
        server.check_alive("while slow connections were held")
        raise Fail(f"could not open {count} connections: {str(e) or type(e).__name__}", notes=(
            "clients that connect are not accepted: is the server serving one at a time?",)) from None


async def open_many(port: int, count: int, batch: int = 100):
    """`count` connections, opened `batch` at a time."""
    opened = []
    for start in range(0, count, batch):
        opened += await asyncio.gather(*(load.connect(HOST, port) for _ in range(min(batch, count - start))))
    return opened


@case("robust/slow-loris", MUST, 2, LORIS)
def slow_loris(ctx: Context) -> None:
    """1,000 connections (bounded: 100) each send a byte every 5 s (bounded: every second) and
    get it back; meanwhile a fresh client every 0.25 s gets its echo in under 100 ms."""
    count, interval, hold = pick(ctx, (1000, 5.0, 11.0), (100, 1.0, 2.5))
    with serving(ctx) as server:
        async def run():
            conns = await open_many(server.port, count)
            try:
                until = time.monotonic() + hold

                async def slow(index: int, reader, writer) -> str | None:
                    while time.monotonic() < until:
                        try:
                            writer.write(b"s")
                            async with asyncio.timeout(interval + 1):
                                if await reader.readexactly(1) != b"s":
                                    return "a wrong byte came back"
                        except (OSError, TimeoutError, asyncio.IncompleteReadError) as e:
                            return f"its byte was not echoed ({type(e).__name__})"
                        await asyncio.sleep(interval)
                    return None
                results = await asyncio.gather(probes(server.port, until),
                                               *(slow(i, r, w) for i, (r, w) in enumerate(conns)))
                return results[0], [(i, p) for i, p in enumerate(results[1:]) if p]
            finally:
                for _, writer in conns:
                    writer.transport.abort()
        times, problems = run_held(server, count, run)
        server.check_alive("while slow connections were held")
    check_probes(ctx, times, f"{count} slow connections were held")
    if problems:
        raise Fail(failures_text(problems, count, "slow connections"), notes=(
            "no --idle-timeout was given, so a slow client that keeps sending is served for as long as "
            "it likes",))


@case("robust/slow-loris/idle-timeout", MUST, 2, LORIS, requires=(("server", "idle_timeout"),))
def slow_loris_idle(ctx: Context) -> None:
    """With --idle-timeout 2, 1,000 connections (bounded: 100) that send one byte and then wait
    5 s are each closed between 1.8 and 2.2 s after their last byte moved; fresh clients are
    served in under 100 ms meanwhile."""
    count, timeout = pick(ctx, 1000, 100), 2.0
    with serving(ctx, ("--idle-timeout", f"{timeout:g}")) as server:
        async def run():
            conns = await open_many(server.port, count)

            async def slow(reader, writer) -> float | str:
                try:
                    writer.write(b"s")
                    await asyncio.wait_for(reader.readexactly(1), 2)
                    last = time.monotonic()
                    how = await load.closed_within(reader, timeout * 1.1 + 2)
                    return time.monotonic() - last if how else "still open"
                except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError) as e:
                    return f"its byte was not echoed ({type(e).__name__})"
                finally:
                    writer.transport.abort()
            until = time.monotonic() + timeout * 1.1
            results = await asyncio.gather(probes(server.port, until), *(slow(r, w) for r, w in conns))
            return results[0], results[1:]
        times, closes = run_held(server, count, run)
        server.check_alive("while idle connections were closed")
    seconds = [c for c in closes if isinstance(c, float)]
    early = [(i, f"closed after {c:.2f} s") for i, c in enumerate(closes)
             if isinstance(c, float) and c < timeout * 0.9]
    late = [(i, f"closed after {c:.2f} s") for i, c in enumerate(closes)
            if isinstance(c, float) and c > timeout * 1.1]
    other = [(i, c) for i, c in enumerate(closes) if isinstance(c, str)]
    if seconds:
        ctx.note(f"{len(seconds)}/{count} idle connections closed after "
                 f"{min(seconds):.2f}..{max(seconds):.2f} s "
                 f"(--idle-timeout {timeout:g})")
    check_probes(ctx, times, f"{count} idle connections waited to be closed")
    problems = other + late + early
    if problems:
        raise Fail(failures_text(problems, count, "idle connections"), notes=(
            f"with --idle-timeout {timeout:g}, a connection on which nothing moved for {timeout:g} s must be "
            f"closed between {timeout * 0.9:.1f} and {timeout * 1.1:.1f} s after its last byte",))


@case("robust/slow-peer", MUST, 2, SLOW_PEER)
def slow_peer(ctx: Context) -> None:
    """One client sends 8 KiB (bounded: 512 bytes) in 1-byte segments, about 1,000 a second;
    another sends 1 MiB (bounded: 128 KiB) throttled to 64 KB/s; both read as they go and get
    every byte back. A server with --idle-timeout runs with 1 s: clients that keep sending must
    not be cut off."""
    # Bounded, the throttled session still lasts 2 s, twice the idle timeout: a timeout counted
    # from the session's start cuts it off whatever the machine's speed.
    tiny, throttled = pick(ctx, (8 * KIB, MIB), (512, 128 * KIB))
    options = ("--idle-timeout", "1") if ctx.server.has("idle_timeout") else ()
    one = random.Random(ctx.seed).randbytes(tiny)
    other = random.Random(ctx.seed + 1).randbytes(throttled)
    with serving(ctx, options) as server:
        async def segments() -> str | None:
            try:
                reader, writer = await load.connect(HOST, server.port)
            except (OSError, asyncio.TimeoutError) as e:
                return f"could not connect: {e}"
            writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return await load.echo_on(reader, writer, one, half_close(ctx), chunk=1, rate=1000, timeout=60)

        async def run():
            throttle = load.echo_client(HOST, server.port, other, half_close(ctx), chunk=4 * KIB,
                                        rate=64_000, timeout=60)
            if ctx.server.has("concurrent"):
                return await asyncio.gather(segments(), throttle)
            return [await segments(), await throttle]
        started = time.monotonic()
        problems = asyncio.run(run())
        seconds = time.monotonic() - started
        server.check_alive("while serving slow peers")
    ctx.note(f"{tiny} bytes in 1-byte segments and {throttled // KIB} KiB at 64 KB/s: "
             f"{'byte-exact' if not any(problems) else 'broken'} in {seconds:.1f} s"
             + (" (--idle-timeout 1)" if options else ""))
    for name, problem in zip(("the 1-byte-segment client", "the 64 KB/s client"), problems):
        if problem:
            raise Fail(f"{name}: {problem}", notes=(
                "a slow client that keeps sending is making progress: one read may return one byte, "
                "and an idle timeout counts time with nothing moving, not the session's length",))
