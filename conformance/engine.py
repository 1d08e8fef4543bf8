"""Run cases against programs and grade each run: the one engine behind every command (grade,
check, matrix, robustness) and the pytest suite.

    engine = Engine(out=Path("build/conformance"), seed=42)
    results = engine.server_suite(server_impl, clients=[...])   # its cases, then its pairs
    results += engine.client_suite(client_impl)
    engine.profiles[server_impl.id]                             # what the first look found

Each result keeps the program's stdout and stderr, the wire log, its observation and its
printout under `out/<program>/<case id>/` (pairs: `out/pairs/<client>--<server>/<case id>/`).
"""

from __future__ import annotations

import os
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from conformance import process
from conformance.cases import FIRST, LAST, SHOULD, Case, Context, conformance, select
from conformance.explain import explain
from conformance.manifest import Implementation
from conformance.observation import Fail, Observation, Skipped, Unsupported
from conformance.outcomes import Outcome
from conformance.net import capture, impair, ladder, private
from conformance.net.wire import Timeouts
from conformance.wirelog import WireLog

KEEP = 64 * 1024  # bytes of a passing program's output kept in the logs
DYING = 0.3  # seconds a server gets to exit after a failed case, so its death is seen there


@dataclass
class Result:
    case: Case
    outcome: Outcome
    server: str | None
    client: str | None
    summary: str  # one line
    observation: Observation | None = None  # what was seen, when the case did not pass
    seed: int = 0
    seconds: float = 0.0
    logdir: Path | None = None
    replay: str = ""
    expected: str | None = None  # the documented reason behind an EXPECTED-FAIL
    passes: int = 0  # with --repeat: how many runs passed
    runs: int = 1
    verdicts: list[str] = field(default_factory=list)  # with --repeat: each run's outcome
    figures: list[str] = field(default_factory=list)  # what a case measured
    cause: str | None = None  # the diagnosis this failure follows from (conformance/diagnose.py)
    ladder: list[str] = field(default_factory=list)  # a failure's packets, when they were captured

    @property
    def subject(self) -> str:
        """The program the case grades: `client x server` for a pair."""
        if self.case.role == "pair":
            return f"{self.client} x {self.server}"
        return self.client if self.case.role == "client" else self.server

    @property
    def details(self) -> list[str]:
        """The whole explanation, from the observation."""
        return explain(self.observation) if self.observation else []

    @property
    def unstable(self) -> bool:
        """With --repeat: the verdict was not the same in every run."""
        return len(set(self.verdicts)) > 1


class ServerHandle:
    """The server under test, started on first use and again whenever a case has killed it."""

    def __init__(self, engine: "Engine", impl: Implementation):
        self.engine = engine
        self.impl = impl
        self.process: process.Server | None = None
        self.last: tuple | None = None  # the last case: its result, output marks, server and client
        self.starts = 0

    def ensure(self, log: WireLog) -> process.Server:
        if self.process is not None and (self.process.failure or self.process.alive()):
            return self.process
        if self.process is not None:
            why = "was stopped to free its port" if self.process.retired else f"had exited ({self.process.ending()})"
            log.note("tester", f"the server {why}; starting it again")
            self.process.kill()
        self.process = self.engine.launch(self.impl)
        self.starts += 1
        log.note("tester", f"started {self.impl.id}: {' '.join(self.process.argv)}")
        return self.process

    def close(self) -> None:
        if self.process is not None:
            self.process.kill()


