"""Volume and the way bytes are written: a stream read while it is written, a stream read
slowly, one-byte and random-sized writes, and the system's short counts and EINTR."""

from __future__ import annotations

from conformance.cases import rules
from conformance.cases.case import MUST, Context, Fail, case
from conformance.cases.server import MIB, serve_echo
from conformance.cases.shim import SHIM, shim_cannot_reach, shim_env
from conformance.net.wire import echo
from conformance.observation import Skipped, Unsupported


@case("server/stream/1mib", MUST, 3, rules.HALF_CLOSE)
def one_mib(ctx: Context) -> None:
    """1 MiB of seeded random bytes, written while the echo is read, then a half-close: all of
    it comes back, then FIN (not RST)."""
    serve_echo(ctx, ctx.payload(MIB), stall=ctx.timeouts.stall * 2)


TAIL = 16 * MIB


@case("server/stream/tail-at-volume", MUST, 3, rules.HALF_CLOSE)
def tail_at_volume(ctx: Context) -> None:
    """16 MiB sent as fast as the server takes them, then a half-close, with the client reading
    nothing (through a 256 KiB receive buffer) until it has sent it all or the server stops
    taking bytes for 0.25 s: every byte comes back, then FIN. A server that closes when the
    client's FIN arrives, with echo still owed, loses the tail here."""
    # Sent in 64 KiB pieces so the hold sees the writer's progress; the fixed receive buffer
    # keeps the echo from fitting in the client's kernel whatever the host allows (tcp_rmem's
    # maximum is 32 MiB on some machines).
    serve_echo(ctx, ctx.bulk(TAIL), pieces=[64 * 1024] * (TAIL // (64 * 1024)), stall=ctx.timeouts.stall * 2,
               hold=0.25, receive_buffer=256 * 1024)


@case("server/writes/one-byte", MUST, 1, rules.ANY_SPLIT)
def one_byte_writes(ctx: Context) -> None:
    """512 seeded bytes written one byte per send (Nagle off) come back whole."""
    payload = ctx.payload(512)
    serve_echo(ctx, payload, pieces=[1] * len(payload))


@case("server/writes/random-chunks", MUST, 1, rules.ANY_SPLIT)
def random_chunks(ctx: Context) -> None:
    """64 KiB + 1 seeded bytes written in seeded random pieces of 1 to 4096 bytes come back whole."""
    payload = ctx.payload(65537)
    rng, pieces, total = ctx.rng, [], 0
    while total < len(payload):
        pieces.append(min(rng.randint(1, 4096), len(payload) - total))
        total += pieces[-1]
    serve_echo(ctx, payload, pieces=pieces)


@case("server/short-writes", MUST, 2, rules.EVERY_BYTE)
def short_writes(ctx: Context) -> None:
    """With send, recv, read and write on its sockets returning short counts and EINTR at seeded
    random (an LD_PRELOAD shim over libc), 1 MiB echoes byte-exact and ends with FIN, for 2
    seeds (10 in the full form)."""
    why = shim_cannot_reach(ctx.server)
    if why:
        raise Unsupported(why)
    if not SHIM.exists():
        raise Skipped(f"{SHIM} is missing: run make")
    seeds = [ctx.seed % 1_000_000 + k for k in range(10 if ctx.full else 2)]
    data = ctx.payload(MIB)
    for seed in seeds:
        with ctx.start_server(env=shim_env(seed)) as server:
            try:
                with ctx.connect(port=server.port, name=f"client (shim seed {seed})") as wire:
                    echo(wire, data, half_close=ctx.server.has("half_close"), stall=ctx.timeouts.stall * 2)
            except Fail as e:
                e.note("send, recv, read and write may move fewer bytes than asked, or fail with EINTR: loop "
                       "until everything is written, and retry on EINTR",
                       "replay by hand: " + " ".join(f"{k}={v}" for k, v in shim_env(seed).items()) + " <server>")
                raise
    ctx.note(f"1 MiB byte-exact under the shim for seeds {seeds[0]}..{seeds[-1]}")
