"""Robustness cases: what a server meets in the wild (floods, clients that never read, slow and
vanishing clients, running out of descriptors, SIGTERM with work in flight, a restart over
TIME_WAIT, bad command lines) and what it must do about it. Each case starts servers of its
own (ctx.start_server), with the flags and limits it needs, and measures the server process
itself from /proc.

Every case has a full form (`robustness --full`: the figures of the table in
conformance/MANIFESTS.md, 1,000 clients x 1 MiB and so on) and a bounded form with smaller
counts and the same pass criteria, which `make test` and `grade --cases robust` run. What a case
measured goes in `ctx.figures`, for the robustness table.

Robustness cases run only when asked for by id: `--cases robust` (or `robust/flood`, ...).

One module per scenario group: flood, stalled (a client that never reads), slow (slow-loris,
slow peers), descriptors, resets (resets, write-and-leave), limits (max connections, drain),
restart (TIME_WAIT, bad input), network (a vanished client, a slow link: in the private network only).
"""

from __future__ import annotations

import asyncio
import random
import resource
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from conformance import procfs
from conformance.cases.case import Context, Fail, Rule
from conformance.net import load
from conformance.process import Server

KIB, MIB = 1 << 10, 1 << 20
HOST = "127.0.0.1"
SOURCE = "conformance/MANIFESTS.md, Robustness cases"
CONCURRENT = (("server", "concurrent"),)
# The memory a connection may hold: twice this is what a client that never reads may cost.
BUFFER_CAP = 8 * MIB
NOISE = 0.020  # seconds: a round trip's bound is never tighter than this above its baseline on a busy machine (a loaded
# two-core machine gives a correct asyncio server a p99 of 6 ms; a server the pusher slows shows
# tens of milliseconds, and one it blocks, no echo at all)


def rule(sentence: str) -> Rule:
    return Rule(sentence, SOURCE)


def pick(ctx: Context, full, bounded):
    return full if ctx.full else bounded


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


@dataclass
class Subject:
    """A server started for one robustness case, and the process that really listens."""
    process: Server
    pid: int

    @property
    def port(self) -> int:
        return self.process.port

    def usage(self) -> procfs.Usage:
        try:
            return procfs.Usage.of(self.pid)
        except OSError:
            self.check_alive("while it was being measured")
            raise

    def check_alive(self, when: str) -> None:
        """Fail, naming the cause of death, when the server has exited."""
        if self.process.alive():
            return
        ending = self.process.ending()
        raise Fail(f"the server died {when}: {ending.death()}; a client's faults must never end the server",
                   server_died=str(ending))


@contextmanager
def serving(ctx: Context, options: tuple[str, ...] = (), port: int = 0, env: dict | None = None,
            nofile: int | None = None) -> Iterator[Subject]:
    """The server under test started for this case with `options`, on `port`, with `env` added
    and its descriptor limit set to `nofile`; killed at the end, whatever happened."""
    raise_own_limit()
    with ctx.start_server(options, env=env, nofile=nofile, port=port) as process:
        subject = Subject(process, procfs.listener_pid(process.pid, process.port))
        try:
            yield subject
        except (OSError, asyncio.TimeoutError):
            # A refused or reset connection is the harness's problem only while the server lives:
            # a server that died of the fault fails the case, with the cause of death.
            if process.wait(0.5) is not None:
                subject.check_alive("during the fault")
            raise


def half_close(ctx: Context) -> bool:
    return ctx.server.has("half_close")


def warm_up(ctx: Context, server: Subject) -> None:
    """One ordinary session first, so what a runtime sets up lazily is in the baseline."""
    problem = asyncio.run(load.echo_client(HOST, server.port, b"warming up\n", half_close(ctx), timeout=10))
    if problem:
        raise Fail(f"an ordinary session before the fault failed: {problem}")


def failures_text(problems: list[tuple[int, str]], total: int, what: str = "clients") -> str:
    shown = "; ".join(f"client {i}: {p}" for i, p in problems[:5])
    more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
    return f"{len(problems)} of {total} {what} failed: {shown}{more}"


async def served_within(port: int, bound: float = 1.0) -> float:
    """Seconds until a fresh client's round trip succeeds, trying for `bound` seconds; inf if
    none did."""
    start = asyncio.get_running_loop().time()
    while asyncio.get_running_loop().time() - start < bound:
        if await load.round_trip(HOST, port, timeout=0.5) < 1.0:
            return asyncio.get_running_loop().time() - start
        await asyncio.sleep(0.05)
    return float("inf")


# Importing the modules registers their cases, in this order.
from conformance.cases.robust import flood, stalled, slow, descriptors, resets, limits, restart, network  # noqa: E402,F401,E501  isort: skip
