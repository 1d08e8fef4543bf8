"""Fault cases: what a server meets in the wild (floods, clients that never read, slow and
vanishing clients, running out of descriptors, SIGTERM with work in flight, a restart over
TIME_WAIT, bad command lines) and what it must do about it. Each case starts servers of its
own, with the flags and limits it needs, and measures the server process itself from /proc.

Every case has a full form (`faults --full`: the figures of the lab's robustness scenarios,
1,000 clients x 1 MiB and so on) and a bounded form with smaller counts and the same pass
criteria, which `make test` and `grade` run. What a case measured goes in `ctx.figures`, for
the fault table.

Fault cases run only when asked for by id: `--cases fault` (or `fault/flood`, ...).
"""

from __future__ import annotations

import asyncio
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

from conformance.cases.base import MUST, Context, Fail, Rule, case
from conformance.failures import Unsupported
from conformance.faults import load
from conformance.faults.badinput import BAD_SERVER_ARGS, UNRESOLVABLE, ZONED, refusal_problem
from conformance.faults.probe import Usage, listener_pid, mib, settle_fds, time_wait_count
from conformance.manifest import default_root
from conformance.procs import ServerProcess, run_client, tail

KIB, MIB = 1 << 10, 1 << 20
HOST = "127.0.0.1"
SOURCE = "conformance/MANIFESTS.md, Fault cases"
SHIM = default_root() / "build" / "lib" / "libshort_io_shim.so"
CONCURRENT = (("server", "concurrent"),)
# The memory a connection may hold: twice this is what a client that never reads may cost.
BUFFER_CAP = 8 * MIB
NOISE = 0.005  # seconds: a round trip's bound is never tighter than this on a busy machine


def rule(sentence: str) -> Rule:
    return Rule(sentence, SOURCE)


FLOOD = rule("1,000 concurrent clients, each sending 1 MiB while reading, then half-closing: all "
             "byte-exact, every close a FIN; peak memory bounded (64 MiB for an event loop, 256 MiB "
             "for a thread per connection).")
STALLED = rule("A client that pushes 1 GiB and never reads: the server's memory for it stays within "
               "twice its buffer cap; meanwhile other clients' round-trip p99 stays within twice the "
               "baseline.")
LORIS = rule("1,000 slow connections sending a byte every 5 s: throughout, a fresh client gets its "
             "echo in under 100 ms; with --idle-timeout 2 they are closed within the timeout plus 10%.")
EXHAUSTION = rule("Descriptor exhaustion (ulimit -n 64, 200 connections held open): no crash, no busy "
                  "loop, connections it cannot serve are closed within 1 s, and new clients are served "
                  "within 1 s after the others leave.")
RESETS = rule("10,000 clients that reset mid-stream: no crash, no SIGPIPE death, the server's "
              "descriptor count returns to its baseline.")
SHORT_IO = rule("send, recv, read and write returning short counts and EINTR at seeded random: the "
                "server stays byte-exact.")
SLOW_PEER = rule("A peer that sends in 1-byte segments, and one throttled to 64 KB/s: byte-exact, no "
                 "premature timeout.")
LEAVE = rule("A client that writes 1 MiB and closes without reading: the server survives and frees "
             "the descriptor within 1 s.")
MAX_CONN = rule("--max-connections N: never more than N served at once; the rest are closed promptly, "
                "not left hanging.")
DRAIN = rule("SIGTERM with in-flight streams: new connections are refused within 100 ms, in-flight "
             "streams finish byte-exact within the drain deadline (--drain-timeout), exit 0.")
TIME_WAIT = rule("A restart with thousands of TIME_WAIT sockets on the port binds at once.")
BAD_INPUT = rule("Bad input (unknown flags, port 70000, port abc, an empty host, an unresolvable host, "
                 "an IPv6 literal with a zone): one clear line, exit 2 or 1, no crash, no hang.")


