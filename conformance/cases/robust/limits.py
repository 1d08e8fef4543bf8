"""A cap on connections, and SIGTERM with work in flight (the drain)."""

from __future__ import annotations

import asyncio
import os
import signal
import time

from conformance.cases.case import MUST, Context, Fail, case
from conformance.cases.robust import HOST, MIB, failures_text, pattern, pick, rule, served_within, serving, window
from conformance.net import load

MAX_CONN = rule("--max-connections N: never more than N served at once; the rest are closed promptly, "
                "not left hanging.")
DRAIN = rule("SIGTERM with in-flight streams: new connections are refused within 100 ms, in-flight "
             "streams finish byte-exact within the drain deadline (--drain-timeout), exit 0.")


@case("robust/max-connections", MUST, 2, MAX_CONN, requires=(("server", "max_connections"),))
def max_connections(ctx: Context) -> None:
    """With --max-connections 20 (bounded: 5), 20 clients are served; 20 more (bounded: 5) each
    send a byte and are closed within 1 s, never echoed; when one served client leaves, a new
    one is served within 1 s."""
    cap, extra = pick(ctx, (20, 20), (5, 5))
    with serving(ctx, ("--max-connections", str(cap))) as server:
        async def run():
            served, outcome = [], []
            try:
                for index in range(cap):
                    reader, writer = await load.connect(HOST, server.port)
                    served.append((reader, writer))
                    await asyncio.wait_for(load.ping(reader, writer), 1)
                extras = []
                for _ in range(extra):
                    reader, writer = await load.connect(HOST, server.port)
                    extras.append(writer)
                    writer.write(b"x")
                    try:
                        async with asyncio.timeout(1.0):
                            got = await reader.read(1)
                        outcome.append("echoed" if got else "closed")
                    except TimeoutError:
                        outcome.append("hanging")
                    except (ConnectionResetError, BrokenPipeError):
                        outcome.append("closed")
                for writer in extras:
                    writer.transport.abort()
                served.pop(0)[1].close()
                after = await served_within(server.port)
                return outcome, after
            finally:
                for _, writer in served:
                    writer.transport.abort()
        try:
            outcome, after = asyncio.run(run())
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError) as e:
            server.check_alive("with connections over its cap")
            raise Fail(f"one of the first {cap} clients was not served within 1 s: {e or 'timed out'}", notes=(
                f"--max-connections {cap} must serve up to {cap} clients at once",)) from None
        server.check_alive("with connections over its cap")
    ctx.note(f"--max-connections {cap}: {cap} served; of {extra} more, {outcome.count('closed')} closed, "
             f"{outcome.count('echoed')} echoed, {outcome.count('hanging')} left hanging; a new client served "
             + (f"{after * 1e3:.0f} ms after one left" if after < 1 else "not within 1 s"))
    if outcome.count("echoed"):
        raise Fail(f"{outcome.count('echoed')} clients beyond --max-connections {cap} were served: more than "
                   f"{cap} at once", notes=("count the connections being served and refuse a new one while "
                                            "the count is at the cap",))
    if outcome.count("hanging"):
        raise Fail(f"{outcome.count('hanging')} clients beyond --max-connections {cap} were left hanging: "
                   f"neither served nor closed within 1 s", notes=(
                       "accept the client over the cap and close it at once, so it learns; leaving it in "
                       "the backlog keeps it waiting",))
    if after >= 1.0:
        raise Fail("after a served client left, a new one was not served within 1 s")


async def refused_after(port: int, within: float) -> float:
    """Seconds until a new connection is refused, polling every 10 ms; inf if not within."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), 0.2)
            writer.transport.abort()
        except ConnectionRefusedError:
            return time.monotonic() - started
        except (OSError, asyncio.TimeoutError):
            pass
        await asyncio.sleep(0.01)
    return float("inf")


@case("robust/drain", MUST, 2, DRAIN, requires=(("server", "drain"), ("server", "graceful_stop")))
def drain(ctx: Context) -> None:
    """100 streams of 10 MiB (bounded: 10 of 1 MiB) are half echoed when SIGTERM arrives, with
    --drain-timeout 10 (bounded: 5): new connections are refused within 100 ms, every stream
    then finishes byte-exact with FIN, and the server exits 0 within the deadline."""
    streams, size, deadline = pick(ctx, (100, 10 * MIB, 10), (10, MIB, 5))
    base = pattern(ctx.seed, size)
    with serving(ctx, ("--drain-timeout", str(deadline))) as server:
        async def run():
            halfway = [asyncio.Event() for _ in range(streams)]
            go = asyncio.Event()

            async def stream(index: int) -> str | None:
                data = window(base, index, size)
                try:
                    reader, writer = await load.connect(HOST, server.port)
                except (OSError, asyncio.TimeoutError) as e:
                    halfway[index].set()
                    return f"could not connect: {e}"

                async def send() -> None:
                    writer.write(data[:size // 2])
                    await writer.drain()
                    await go.wait()
                    writer.write(data[size // 2:])
                    await writer.drain()
                    writer.write_eof()
                sender = asyncio.ensure_future(send())
                received = 0
                try:
                    async with asyncio.timeout(deadline + 30):
                        while block := await reader.read(load.CHUNK):
                            if block != data[received:received + len(block)]:
                                return f"byte {received} or after differs"
                            received += len(block)
                            if received >= size // 2:
                                halfway[index].set()
                        await sender
                except (OSError, TimeoutError) as e:
                    return f"{type(e).__name__} after {received} of {size} bytes back"
                finally:
                    halfway[index].set()
                    sender.cancel()
                    writer.transport.abort()
                return None if received == size else f"FIN after {received} of {size} bytes"
            tasks = [asyncio.ensure_future(stream(i)) for i in range(streams)]
            # A server that serves one client at a time never gets the others halfway: signal anyway.
            await asyncio.wait([asyncio.ensure_future(h.wait()) for h in halfway], timeout=pick(ctx, 30, 3))
            os.kill(server.pid, signal.SIGTERM)
            signalled = time.monotonic()
            refused = await refused_after(server.port, 1.0)
            go.set()
            return signalled, refused, await asyncio.gather(*tasks)
        signalled, refused, results = asyncio.run(run())
        status = server.process.wait(max(0.1, deadline + 1 - (time.monotonic() - signalled)))
        stopped = time.monotonic() - signalled
    problems = [(i, p) for i, p in enumerate(results) if p]
    ctx.note(f"SIGTERM with {streams} x {size // MIB} MiB in flight: new connections refused "
             + (f"after {refused * 1e3:.0f} ms" if refused < 1 else "not within 1 s")
             + f"; {streams - len(problems)}/{streams} finished byte-exact; exit status {status} "
             f"after {stopped:.1f} s (--drain-timeout {deadline})")
    if refused > 0.1:
        raise Fail("new connections were not refused within 100 ms of SIGTERM", notes=(
            "on SIGTERM close the listening socket at once: a new client is then refused instead of "
            "waiting in a backlog nobody accepts from",))
    if problems:
        raise Fail(failures_text(problems, streams, "in-flight streams"), notes=(
            "a drain lets sessions already under way finish: keep echoing them after SIGTERM, until "
            "they end or the drain deadline passes",))
    if status != 0:
        raise Fail(f"the server's exit status was {status} after SIGTERM and the drain "
                   + ("(still running: killed)" if status is None else "") + ", not 0")
