"""Server cases: the tester is the client. Each runs against the server the engine started on
its default host `::` with `--port 0`, shared across cases; a case that kills the server fails,
and the next case gets a fresh one."""

from __future__ import annotations

import signal

from conformance.cases import rules
from conformance.cases.base import FIRST, LAST, MUST, Context, Fail, Stalled, case
from conformance.vectors import load_vectors

VECTORS = load_vectors()
MIB = 1 << 20
CONCURRENT = (("server", "concurrent"),)


def echo(ctx: Context, payload: bytes, pieces: list[int] | None = None, host: str = "127.0.0.1",
         name: str = "client", stall: float | None = None) -> None:
    """Send `payload` while reading the echo; it must come back byte for byte. A server that
    declares half_close gets a half-close after the payload and must then close with FIN; one
    that does not is read back len(payload) bytes, then closed."""
    half_close = ctx.server.has("half_close")
    with ctx.connect(host, name) as wire:
        writer = wire.send_in_background(payload, pieces, half_close=half_close)
        try:
            wire.expect(payload, stall)
        except Fail:
            writer.abandon()
            raise
        writer.finish(ctx.timeouts.stall)
        if half_close:
            wire.expect_fin(after="after the client's half-close and the whole echo")


# --- readiness -------------------------------------------------------------------------------

@case("server/launch/ready", MUST, 1, rules.READY, stage=FIRST)
def ready(ctx: Context) -> None:
    """Started with --port 0, the server prints `listening on <host>:<port>` within 10 s."""
    if ctx.process.failure:
        raise Fail(ctx.process.failure)
    ctx.log.note("program", f"ready after {ctx.process.ready_seconds:.2f} s: {ctx.process.ready_line!r}")


# --- bytes -----------------------------------------------------------------------------------

def vector_case(case_id: str, vector: str, weight: float, rule, summary: str) -> None:
    def check(ctx: Context) -> None:
        echo(ctx, VECTORS[vector])
    check.__doc__ = summary
    case(case_id, MUST, weight, rule)(check)


vector_case("server/bytes/single", "one-byte", 1, rules.ECHO, "One byte, 'A', comes back.")
vector_case("server/bytes/all-256", "all-bytes", 2, rules.OCTETS,
            "Every byte value 0x00..0xff, once, in order, comes back unchanged.")
vector_case("server/bytes/nul", "nul", 1, rules.OCTETS, "NUL bytes inside a line come back.")
vector_case("server/bytes/crlf", "crlf", 1, rules.OCTETS, "CRLF line ends come back as CRLF.")
vector_case("server/bytes/lone-cr", "lone-cr", 1, rules.OCTETS, "Carriage returns that end nothing come back.")
vector_case("server/bytes/utf-8", "utf-8", 1, rules.OCTETS, "Two-, three- and four-byte UTF-8 comes back.")


@case("server/session/connect-close", MUST, 1, rules.CONTINUES)
def connect_close(ctx: Context) -> None:
    """A client connects and closes without sending; the server carries on and serves the next."""
    with ctx.connect(name="client 1") as wire:
        if ctx.server.has("half_close"):
            wire.half_close()
            wire.expect_fin(after="after a half-close with nothing sent")
    echo(ctx, b"still there?\n", name="client 2")


# --- streams ---------------------------------------------------------------------------------

@case("server/stream/1mib", MUST, 3, rules.HALF_CLOSE)
def one_mib(ctx: Context) -> None:
    """1 MiB of seeded random bytes, written while the echo is read, then a half-close: all of
    it comes back, then FIN (not RST)."""
    echo(ctx, ctx.payload(MIB), stall=ctx.timeouts.stall * 2)


@case("server/writes/one-byte", MUST, 1, rules.ONE_READ)
def one_byte_writes(ctx: Context) -> None:
    """512 seeded bytes written one byte per send (Nagle off) come back whole."""
    payload = ctx.payload(512)
    echo(ctx, payload, pieces=[1] * len(payload))


@case("server/writes/random-chunks", MUST, 1, rules.ONE_READ)
def random_chunks(ctx: Context) -> None:
    """64 KiB + 1 seeded bytes written in seeded random pieces of 1 to 4096 bytes come back whole."""
    payload = ctx.payload(65537)
    rng, pieces, total = ctx.rng, [], 0
    while total < len(payload):
        pieces.append(min(rng.randint(1, 4096), len(payload) - total))
        total += pieces[-1]
    echo(ctx, payload, pieces=pieces)