def pick(ctx: Context, full, bounded):
    return full if ctx.full else bounded


def note(ctx: Context, text: str) -> None:
    """A measured figure: kept for the fault table and written to the wire log."""
    ctx.figures.append(text)
    ctx.log.note("tester", text)


def raise_own_limit() -> None:
    """The harness holds thousands of sockets at once: raise its soft descriptor limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def pattern(seed: int, size: int, spread: int = 64 * KIB) -> memoryview:
    """Seeded random bytes that clients take windows of, each at its own offset, so no client
    carries a copy and a server that mixes up connections is still caught."""
    return memoryview(random.Random(seed).randbytes(size + spread))


def window(base: memoryview, index: int, size: int) -> memoryview:
    offset = (index * 7919) % (len(base) - size + 1)
    return base[offset:offset + size]


# --- the server under test ---------------------------------------------------------------------

DEATHS = {
    signal.SIGPIPE: "a write to a client that had gone raised SIGPIPE, whose default action ends the "
                    "process: ignore SIGPIPE, or send with MSG_NOSIGNAL, and treat EPIPE as the end of "
                    "that session only",
    signal.SIGSEGV: "a segmentation fault",
    signal.SIGABRT: "an abort (an uncaught exception or a failed assertion)",
}


@dataclass
class Server:
    """A server started for one fault case, and the process that really listens."""
    process: ServerProcess
    pid: int

    @property
    def port(self) -> int:
        return self.process.port

    def usage(self) -> Usage:
        try:
            return Usage.of(self.pid)
        except OSError:
            self.check_alive("while it was being measured")
            raise

    def check_alive(self, when: str) -> None:
        """Fail, naming the cause of death, when the server has exited."""
        if self.process.alive():
            return
        status = self.process.proc.returncode
        if status < 0:
            sig = signal.Signals(-status)
            why = f"it was killed by {sig.name}: {DEATHS.get(sig, 'a fatal signal')}"
        else:
            why = f"it exited with status {status}"
        raise Fail(f"the server died {when}: {why}; a client's faults must never end the server")


@contextmanager
def serving(ctx: Context, options: tuple[str, ...] = (), port: int = 0, env: dict | None = None,
            nofile: int | None = None):
    """Start the server under test with `options`, on `port`, with `env` added and its
    descriptor limit set to `nofile` (as `ulimit -n` would); killed at the end, whatever
    happened. A failure gets the server's stderr attached."""
    raise_own_limit()
    extra = {}
    if env:
        extra["env"] = {**os.environ, **env}
    if nofile:
        extra["preexec_fn"] = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
    process = ServerProcess(ctx.server, port=port, options=options, ready_timeout=ctx.timeouts.ready,
                            **extra).start()
    ctx.log.note("tester", f"started {' '.join(process.argv)}" + (f" (ulimit -n {nofile})" if nofile else ""))
    try:
        if process.failure:
            raise Fail(process.failure)
        server = Server(process, listener_pid(process.proc.pid, process.port))
        try:
            yield server
        except (OSError, asyncio.TimeoutError):
            # A refused or reset connection is the harness's problem only while the server lives:
            # a server that died of the fault fails the case, with the cause of death.
            if process.proc is not None and process.exited_within(0.5):
                server.check_alive("during the fault")
            raise
    except Fail as e:
        if process.proc is not None and not process.failure:
            e.notes += ("the server's stderr:\n" + tail(process.stderr, 8),)
        raise
    finally:
        process.kill()


def half_close(ctx: Context) -> bool:
    return ctx.server.has("half_close")


def warm_up(ctx: Context, server: Server) -> None:
    """One ordinary session first, so what a runtime sets up lazily is in the baseline."""
    problem = asyncio.run(load.echo_client(HOST, server.port, b"warming up\n", half_close(ctx), timeout=10))
    if problem:
        raise Fail(f"an ordinary session before the fault failed: {problem}")


