"""A flood: many clients at once, each streaming while it reads."""

from __future__ import annotations

import asyncio
import time

from conformance.cases.case import MUST, Context, Fail, case
from conformance.cases.robust import HOST, KIB, MIB, failures_text, half_close, pattern, pick, rule, serving, window
from conformance.net import load
from conformance.procfs import mib

FLOOD = rule("1,000 concurrent clients, each sending 1 MiB while reading, then half-closing: all "
             "byte-exact, every close a FIN; peak memory bounded (64 MiB for an event loop, 256 MiB "
             "for a thread per connection).")


@case("robust/flood", MUST, 3, FLOOD)
def flood(ctx: Context) -> None:
    """1,000 clients at once (bounded: 100) each send 1 MiB (bounded: 256 KiB) of seeded random
    bytes while reading the echo, then half-close: every byte comes back, then FIN; the server's
    memory above idle stays under 64 MiB (async) or 256 MiB (any other design)."""
    clients, size = pick(ctx, (1000, MIB), (100, 256 * KIB))
    limit = (64 if ctx.server.variant == "async" else 256) * MIB
    base = pattern(ctx.seed, size)
    with serving(ctx) as server:
        idle = server.usage()

        async def run() -> list[str | None]:
            return await asyncio.gather(*(load.echo_client(HOST, server.port, window(base, i, size),
                                                           half_close(ctx), timeout=pick(ctx, 240, 60))
                                          for i in range(clients)))
        started = time.monotonic()
        results = asyncio.run(run())
        seconds = time.monotonic() - started
        server.check_alive("during the flood")
        peak = server.usage().hwm_kib
    problems = [(i, p) for i, p in enumerate(results) if p]
    ctx.note(f"{clients - len(problems)}/{clients} x {size // KIB} KiB byte-exact in {seconds:.1f} s")
    ctx.note(f"peak RSS {mib(peak)} ({mib(peak - idle.rss_kib)} above idle; limit {mib(limit / KIB)})")
    if problems:
        raise Fail(failures_text(problems, clients), notes=(
            "every client must get back every byte it sent, in order, and then FIN (not RST): a "
            "server that serves many clients at once must keep each connection's bytes to itself",))
    if (peak - idle.rss_kib) * KIB > limit:
        raise Fail(f"the server's memory peaked {mib(peak - idle.rss_kib)} above idle, over the "
                   f"{mib(limit / KIB)} allowed for a {ctx.server.variant} server: per-connection memory "
                   f"must stay small (a bounded buffer, a small stack)")
