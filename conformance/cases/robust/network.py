"""What only a network does: a client whose host vanishes (every packet dropped: no FIN, no RST)
and a slow link. They need the run's private network (conformance/net/private.py), where the
harness may drop packets and slow the loopback down; elsewhere they are SKIPPED with the reason."""

from __future__ import annotations

import asyncio
import random
import socket

from conformance.cases.case import MUST, Context, Fail, case
from conformance.cases.robust import CONCURRENT, HOST, KIB, MIB, half_close, pick, rule, served_within, serving
from conformance.net import impair, load
from conformance.observation import Skipped

VANISHED = rule("A client whose host vanishes mid-session (every packet of its connection dropped: no FIN, "
                "no RST) holds up nobody: other clients are served meanwhile, and new ones after.")
SLOW_LINK = rule("Over a slow link (the loopback limited to 1 MB/s), a stream echoes byte-exact and nothing "
                 "is cut off while bytes move.")


def network(feature: str) -> None:
    why = impair.why_unavailable(feature)
    if why:
        raise Skipped(why)


@case("robust/vanished-client", MUST, 2, VANISHED, requires=CONCURRENT)
def vanished_client(ctx: Context) -> None:
    """A client sends a line and gets its echo; then every packet of its connection is dropped.
    Meanwhile 5 clients (bounded: 3) each get their echo, and after them a new client is served
    within 1 s."""
    network("vanish")
    others = pick(ctx, 5, 3)
    with serving(ctx) as server:
        gone = socket.create_connection((HOST, server.port), timeout=5)
        try:
            gone.sendall(b"before I vanish\n")
            gone.settimeout(5)
            try:
                first = gone.recv(64)
            except OSError as e:  # a timeout too: the program's failure, not the harness's
                raise Fail(f"the client that was to vanish got no echo of its first line: "
                           f"{'nothing within 5 s' if isinstance(e, TimeoutError) else e}") from None
            if first != b"before I vanish\n":
                raise Fail(f"the client that was to vanish got {first!r} back, not its first line")
            with impair.vanish(gone.getsockname()[1]):
                gone.sendall(b"into the void\n")  # the server never hears it

                async def run():
                    problems = await asyncio.gather(*(load.echo_client(HOST, server.port, f"client {k}\n".encode(),
                                                                       half_close(ctx), timeout=5)
                                                      for k in range(others)))
                    return problems, await served_within(server.port)
                problems, after = asyncio.run(run())
                server.check_alive("while a client's host had vanished")
        finally:
            gone.close()
    failed = [(k, p) for k, p in enumerate(problems) if p]
    ctx.note(f"with one client vanished: {others - len(failed)}/{others} others served; a new client served "
             + (f"after {after * 1e3:.0f} ms" if after < 1 else "not within 1 s"))
    if failed or after >= 1:
        raise Fail(f"with one client's host vanished, {len(failed)} of {others} other clients failed"
                   + ("" if after < 1 else " and a new client was not served within 1 s"), notes=(
                       "a vanished peer sends nothing, not even a FIN: a server that waits on it alone waits "
                       "for ever; serve connections concurrently (and an idle timeout frees what it holds)",))


@case("robust/slow-link", MUST, 1, SLOW_LINK, alone=True)
def slow_link(ctx: Context) -> None:
    """With the loopback limited to 1 MB/s, 4 MiB (bounded: 1.5 MiB) is echoed byte-exact while it
    is read, then FIN; a server with --idle-timeout runs with 1 s and must not cut it off."""
    network("slow_link")
    size = pick(ctx, 4 * MIB, 3 * MIB // 2)
    options = ("--idle-timeout", "1") if ctx.server.has("idle_timeout") else ()
    data = random.Random(ctx.seed).randbytes(size)
    with serving(ctx, options) as server:
        with impair.slow_link(1_000_000):
            problem = asyncio.run(load.echo_client(HOST, server.port, data, half_close(ctx), timeout=60))
        server.check_alive("over a slow link")
    ctx.note(f"{size // KIB} KiB over a 1 MB/s link: " + ("byte-exact" if not problem else problem)
             + (" (--idle-timeout 1)" if options else ""))
    if problem:
        raise Fail(f"over a slow link: {problem}", notes=(
            "a slow link is not an idle one: keep reading and writing as the bytes come, and count an idle "
            "timeout from the last byte that moved",))