def failures_text(problems: list[tuple[int, str]], total: int, what: str = "clients") -> str:
    shown = "; ".join(f"client {i}: {p}" for i, p in problems[:5])
    more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
    return f"{len(problems)} of {total} {what} failed: {shown}{more}"


# --- 1. flood ----------------------------------------------------------------------------------

@case("fault/flood", MUST, 3, FLOOD)
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
    note(ctx, f"{clients - len(problems)}/{clients} x {size // KIB} KiB byte-exact in {seconds:.1f} s")
    note(ctx, f"peak RSS {mib(peak)} ({mib(peak - idle.rss_kib)} above idle; limit {mib(limit / KIB)})")
    if problems:
        raise Fail(failures_text(problems, clients), notes=(
            "every client must get back every byte it sent, in order, and then FIN (not RST): a "
            "server that serves many clients at once must keep each connection's bytes to itself",))
    if (peak - idle.rss_kib) * KIB > limit:
        raise Fail(f"the server's memory peaked {mib(peak - idle.rss_kib)} above idle, over the "
                   f"{mib(limit / KIB)} allowed for a {ctx.server.variant} server: per-connection memory "
                   f"must stay small (a bounded buffer, a small stack)")


# --- 2. a client that never reads --------------------------------------------------------------

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


@case("fault/stalled-reader", MUST, 2, STALLED)
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
    note(ctx, f"pushed {pushed / MIB:.1f} MiB of {limit // MIB} MiB; memory grew {mib(growth / KIB)} "
              f"(limit {mib(2 * BUFFER_CAP / KIB)}); peak RSS {mib(after.hwm_kib)}")
    if growth > 2 * BUFFER_CAP:
        raise Fail(f"the server's memory grew by {mib(growth / KIB)} while a client that never reads "
                   f"pushed {pushed / MIB:.0f} MiB: it keeps reading and piles up an echo nobody takes",
                   notes=("backpressure: while a client is not taking its echo, stop reading from it "
                          "(keep at most a bounded buffer); TCP then makes the client wait",))


@case("fault/stalled-reader/others-served", MUST, 1, STALLED, requires=CONCURRENT)
def stalled_reader_others(ctx: Context) -> None:
    """While a client pushes and never reads, another client's round trips stay fast: p99 within
    twice the p99 measured before (and never under 5 ms, for a busy machine's noise)."""
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
    bound = max(2 * base, NOISE)
    note(ctx, f"round-trip p99 {base * 1e3:.2f} ms before, {busy * 1e3:.2f} ms while pushed "
              f"({pushed / MIB:.0f} MiB); bound {bound * 1e3:.2f} ms")
    if busy > bound:
        raise Fail(f"another client's round-trip p99 rose from {base * 1e3:.2f} ms to {busy * 1e3:.2f} ms "
                   f"(bound {bound * 1e3:.2f} ms) while one client pushed and never read: one client's "
                   f"stalled echo must not slow the others")


# --- 3. slow connections -----------------------------------------------------------------------

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
    machine's noise when there were ten or more, but none may take a second."""
    slow = sorted(t for t in times if t >= PROBE_LIMIT)
    forgiven = 1 if len(times) >= 10 and (not slow or slow[-1] < 1.0) else 0
    worst = max(times) if times else 0.0
    note(ctx, f"{len(times)} fresh clients while {held}: worst {worst * 1e3:.0f} ms, "
              f"{len(slow)} at or over 100 ms")
    if not times or len(slow) > forgiven:
        never = sum(1 for t in slow if t == float("inf"))
        raise Fail(f"{len(slow)} of {len(times)} fresh clients waited 100 ms or more for their echo while "
                   f"{held} ({never} got none within 5 s)", notes=(
                       "slow clients must not hold up the others: serve connections concurrently (a "
                       "thread, task or event-loop entry each), never one at a time",))


