"""What a case is, what it gets to work with, and the registry every case adds itself to.

    @case("server/bytes/single", MUST, 1, rules.ECHO)
    def single_byte(ctx):
        echo(ctx, b"A")

A case checks one sentence of RFC 862 or of the lab's contract; it raises Fail (or Stalled, a
timeout) when the program breaks it, and returns when it holds.
"""

from __future__ import annotations

import fnmatch
import random
from dataclasses import dataclass, field
from typing import Callable

from conformance import procs
from conformance.failures import Fail, Stalled
from conformance.manifest import Implementation
from conformance.vectors import derive_seed, seeded_bytes
from conformance.wire import Timeouts, Wire
from conformance.wirelog import WireLog

MUST, SHOULD = "MUST", "SHOULD"
# Servers: readiness first, then the body, then the pairs, then what ends the server.
FIRST, BODY, LAST = 0, 1, 2


@dataclass(frozen=True)
class Rule:
    """A sentence a case checks, and where it is written."""
    sentence: str
    source: str


@dataclass(frozen=True)
class Case:
    id: str
    level: str
    weight: float
    rule: Rule
    check: Callable[["Context"], None] = field(compare=False, repr=False)
    summary: str = ""  # what the case does, one line
    requires: tuple[tuple[str, str], ...] = ()  # (role, capability) the program(s) must declare
    stage: int = BODY

    @property
    def role(self) -> str:
        """server, client or pair: whose cases these are."""
        return self.id.split("/", 1)[0]


REGISTRY: dict[str, Case] = {}


def case(case_id: str, level: str, weight: float, rule: Rule, *, requires: tuple[tuple[str, str], ...] = (),
         stage: int = BODY):
    """Register the decorated function as a case; its docstring is the case's summary."""
    def register(check: Callable[["Context"], None]):
        summary = " ".join((check.__doc__ or "").split())
        add(Case(case_id, level, weight, rule, check, summary, requires, stage))
        return check
    return register


def add(item: Case) -> Case:
    if item.id in REGISTRY:
        raise ValueError(f"duplicate case id {item.id}")
    if item.level not in (MUST, SHOULD):
        raise ValueError(f"{item.id}: level must be MUST or SHOULD")
    REGISTRY[item.id] = item
    return item


def matches(case_id: str, patterns: list[str] | None) -> bool:
    """Whether a case id is selected by any of the globs; a pattern without a wildcard also
    selects everything under it (`server/bytes` selects `server/bytes/nul`)."""
    if not patterns:
        return True
    return any(fnmatch.fnmatchcase(case_id, p) or fnmatch.fnmatchcase(case_id, p.rstrip("/") + "/*")
               for p in patterns)


@dataclass
class Context:
    case: Case
    run_seed: int
    timeouts: Timeouts
    log: WireLog
    server: Implementation | None = None
    client: Implementation | None = None
    process: procs.ServerProcess | None = None  # the server under test, started by the engine
    client_runs: list[procs.ClientResult] = field(default_factory=list)  # kept for the logs
    full: bool = False  # fault cases: the full figures instead of the bounded ones
    figures: list[str] = field(default_factory=list)  # fault cases: what was measured, for the table

    @property
    def seed(self) -> int:
        """This case's own seed: the same bytes whatever else runs in the same run."""
        return derive_seed(self.run_seed, self.case.id)

    @property
    def rng(self) -> random.Random:
        return random.Random(self.seed)

    def payload(self, length: int) -> bytes:
        return seeded_bytes(self.seed, length)

    @property
    def port(self) -> int:
        return self.process.port

    def connect(self, host: str = "127.0.0.1", name: str = "client") -> Wire:
        return Wire(host, self.port, self.log, self.timeouts, name)

    def run_client(self, stdin: bytes, port: int, host: str = "127.0.0.1", options: tuple[str, ...] = (),
                   progress=None, hint: str | None = None) -> procs.ClientResult:
        """Run the client under test; a client that hangs raises Stalled (with `hint`)."""
        self.log.note("tester", f"starting {self.client.id} {' '.join(options)} {host} {port} "
                                f"with {len(stdin)} bytes on stdin")
        result = procs.run_client(self.client, host, port, stdin, options, timeout=self.timeouts.client,
                                  stall=self.timeouts.stall * 2, progress=progress)
        self.client_runs.append(result)
        self.log.note("program", f"{self.client.id} exited with status {result.returncode} after "
                                 f"{result.seconds:.2f} s, {len(result.stdout)} bytes on stdout")
        if result.timeout:
            reached = f"; {progress()} of its {len(stdin)} bytes of input reached the tester" if progress else ""
            raise Stalled(f"{self.client.id} {result.timeout}: killed", notes=(
                f"by then it had printed {len(result.stdout)} bytes{reached}",
                hint or "a deadlock, or a missed end of input or close?",
                f"stderr: {stderr_text(result) or '(empty)'}"))
        return result


def stderr_text(result: procs.ClientResult, limit: int = 300) -> str:
    text = result.stderr.decode("utf-8", errors="replace").strip()
    return text if len(text) <= limit else text[:limit] + "..."


__all__ = ["BODY", "Case", "Context", "FIRST", "Fail", "LAST", "MUST", "REGISTRY", "Rule", "SHOULD",
           "Stalled", "add", "case", "matches", "stderr_text"]