class Engine:
    def __init__(self, out: Path, seed: int, timeouts: Timeouts = Timeouts(),
                 patterns: list[str] | None = None, replay: Callable[[Result], str] | None = None,
                 full: bool = False, profile: bool = True, fail_fast: bool = False, hide: Sequence[Path] = ()):
        self.out = Path(out)
        self.full = full  # robustness cases: the full figures
        self.seed = seed
        self.timeouts = timeouts
        self.patterns = patterns
        self.replay = replay or (lambda result: "")
        self.profile = profile  # measure each server's behaviour profile first (for the diagnosis)
        self.profiles: dict[str, object] = {}
        self.fail_fast = fail_fast  # after the first failure, the rest is not run
        self.stopped = False
        self.network = private.current()
        self.hide = tuple(Path(p) for p in hide) + (self.out,)  # out of an untrusted program's sight

    def jail(self, impl: Implementation) -> process.Jail | None:
        """A student's program runs in the sandbox, where there is one."""
        if impl.untrusted and self.network.sandbox is None:
            return process.Jail(Path(impl.directory), self.hide)
        return None

    # --- programs --------------------------------------------------------------------------------

    def launch(self, impl: Implementation, options: tuple[str, ...] = (), env: dict[str, str] | None = None,
               nofile: int | None = None, port: int = 0) -> process.Server:
        """Start a server of `impl` and wait until it is ready: the one way every case starts one."""
        fixed = None if impl.takes_port else impl.fixed_port
        server = process.Server(impl.command("::", port, options), impl.directory,
                                env=process.environment(env), nofile=nofile, jail=self.jail(impl),
                                ready_timeout=self.timeouts.ready, line=impl.takes_port, expected_port=fixed)
        return server.start()

    # --- suites ------------------------------------------------------------------------------

    def server_suite(self, server: Implementation, clients: Sequence[Implementation] = (),
                     own: bool = True) -> list[Result]:
        """The server's own cases (unless not `own`), then every pair case with each client, then
        the cases that end the server: one server process for all of them unless a case kills it.
        Robustness cases run only when a pattern asks for them, each with servers of its own."""
        cases = sorted(conformance(self.patterns, "server"), key=lambda c: c.stage) if own else []
        robust = select(self.patterns, "robust") if own and self.patterns else []
        pairs = select(self.patterns, "pair")
        handle = ServerHandle(self, server)
        host = "127.0.0.1"
        try:
            if server.available and (cases or pairs) and self.profile:
                from conformance.diagnose import profile_server  # the diagnosis builds on the engine
                log = WireLog()
                started = handle.ensure(log)
                if not started.failure:
                    found = profile_server(started, self.timeouts, log, server.has("concurrent"))
                    if not started.alive():  # a probe's session ended it: the cases start afresh
                        found.notes.append(f"the server {started.ending()} during the profile's sessions")
                    self.profiles[server.id] = found
                    host = found.host
            results = [self.run(c, server=server, handle=handle, host=host) for c in cases if c.stage != LAST]
            results += [self.run(p, server=server, client=client, handle=handle, host=host)
                        for client in clients for p in pairs]
            results += [self.run(c, server=server, handle=handle, host=host) for c in cases if c.stage == LAST]
        finally:
            handle.close()
        return results + [self.run(c, server=server) for c in robust]

    def client_suite(self, client: Implementation) -> list[Result]:
        return [self.run(c, client=client) for c in conformance(self.patterns, "client")]

    # --- one case ----------------------------------------------------------------------------

    def run(self, case: Case, server: Implementation | None = None, client: Implementation | None = None,
            handle: ServerHandle | None = None, host: str = "127.0.0.1") -> Result:
        started = time.monotonic()
        sides = {"server": server, "client": client}
        missing = [f"{sides[role].id} does not declare {cap}" for role, cap in case.requires
                   if not sides[role].has(cap)]
        unavailable = [f"{impl.id}: {impl.reason}" for impl in (server, client) if impl and not impl.available]
        if self.stopped and not (unavailable or missing):
            return self._finish(Result(case, Outcome.SKIPPED, server and server.id, client and client.id,
                                       "not run: --fail-fast stopped at the first failure", seed=self.seed))
        if unavailable or missing:
            outcome = Outcome.SKIPPED if unavailable else Outcome.UNSUPPORTED
            return self._finish(Result(case, outcome, server and server.id, client and client.id,
                                       "; ".join(unavailable or missing), seed=self.seed))

        ctx = Context(case, self.seed, self.timeouts, WireLog(), server=server, client=client, full=self.full,
                      host=host, launcher=self.launch, jail=self.jail)
        marks = (0, 0)
        if handle is not None:
            self._blame_death(handle)
            ctx.process = handle.ensure(ctx.log)
            marks = ctx.process.marks()
        logdir = self._logdir(case, server, client)
        trace = logdir / "trace.pcap"
        with impair.LOOPBACK.use(case.alone):
            if self.network.capture is None:
                with capture.Capture(trace):
                    outcome, observation = self._check(case, ctx, marks)
            else:
                outcome, observation = self._check(case, ctx, marks)
        result = Result(case, outcome, server and server.id, client and client.id,
                        observation.summary if observation else "passed", observation, self.seed,
                        time.monotonic() - started, figures=ctx.figures)
        classify(result, outcome, server, client)
        if (result.outcome is Outcome.FAIL and case.id == "server/launch/ready" and server is not None
                and not server.takes_port and observation.facts.get("listening_without_line") is not None):
            result.outcome = Outcome.NON_STRICT  # the line is not required of a program as written
        self.stopped = self.stopped or (self.fail_fast and result.outcome.unexpected)
        if result.outcome is not Outcome.PASS and trace.is_file():
            result.ladder = draw_ladder(trace, logdir)
        self._write_logs(result, ctx, marks, logdir)
        if handle is not None and case.stage != LAST:
            handle.last = (result, marks, server, client)
        return self._finish(result)

    def _check(self, case: Case, ctx: Context, marks: tuple[int, int]) -> tuple[Outcome, Observation | None]:
        server = ctx.process
        if server is not None and server.failure and case.stage != FIRST:
            return Outcome.FAIL, Observation(f"not run: the server {server.failure} (see server/launch/ready)",
                                             facts={"not_started": True})
        observation = None
        try:
            case.check(ctx)
            outcome = Outcome.PASS
        except Unsupported as e:
            outcome, observation = Outcome.UNSUPPORTED, Observation(str(e))
        except Skipped as e:
            outcome, observation = Outcome.SKIPPED, Observation(str(e))
        except Fail as e:
            outcome, observation = Outcome.FAIL, e.observation
        except OSError as e:  # a program that cannot be started, a port that cannot be bound
            outcome = Outcome.ERROR
            observation = Observation(f"the harness could not start a program or use the network: {e}")
        except Exception as e:  # the harness's own fault: never the program's pass
            outcome = Outcome.ERROR
            observation = Observation(f"the harness failed: {type(e).__name__}: {e}",
                                      notes=tuple(traceback.format_exc().rstrip().splitlines()))
        if server is not None and observation is not None and server.alive():
            server.wait(DYING)  # a broken session often ends the server a moment later
        if server is not None and case.stage != LAST and not server.failure and not server.alive() \
                and not server.retired:
            death = death_note(server, marks, "during this case")
            ctx.log.note("program", death.splitlines()[0])
            if observation is None or outcome is Outcome.PASS:
                outcome, observation = Outcome.FAIL, Observation(death.splitlines()[0],
                                                                 notes=tuple(death.splitlines()[1:]))
            else:
                observation.notes += (death,)
                outcome = Outcome.FAIL if outcome is Outcome.ERROR else outcome  # it had died
            observation.server_died = str(server.ending())
        elif server is not None and observation is not None and server.since(marks)[1]:
            observation.notes += ("the server's stderr during this case:\n" + process.tail(server.since(marks)[1], 8),)
        return outcome, observation

    def _blame_death(self, handle: ServerHandle) -> None:
        """A server found dead before a case died after the previous one ended (a close or a
        reset arrives after the case has its verdict): that case gets the blame."""
        server = handle.process
        if server is None or server.failure or server.alive() or server.retired or handle.last is None:
            return
        last, marks, impl, client = handle.last
        handle.last = None
        death = death_note(server, marks, "right after this case")
        if last.outcome is Outcome.PASS:
            last.summary = death.splitlines()[0]
            last.observation = Observation(last.summary, notes=tuple(death.splitlines()[1:]),
                                           server_died=str(server.ending()))
            classify(last, Outcome.FAIL, impl, client)
        elif last.observation is not None:
            last.observation.notes += tuple(death.splitlines())
            last.observation.server_died = str(server.ending())
        self._finish(last)

    def _finish(self, result: Result) -> Result:
        result.replay = self.replay(result)
        if result.logdir:
            (result.logdir / "result.txt").write_text(render(result) + "\n", encoding="utf-8")
        return result

    def _logdir(self, case: Case, server: Implementation | None, client: Implementation | None) -> Path:
        if case.role == "pair":
            where = self.out / "pairs" / f"{client.id}--{server.id}"
        else:
            where = self.out / (client.id if case.role == "client" else server.id)
        logdir = where.joinpath(*case.id.split("/"))
        logdir.mkdir(parents=True, exist_ok=True)
        return logdir

    def _write_logs(self, result: Result, ctx: Context, marks: tuple[int, int], logdir: Path) -> None:
        result.logdir = logdir
        keep = None if result.outcome is not Outcome.PASS else KEEP
        (logdir / "wire.log").write_text(ctx.log.text(), encoding="utf-8")
        if ctx.process is not None:
            out, err = ctx.process.since(marks)
            _write(logdir, "server", " ".join(ctx.process.argv), out, err, keep)
        for index, started in enumerate(ctx.started):
            _write(logdir, f"server-{index + 1}", " ".join(started.argv), started.stdout, started.stderr, keep)
        for index, done in enumerate(ctx.runs):
            name = "client" if index == 0 else f"client-{index + 1}"
            _write(logdir, name, f"{' '.join(done.argv)}\n{done.ending} after {done.seconds:.2f} s",
                   done.stdout, done.stderr, keep)