async def served_within(port: int, bound: float = 1.0) -> float:
    """Seconds until a fresh client's round trip succeeds, trying for `bound` seconds; inf if
    none did."""
    start = time.monotonic()
    while time.monotonic() - start < bound:
        if await load.round_trip(HOST, port, timeout=0.5) < 1.0:
            return time.monotonic() - start
        await asyncio.sleep(0.05)
    return float("inf")


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


@case("fault/slow-loris", MUST, 2, LORIS)
def slow_loris(ctx: Context) -> None:
    """1,000 connections (bounded: 100) each send a byte every 5 s (bounded: every second) and
    get it back; meanwhile a fresh client every 0.25 s gets its echo in under 100 ms."""
    count, interval, hold = pick(ctx, (1000, 5.0, 11.0), (100, 1.0, 3.0))
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


@case("fault/slow-loris/idle-timeout", MUST, 2, LORIS, requires=(("server", "idle_timeout"),))
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
        note(ctx, f"{len(seconds)}/{count} idle connections closed after "
                  f"{min(seconds):.2f}..{max(seconds):.2f} s "
                  f"(--idle-timeout {timeout:g})")
    check_probes(ctx, times, f"{count} idle connections waited to be closed")
    problems = other + late + early
    if problems:
        raise Fail(failures_text(problems, count, "idle connections"), notes=(
            f"with --idle-timeout {timeout:g}, a connection on which nothing moved for {timeout:g} s must be "
            f"closed between {timeout * 0.9:.1f} and {timeout * 1.1:.1f} s after its last byte",))


# --- 4. out of descriptors ---------------------------------------------------------------------

@dataclass
class Exhaustion:
    count: int
    kinds: list[str]  # per connection: served, closed, hanging or refused
    cpu: float  # share of one core while saturated
    served_after: float  # seconds until a new client was served once the others left


def exhaust(ctx: Context) -> Exhaustion:
    """Start the server under `ulimit -n 64`, hold 200 connections (bounded: 100) open, each
    sending a byte, and see what became of each within 1 s; measure the server's CPU while they
    are held (half a second after the last connected, over 3 s; bounded: 2 s), then close them
    all and time how soon a new client is served."""
    count, window_s = pick(ctx, (200, 3.0), (100, 2.0))  # CPU time comes in 10 ms ticks: not shorter
    with serving(ctx, nofile=64) as server:
        async def run():
            async def one():
                try:
                    reader, writer = await load.connect(HOST, server.port, timeout=2)
                except (OSError, asyncio.TimeoutError):
                    return "refused", None
                writer.write(b"x")
                try:
                    async with asyncio.timeout(1.0):
                        got = await reader.read(1)
                    return ("served" if got == b"x" else "closed"), writer
                except TimeoutError:
                    return "hanging", writer
                except (ConnectionResetError, BrokenPipeError):
                    return "closed", writer
            results = []
            for start in range(0, count, 20):  # a few at a time: no SYN is dropped for want of backlog
                results += await asyncio.gather(*(one() for _ in range(min(count, start + 20) - start)))
            await asyncio.sleep(0.5)  # the burst of connections handled: now measure the idle wait
            before = server.usage()
            await asyncio.sleep(window_s)
            after = server.usage()
            for _, writer in results:
                if writer is not None:
                    writer.transport.abort()
            served_after = await served_within(server.port)
            cpu = (after.cpu - before.cpu) / max(after.at - before.at, 1e-6)
            return Exhaustion(count, [kind for kind, _ in results], cpu, served_after)
        found = asyncio.run(run())
        server.check_alive("while it was out of descriptors")
    kinds = found.kinds
    note(ctx, f"{count} held under ulimit -n 64: {kinds.count('served')} served, "
              f"{kinds.count('closed')} closed, "
              f"{kinds.count('hanging')} left hanging, {kinds.count('refused')} not connected; "
              f"CPU {found.cpu:.1%} while saturated; new client served "
              + (f"{found.served_after * 1e3:.0f} ms after they left" if found.served_after < 1
                 else "not within 1 s"))
    return found