# --- sessions --------------------------------------------------------------------------------

@case("server/sequential/100-clients", MUST, 2, rules.CONTINUES)
def hundred_clients(ctx: Context) -> None:
    """100 clients one after another, each with its own line: every one is served."""
    for number in range(1, 101):
        echo(ctx, f"client {number} of 100\n".encode(), name=f"client {number}")


@case("server/reset/mid-stream", MUST, 2, rules.RESET)
def reset_mid_stream(ctx: Context) -> None:
    """A client sends 64 KiB, resets the connection while the echo is under way, and the next
    client is served."""
    payload = ctx.payload(65536)
    with ctx.connect(name="client 1") as first:
        first.send(payload[:4096])
        first.expect(payload[:4096])
        first.send(payload[4096:])
        first.reset()
    echo(ctx, b"served after a reset\n", name="client 2")


@case("server/concurrent/interleaved-5", MUST, 2, rules.CONCURRENT, requires=CONCURRENT)
def interleaved(ctx: Context) -> None:
    """5 clients connected at once send their lines in turn, 4 rounds: each gets its own echo."""
    wires = [ctx.connect(name=f"client {k}") for k in range(1, 6)]
    try:
        for round_ in range(1, 5):
            lines = [f"client {k} round {round_}\n".encode() for k in range(1, 6)]
            for wire, line in zip(wires, lines):
                wire.send(line)
            for wire, line in zip(wires, lines):
                wire.expect(bytes(wire.sent))
        if ctx.server.has("half_close"):
            for wire in wires:
                wire.half_close()
                wire.expect_fin()
    finally:
        for wire in wires:
            wire.close()


@case("server/concurrent/idle-client", MUST, 1, rules.CONCURRENT, requires=CONCURRENT)
def idle_client(ctx: Context) -> None:
    """A client connects and stays silent; another client is served meanwhile; then the silent
    one is served too."""
    with ctx.connect(name="idle client") as idle:
        echo(ctx, b"not blocked by an idle client\n", name="busy client")
        idle.send(b"my turn\n")
        idle.expect(b"my turn\n")


@case("server/bye", MUST, 1, rules.BYE, requires=(("server", "bye"),))
def bye(ctx: Context) -> None:
    """`hello` then `BYE`, no half-close: both are echoed, then the server closes the session."""
    with ctx.connect() as wire:
        wire.send(b"hello\nBYE\n")
        wire.expect(b"hello\nBYE\n")
        wire.expect_fin(after="after echoing BYE")


@case("server/dual-stack/ipv4", MUST, 1, rules.DUAL_STACK)
def ipv4(ctx: Context) -> None:
    """An IPv4 client (127.0.0.1) of the server on its default host :: is served."""
    echo(ctx, b"over IPv4\n", host="127.0.0.1")


@case("server/dual-stack/ipv6", MUST, 1, rules.DUAL_STACK)
def ipv6(ctx: Context) -> None:
    """An IPv6 client (::1) of the server on its default host :: is served."""
    echo(ctx, b"over IPv6\n", host="::1")


# --- the end of the server -------------------------------------------------------------------

@case("server/launch/stdout", MUST, 1, rules.STDOUT, stage=LAST)
def stdout_only_ready(ctx: Context) -> None:
    """After every other case, stdout held the readiness line and nothing else."""
    expected = ctx.process.ready_line + b"\n"
    if ctx.process.stdout != expected:
        raise Fail("stdout holds more than the readiness line (diagnostics go to stderr)",
                   expected=expected, received=ctx.process.stdout, lines=True)


@case("server/launch/sigterm", MUST, 1, rules.STOP, requires=(("server", "graceful_stop"),), stage=LAST)
def sigterm(ctx: Context) -> None:
    """SIGTERM: the server exits 0 within 2 s."""
    status = ctx.process.stop(signal.SIGTERM, timeout=2)
    ctx.log.note("tester", f"sent SIGTERM; exit status {status}")
    if status is None:
        raise Stalled("still running 2 s after SIGTERM (killed)")
    if status < 0:
        raise Fail(f"died of signal {-status} ({signal.Signals(-status).name}) instead of exiting 0")
    if status != 0:
        raise Fail(f"exited with status {status} on SIGTERM, not 0")