def draw_ladder(trace: Path, logdir: Path) -> list[str]:
    """A failure's packets as a ladder: text for the printout, ladder.html for its page. The
    server is whoever answered the first SYN."""
    try:
        packets = ladder.read_pcap(trace)
    except (OSError, ValueError):
        return []
    syn = next((p for p in packets if p.has(ladder.SYN) and not p.has(ladder.ACK)), None)
    if syn is None:
        return []
    rows = ladder.ladder(packets, syn.dport)
    (logdir / "ladder.html").write_text(ladder.render_html(rows), encoding="utf-8")
    return ladder.render_text(rows)


def _write(logdir: Path, name: str, command: str, out: bytes, err: bytes, keep: int | None) -> None:
    notes = [command]
    for suffix, data in (("stdout", out), ("stderr", err)):
        if keep is not None and len(data) > keep:
            notes.append(f"{suffix}: the first {keep} of {len(data)} bytes are kept (the case passed)")
            data = data[:keep]
        (logdir / f"{name}.{suffix}").write_bytes(data)
    (logdir / f"{name}.command").write_text("\n".join(notes) + "\n", encoding="utf-8")


def classify(result: Result, outcome: Outcome, server: Implementation | None,
             client: Implementation | None) -> None:
    """Grade a raw outcome: a deliberately bad or naive variant's documented failure is
    EXPECTED-FAIL, a broken SHOULD is NON-STRICT."""
    result.outcome, result.expected = outcome, None
    if outcome.unexpected:
        result.expected = expected_reason(result.case.id, server, client)
        if result.expected:
            result.outcome = Outcome.EXPECTED_FAIL
        elif outcome is Outcome.FAIL and result.case.level == SHOULD:
            result.outcome = Outcome.NON_STRICT
    result.passes = int(result.outcome is Outcome.PASS)
    result.verdicts = [result.outcome.value]