@case("fault/fd-exhaustion", MUST, 2, EXHAUSTION)
def fd_exhaustion(ctx: Context) -> None:
    """Under `ulimit -n 64`, 200 connections (bounded: 100) held open: the server survives, uses
    under 5% CPU meanwhile (no busy loop), and once they leave a new client is served within 1 s."""
    found = exhaust(ctx)
    if found.cpu >= 0.05:
        raise Fail(f"the server used {found.cpu:.0%} CPU while out of descriptors with nothing to do: a "
                   f"busy loop", notes=("accept keeps failing with EMFILE while clients wait: retrying at "
                                        "once spins; refuse the waiting client, or pause accepting for a while",))
    if found.served_after >= 1.0:
        raise Fail("after the held connections left, a new client was not served within 1 s",
                   notes=("once descriptors are free again, the server must accept again",))


@case("fault/fd-exhaustion/shed", MUST, 1, EXHAUSTION)
def fd_exhaustion_shed(ctx: Context) -> None:
    """Under `ulimit -n 64`, of 200 connections (bounded: 100) each sending a byte, every one is
    served or closed within 1 s: none is left hanging in the backlog."""
    found = exhaust(ctx)
    hanging, refused = found.kinds.count("hanging"), found.kinds.count("refused")
    if hanging or refused:
        raise Fail(f"{hanging} of {found.count} connections were neither served nor closed within 1 s of "
                   f"connecting ({refused} could not connect at all)", notes=(
                       "out of descriptors, accept fails with EMFILE and the client waits in the backlog "
                       "for ever: close it at once (keep a spare descriptor to accept and close with, as "
                       "libuv does) so it learns",))


# --- 5. resets ---------------------------------------------------------------------------------

@case("fault/resets", MUST, 2, RESETS)
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
            server.process.exited_within(0.3)
            server.check_alive("after clients reset their connections")
    note(ctx, f"{connected}/{count} resets; descriptors {baseline} before, {fds} after "
              f"({'back' if fds <= baseline else 'not back'} in {seconds:.2f} s)")
    if connected < count:
        raise Fail(f"only {connected} of {count} clients could connect")
    if fds > baseline:
        raise Fail(f"the server holds {fds} descriptors 2 s after the last reset, {baseline} before: "
                   f"{fds - baseline} leaked", notes=("a reset (ECONNRESET, EPIPE) ends a session like EOF "
                                                      "does: close its socket on every path",))
    if problem:
        raise Fail(f"after the resets, an ordinary client failed: {problem}")


# --- 6. short counts and EINTR -----------------------------------------------------------------

def raw_syscalls(ctx: Context) -> str | None:
    """Why an LD_PRELOAD shim over libc cannot reach this program's socket I/O, or None."""
    if ctx.server.language == "go":
        return ("Go's runtime makes its system calls directly, not through libc: an LD_PRELOAD shim never "
                "sees them")
    program = ctx.server.command(HOST, 0, ())[0]
    path = shutil.which(program, path=str(ctx.server.directory) + os.pathsep + os.environ.get("PATH", ""))
    try:
        with open(path or program, "rb") as f:
            head = f.read(1 << 16)
    except OSError:
        return None
    if b"Go build ID:" in head:
        return "a Go program: its runtime makes system calls directly, not through libc"
    return None


