"""What a case is, what it gets to work with, and the registry every case adds itself to.

    @case("server/bytes/single", MUST, 1, rules.ECHO)
    def single_byte(ctx):
        serve_echo(ctx, b"A")

A case checks one sentence of RFC 862 or of the lab's contract; it raises Fail (or Stalled, the
program made no progress) when the program breaks it, and returns when it holds.

Case ids name their kind: `server/...` and `client/...` (the program alone), `pair/...` (a lab
client against a lab server) are the conformance cases every grade runs; `robust/...` are the
robustness cases (floods, stalled readers, resets, running out of descriptors, ...), which run
only when asked for by id.
"""

from __future__ import annotations

import fnmatch
import random
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator

from conformance import process
from conformance.manifest import Implementation
from conformance.net.recorder import RecordingServer
from conformance.net.wire import Timeouts, Wire
from conformance.observation import Fail, Stalled
from conformance.vectors import derive_seed, seeded_bytes
from conformance.wirelog import WireLog

MUST, SHOULD = "MUST", "SHOULD"
# Servers: readiness first, then the body, then the pairs, then what ends the server.
FIRST, BODY, LAST = 0, 1, 2
ROLES = ("server", "client", "pair", "robust")


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
    alone: bool = False  # it changes the loopback for everyone (a slow link): no other case meanwhile

    @property
    def role(self) -> str:
        """server, client, pair or robust: the group of cases it belongs to."""
        return self.id.split("/", 1)[0]

    @property
    def graded(self) -> str:
        """The role of the program the case grades: robustness cases grade servers."""
        return "server" if self.role == "robust" else self.role


REGISTRY: dict[str, Case] = {}


def case(case_id: str, level: str, weight: float, rule: Rule, *, requires: tuple[tuple[str, str], ...] = (),
         stage: int = BODY, alone: bool = False):
    """Register the decorated function as a case; its docstring is the case's summary."""
    def register(check: Callable[["Context"], None]):
        summary = " ".join((check.__doc__ or "").split())
        add(Case(case_id, level, weight, rule, check, summary, requires, stage, alone))
        return check
    return register


def add(item: Case) -> Case:
    if item.id in REGISTRY:
        raise ValueError(f"duplicate case id {item.id}")
    if item.level not in (MUST, SHOULD):
        raise ValueError(f"{item.id}: level must be MUST or SHOULD")
    if item.role not in ROLES:
        raise ValueError(f"{item.id}: a case id starts with one of {', '.join(ROLES)}")
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
    """What a case works with: its seed, its timeouts, its wire log, the program(s) it grades,
    the server the engine started for it, and the engine's own way to start more servers."""
    case: Case
    run_seed: int
    timeouts: Timeouts
    log: WireLog
    server: Implementation | None = None
    client: Implementation | None = None
    process: process.Server | None = None  # the server under test, started by the engine
    host: str = "127.0.0.1"  # the loopback address the server under test serves
    runs: list[process.Run] = field(default_factory=list)  # client runs, kept for the logs
    started: list[process.Server] = field(default_factory=list)  # servers a case started itself
    full: bool = False  # robustness cases: the full figures instead of the bounded ones
    figures: list[str] = field(default_factory=list)  # what a case measured, for the tables
    launcher: Callable[..., process.Server] | None = None  # the engine's server starter
    jail: Callable[[Implementation], process.Jail | None] = lambda impl: None  # the engine's sandbox

    @property
    def seed(self) -> int:
        """This case's own seed: the same bytes whatever else runs in the same run."""
        return derive_seed(self.run_seed, self.case.id)

    @property
    def rng(self) -> random.Random:
        return random.Random(self.seed)

    def payload(self, length: int) -> bytes:
        """Seeded bytes from the lab's own generator (splitmix64), which any language can make."""
        return seeded_bytes(self.seed, length)

    def bulk(self, length: int) -> bytes:
        """Tens of MiB of seeded bytes, quickly (Python's own generator: the same for the same
        seed, but not something another language makes)."""
        return self.rng.randbytes(length)

    @property
    def port(self) -> int:
        return self.process.port

    def note(self, text: str) -> None:
        """A measured figure: kept for the tables and written to the wire log."""
        self.figures.append(text)
        self.log.note("tester", text)

    def connect(self, host: str | None = None, name: str = "client", port: int | None = None,
                receive_buffer: int | None = None) -> Wire:
        return Wire(host or self.host, port or self.port, self.log, self.timeouts, name, receive_buffer)

    @contextmanager
    def start_server(self, options: tuple[str, ...] = (), env: dict[str, str] | None = None,
                     nofile: int | None = None, port: int = 0) -> Iterator[process.Server]:
        """A server of the program under test started for this case alone (with flags, an
        environment or a descriptor limit), ready, and killed at the end whatever happened. One
        that cannot start fails the case; a failure gets the server's stderr attached."""
        if not self.server.takes_port and self.process is not None and self.process.alive():
            self.process.retired = True  # it holds the fixed port; the engine starts it again when needed
            self.process.kill()
        server = self.launcher(self.server, options=options, env=env, nofile=nofile, port=port)
        self.started.append(server)
        self.log.note("tester", f"started {' '.join(server.argv)}" + (f" (ulimit -n {nofile})" if nofile else ""))
        try:
            if server.failure:
                raise Fail(f"the server {server.failure}", stderr=server.stderr)
            yield server
        except Fail as e:
            if not server.failure:
                e.note("the server's stderr:\n" + process.tail(server.stderr, 8))
            raise
        finally:
            server.kill()

    def recorder(self, host: str = "127.0.0.1", **options) -> RecordingServer:
        """The recording server a client under test talks to: on the client's fixed port when
        its template has no {port} (a program as written), else on an ephemeral one."""
        port = 0 if self.client.takes_port else self.client.fixed_port
        return RecordingServer(host, port=port, log=self.log, **options)

    def run_client(self, stdin: bytes, port: int, host: str = "127.0.0.1", options: tuple[str, ...] = (),
                   progress=None, hint: str | None = None, env: dict[str, str] | None = None) -> process.Run:
        """Run the client under test (with `env` added to its environment); a client that hangs
        raises Stalled (with `hint`)."""
        self.log.note("tester", f"starting {self.client.id} {' '.join(options)} {host} {port} "
                                f"with {len(stdin)} bytes on stdin")
        done = process.run(self.client.command(host, port, options), self.client.directory, stdin,
                           timeout=self.timeouts.client, stall=self.timeouts.stall * 2, progress=progress,
                           env=process.environment(env), jail=self.jail(self.client))
        self.runs.append(done)
        self.log.note("program", f"{self.client.id}: {done.ending} after {done.seconds:.2f} s, "
                                 f"{len(done.stdout)} bytes on stdout")
        if done.killed:
            reached = f"; {progress()} of its {len(stdin)} bytes of input reached the tester" if progress else ""
            raise Stalled(f"{self.client.id} {done.killed}: killed", stderr=done.stderr, notes=(
                f"by then it had printed {len(done.stdout)} bytes{reached}",
                hint or "a deadlock, or a missed end of input or close?"))
        return done


__all__ = ["BODY", "Case", "Context", "FIRST", "Fail", "LAST", "MUST", "REGISTRY", "Rule", "SHOULD",
           "Stalled", "add", "case", "matches"]