def death_note(server: process.Server, marks: tuple[int, int], when: str) -> str:
    return (f"the server {server.ending()} {when}: a client's session, whatever it does, must never end "
            f"the server; its stderr:\n" + process.tail(server.since(marks)[1]))


def expected_reason(case_id: str, server: Implementation | None, client: Implementation | None) -> str | None:
    """The documented reason a deliberately flawed program taking part fails this case, if any."""
    for impl in (server, client):
        reason = impl.expected_failure(case_id) if impl else None
        if reason:
            return f"{impl.id}: {reason}"
    return None


def render(result: Result, details: bool = True) -> str:
    """The printout of one result: what the case checks, what happened, how to replay it.
    Without `details` it keeps the verdict and the sentence, and hides the bytes and the replay."""
    from conformance.diagnose import DIAGNOSES  # the causes' words live with the diagnosis
    case = result.case
    lines = [f"{result.outcome.value} {case.id} [{case.level}] {result.subject}"]
    cause = DIAGNOSES.get(result.cause) if result.cause else None
    if cause:
        lines.append(f"  (*) follows from {cause.id}: {cause.summary}")
        rule = cause.rule or case.rule
        lines.append(f"  breaks: \"{rule.sentence}\" ({rule.source})")
    else:
        lines.append(f"  checks: \"{case.rule.sentence}\" ({case.rule.source})")
    if case.summary:
        lines.append(f"  case:   {case.summary}")
    if result.expected:
        lines.append(f"  expected to fail: {result.expected}")
    if result.runs > 1:
        lines.append(f"  passed {result.passes} of {result.runs} runs"
                     + (f" (UNSTABLE: {', '.join(result.verdicts)})" if result.unstable else ""))
    if not details:
        return "\n".join(lines)
    lines += ["  " + line for line in (result.details or [result.summary])]
    if result.ladder:
        lines.append("  packets (trace.pcap in the logs):")
        lines += ["    " + line for line in result.ladder]
    lines.append(f"  seed:   {result.seed}")
    if result.replay:
        lines.append(f"  replay: {result.replay}")
    if result.logdir:
        lines.append(f"  logs:   {relative(result.logdir)}")
    return "\n".join(lines)


def relative(path: Path) -> str:
    """A path as the user would type it: relative to the current directory when inside it."""
    path = Path(path).resolve()
    return os.path.relpath(path) if path.is_relative_to(Path.cwd()) else str(path)