@case("fault/short-io", MUST, 2, SHORT_IO)
def short_io(ctx: Context) -> None:
    """Under the LD_PRELOAD shim (build/lib/libshort_io_shim.so: short counts and EINTR at
    seeded random), 1 MiB echoes byte-exact and ends with FIN, for 10 seeds (bounded: 2)."""
    why = raw_syscalls(ctx)
    if why:
        raise Unsupported(why)
    if not SHIM.exists():
        raise FileNotFoundError(f"{SHIM} is missing: run make")
    seeds = [ctx.seed % 1_000_000 + k for k in range(pick(ctx, 10, 2))]
    data = random.Random(ctx.seed).randbytes(MIB)
    for seed in seeds:
        env = {"LD_PRELOAD": str(SHIM), "ECHO_LAB_SHIM_SEED": str(seed), "ECHO_LAB_SHIM_EINTR": "20",
               "ECHO_LAB_SHIM_SHORT": "60"}
        with serving(ctx, env=env) as server:
            problem = asyncio.run(load.echo_client(HOST, server.port, data, half_close(ctx), timeout=30))
            server.check_alive(f"under the shim with ECHO_LAB_SHIM_SEED={seed}")
            if problem:
                raise Fail(f"under the shim with ECHO_LAB_SHIM_SEED={seed}: {problem}", notes=(
                    "send, recv, read and write may move fewer bytes than asked, or fail with EINTR: loop "
                    "until everything is written, and retry on EINTR",
                    f"replay by hand: LD_PRELOAD={SHIM} ECHO_LAB_SHIM_SEED={seed} ECHO_LAB_SHIM_EINTR=20 "
                    f"ECHO_LAB_SHIM_SHORT=60 <server>"))
    note(ctx, f"1 MiB byte-exact under the shim for seeds {seeds[0]}..{seeds[-1]}")


# --- 7. slow peers -----------------------------------------------------------------------------

@case("fault/slow-peer", MUST, 2, SLOW_PEER)
def slow_peer(ctx: Context) -> None:
    """One client sends 8 KiB (bounded: 1 KiB) in 1-byte segments, about 1,000 a second;
    another sends 1 MiB (bounded: 128 KiB) throttled to 64 KB/s; both read as they go and get
    every byte back. A server with --idle-timeout runs with 1 s: clients that keep sending must
    not be cut off."""
    tiny, throttled = pick(ctx, (8 * KIB, MIB), (KIB, 128 * KIB))
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
    note(ctx, f"{tiny} bytes in 1-byte segments and {throttled // KIB} KiB at 64 KB/s: "
              f"{'byte-exact' if not any(problems) else 'broken'} in {seconds:.1f} s"
              + (" (--idle-timeout 1)" if options else ""))
    for name, problem in zip(("the 1-byte-segment client", "the 64 KB/s client"), problems):
        if problem:
            raise Fail(f"{name}: {problem}", notes=(
                "a slow client that keeps sending is making progress: one read may return one byte, "
                "and an idle timeout counts time with nothing moving, not the session's length",))


# --- 8. write and leave ------------------------------------------------------------------------

@case("fault/write-and-leave", MUST, 2, LEAVE)
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
            server.process.exited_within(0.3)
            server.check_alive("after clients wrote 1 MiB and left without reading")
    note(ctx, f"{count} clients wrote 1 MiB and left; descriptor freed within {worst * 1e3:.0f} ms at worst")
    if problem:
        raise Fail(f"after clients left without reading, an ordinary client failed: {problem}")


# --- 9. a cap on connections -------------------------------------------------------------------

@case("fault/max-connections", MUST, 2, MAX_CONN, requires=(("server", "max_connections"),))
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
    note(ctx, f"--max-connections {cap}: {cap} served; of {extra} more, {outcome.count('closed')} closed, "
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


# --- 10. SIGTERM with work in flight -----------------------------------------------------------

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


@case("fault/drain", MUST, 2, DRAIN, requires=(("server", "drain"), ("server", "graceful_stop")))
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
        try:
            status = server.process.proc.wait(timeout=max(0.1, deadline + 1 - (time.monotonic() - signalled)))
        except subprocess.TimeoutExpired:
            status = None
        stopped = time.monotonic() - signalled
    problems = [(i, p) for i, p in enumerate(results) if p]
    note(ctx, f"SIGTERM with {streams} x {size // MIB} MiB in flight: new connections refused "
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


# --- 11. restart over TIME_WAIT ----------------------------------------------------------------

def fill_time_wait(count: int) -> int:
    """A port with `count` connections in TIME_WAIT on its side: a listener on :: accepts them
    and closes first (the side that closes first keeps TIME_WAIT), then goes away, as a server
    that stops does. Like any server meant to restart, it set SO_REUSEADDR: Linux lets a new
    socket bind over TIME_WAIT only when both sides asked for it."""
    listener = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        listener.bind(("::", 0))
        listener.listen(128)
        port = listener.getsockname()[1]
        for _ in range(count):
            with socket.create_connection((HOST, port), timeout=5) as client:
                accepted, _ = listener.accept()
                accepted.close()
                client.recv(1)
        return port
    finally:
        listener.close()


@case("fault/time-wait", MUST, 1, TIME_WAIT)
def time_wait(ctx: Context) -> None:
    """With 5,000 (bounded: 1,000) connections in TIME_WAIT on its port, the server started
    again on that port binds at once (SO_REUSEADDR) and serves."""
    count = pick(ctx, 5000, 1000)
    port = fill_time_wait(count)
    waiting = time_wait_count(port)
    if waiting < count // 2:
        raise OSError(f"only {waiting} of {count} connections are in TIME_WAIT on port {port}")
    started = time.monotonic()
    try:
        with serving(ctx, port=port) as server:
            ready = time.monotonic() - started
            problem = asyncio.run(load.echo_client(HOST, server.port, b"after a restart\n", half_close(ctx),
                                                   timeout=10))
    except Fail as e:
        e.notes += (f"{waiting} connections were in TIME_WAIT on port {port}: set SO_REUSEADDR on the "
                    f"listening socket before bind, and the port can be bound again at once",)
        raise
    note(ctx, f"bound port {port} over {waiting} TIME_WAIT sockets; ready in {ready:.2f} s")
    if problem:
        raise Fail(f"started again over TIME_WAIT, the server did not serve: {problem}")


# --- 12. bad command lines ---------------------------------------------------------------------

@case("fault/bad-input", MUST, 2, BAD_INPUT)
def bad_input(ctx: Context) -> None:
    """The server started with port 70000, port abc, port -1, an empty host or an unknown flag
    prints a usage text and exits 2; with an unresolvable host, an IPv6 literal with a zone that
    names no interface, or a port in use, one line naming the address, exit 1 (or 2 for the
    first two); never a crash or a hang."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind((HOST, 0))
        taken.listen()
        busy = taken.getsockname()[1]
        checks = [(what, host, port, options, (2,), None, True)
                  for what, host, port, options in BAD_SERVER_ARGS]
        if "{options}" not in ctx.server.run:
            untried = [c[0] for c in checks if c[3]]
            checks = [c for c in checks if not c[3]]
            note(ctx, f"not tried ({', '.join(untried)}): the command has no {{options}} to pass flags through")
        checks += [("an unresolvable host", UNRESOLVABLE, "0", (), (1, 2), UNRESOLVABLE, False),
                   ("an IPv6 literal with a zone", ZONED, "0", (), (1, 2), "fe80::1", False),
                   ("a port in use", HOST, str(busy), (), (1,), f"{HOST}:{busy}", False)]

        def one(check) -> str | None:
            what, host, port, options, statuses, naming, usage = check
            result = run_client(ctx.server, host, port, b"", options, timeout=15)
            ctx.client_runs.append(result)
            problem = refusal_problem(result, statuses, naming, usage)
            return result.describe(f"given {what}: {problem}") if problem else None
        with ThreadPoolExecutor(4) as pool:
            problems = [p for p in pool.map(one, checks) if p]
    note(ctx, f"{len(checks) - len(problems)}/{len(checks)} bad command lines refused cleanly")
    if problems:
        raise Fail(f"{len(problems)} of {len(checks)} bad command lines were not refused cleanly",
                   notes=tuple(problems))

