"""Run cases against programs and grade each run: the one engine behind `matrix`, `grade` and
the self-test.

    engine = Engine(out=Path("build/conformance"), seed=42)
    results = engine.server_suite(server_impl, clients=[...])   # its cases, then its pairs
    results += engine.client_suite(client_impl)

Each result keeps the program's stdout and stderr, the wire log and its printout under
`out/<program>/<case id>/` (pairs: `out/pairs/<client>--<server>/<case id>/`).
"""

from __future__ import annotations

import os
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from conformance.cases import FIRST, LAST, SHOULD, Case, Context, select
from conformance.explain import explain
from conformance.failures import Fail, Stalled, Unsupported
from conformance.manifest import Implementation
from conformance.outcomes import Outcome
from conformance.procs import ServerProcess, tail
from conformance.wire import Timeouts
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
    details: list[str] = field(default_factory=list)  # the whole explanation
    seed: int = 0
    seconds: float = 0.0
    logdir: Path | None = None
    replay: str = ""
    expected: str | None = None  # the documented reason behind an EXPECTED-FAIL
    passes: int = 0  # with --repeat: how many runs passed
    runs: int = 1
    figures: list[str] = field(default_factory=list)  # what a fault case measured

    @property
    def subject(self) -> str:
        """The program the case grades: `client x server` for a pair."""
        if self.case.role == "pair":
            return f"{self.client} x {self.server}"
        return self.client if self.case.role == "client" else self.server


class ServerHandle:
    """The server under test, started on first use and again whenever a case has killed it."""

    def __init__(self, impl: Implementation, timeouts: Timeouts):
        self.impl = impl
        self.timeouts = timeouts
        self.process: ServerProcess | None = None
        self.last: tuple | None = None  # the last case: its result, output marks, server and client

    def ensure(self, log: WireLog) -> ServerProcess:
        if self.process is not None and (self.process.failure or self.process.alive()):
            return self.process
        if self.process is not None:
            log.note("tester", f"the server had exited (status {self.process.proc.returncode}); "
                               f"starting it again")
            self.process.kill()
        self.process = ServerProcess(self.impl, ready_timeout=self.timeouts.ready).start()
        log.note("tester", f"started {self.impl.id}: {' '.join(self.process.argv)}")
        return self.process

    def close(self) -> None:
        if self.process is not None:
            self.process.kill()


class Engine:
    def __init__(self, out: Path, seed: int, timeouts: Timeouts = Timeouts(),
                 patterns: list[str] | None = None, replay: Callable[[Result], str] | None = None,
                 full: bool = False):
        self.out = Path(out)
        self.full = full  # fault cases: the full figures
        self.seed = seed
        self.timeouts = timeouts
        self.patterns = patterns
        self.replay = replay or (lambda result: "")

    # --- suites ------------------------------------------------------------------------------

    def server_suite(self, server: Implementation, clients: Sequence[Implementation] = (),
                     own: bool = True) -> list[Result]:
        """The server's own cases (unless not `own`), then every pair case with each client, then
        the cases that end the server: one server process for all of them unless a case kills it.
        Fault cases run only when a pattern asks for them, each with servers of its own."""
        cases = sorted(select(self.patterns, "server"), key=lambda c: c.stage) if own else []
        faults = select(self.patterns, "fault") if own and self.patterns else []
        pairs = select(self.patterns, "pair")
        handle = ServerHandle(server, self.timeouts)
        try:
            results = [self.run(c, server=server, handle=handle) for c in cases if c.stage != LAST]
            results += [self.run(p, server=server, client=client, handle=handle)
                        for client in clients for p in pairs]
            results += [self.run(c, server=server, handle=handle) for c in cases if c.stage == LAST]
            results += [self.run(c, server=server) for c in faults]
        finally:
            handle.close()
        return results

    def client_suite(self, client: Implementation) -> list[Result]:
        return [self.run(c, client=client) for c in select(self.patterns, "client")]

    # --- one case ----------------------------------------------------------------------------

    def run(self, case: Case, server: Implementation | None = None, client: Implementation | None = None,
            handle: ServerHandle | None = None) -> Result:
        started = time.monotonic()
        sides = {"server": server, "client": client}
        missing = [f"{sides[role].id} does not declare {cap}" for role, cap in case.requires
                   if not sides[role].has(cap)]
        unavailable = [f"{impl.id}: {impl.reason}" for impl in (server, client) if impl and not impl.available]
        if unavailable or missing:
            outcome = Outcome.SKIPPED if unavailable else Outcome.UNSUPPORTED
            return self._finish(Result(case, outcome, server and server.id, client and client.id,
                                       "; ".join(unavailable or missing), seed=self.seed))

        ctx = Context(case, self.seed, self.timeouts, WireLog(), server=server, client=client, full=self.full)
        marks = (0, 0)
        if handle is not None:
            self._blame_death(handle)
            ctx.process = handle.ensure(ctx.log)
            marks = ctx.process.output_marks()
        outcome, fail = self._check(case, ctx, marks)
        result = Result(case, outcome, server and server.id, client and client.id,
                        fail.summary if fail else "passed", explain(fail) if fail else [],
                        self.seed, time.monotonic() - started, figures=ctx.figures)
        classify(result, outcome, server, client)
        self._write_logs(result, ctx, marks)
        if handle is not None and case.stage != LAST:
            handle.last = (result, marks, server, client)
        return self._finish(result)

    def _check(self, case: Case, ctx: Context, marks: tuple[int, int]) -> tuple[Outcome, Fail | None]:
        process = ctx.process
        if process is not None and process.failure and case.stage != FIRST:
            return Outcome.ERROR, Fail("not run: the server did not start (see server/launch/ready)")
        try:
            case.check(ctx)
            outcome, fail = Outcome.PASS, None
        except Unsupported as e:
            outcome, fail = Outcome.UNSUPPORTED, Fail(str(e))
        except Stalled as e:
            outcome, fail = Outcome.ERROR, e
        except Fail as e:
            outcome, fail = Outcome.FAIL, e
        except OSError as e:  # a program that cannot be started, a port that cannot be bound
            outcome, fail = Outcome.ERROR, Fail(f"the harness could not start a program or use the network: {e}")
        except Exception as e:  # the harness's own fault: never the program's pass
            outcome = Outcome.ERROR
            fail = Fail(f"the harness failed: {type(e).__name__}: {e}",
                        notes=tuple(traceback.format_exc().rstrip().splitlines()))
        if process is not None and fail is not None and process.alive():
            process.exited_within(DYING)  # a broken session often ends the server a moment later
        if process is not None and case.stage != LAST and not process.failure and not process.alive():
            death = death_note(process, marks, "during this case")
            ctx.log.note("program", death.splitlines()[0])
            if fail is None:
                outcome, fail = Outcome.FAIL, Fail(death)
            else:
                fail.notes += (death,)
                if outcome is Outcome.ERROR and not isinstance(fail, Stalled):
                    outcome = Outcome.FAIL  # a refused or reset connection: the server had died
        elif process is not None and fail is not None and process.output_since(marks)[1]:
            fail.notes += ("the server's stderr during this case:\n" + tail(process.output_since(marks)[1], 8),)
        return outcome, fail

    def _blame_death(self, handle: ServerHandle) -> None:
        """A server found dead before a case died after the previous one ended (a close or a
        reset arrives after the case has its verdict): that case gets the blame."""
        process = handle.process
        if process is None or process.failure or process.alive() or handle.last is None:
            return
        last, marks, server, client = handle.last
        handle.last = None
        death = death_note(process, marks, "right after this case")
        if last.outcome is Outcome.PASS:
            last.summary, last.details = death.splitlines()[0], death.splitlines()
            classify(last, Outcome.FAIL, server, client)
        else:
            last.details = last.details + death.splitlines()
        self._finish(last)

    def _finish(self, result: Result) -> Result:
        result.replay = self.replay(result)
        if result.logdir:
            (result.logdir / "result.txt").write_text(render(result) + "\n", encoding="utf-8")
        return result

    def _write_logs(self, result: Result, ctx: Context, marks: tuple[int, int]) -> None:
        if result.case.role == "pair":
            where = self.out / "pairs" / f"{result.client}--{result.server}"
        else:
            where = self.out / result.subject
        logdir = where.joinpath(*result.case.id.split("/"))
        logdir.mkdir(parents=True, exist_ok=True)
        result.logdir = logdir
        keep = None if result.outcome is not Outcome.PASS else KEEP
        (logdir / "wire.log").write_text(ctx.log.text(), encoding="utf-8")
        if ctx.process is not None:
            out, err = ctx.process.output_since(marks)
            _write(logdir, "server", " ".join(ctx.process.argv), out, err, keep)
        for index, r in enumerate(ctx.client_runs):
            name = "client" if index == 0 else f"client-{index + 1}"
            _write(logdir, name, f"{' '.join(r.argv)}\nexit status {r.returncode} after {r.seconds:.2f} s",
                   r.stdout, r.stderr, keep)


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
    """Grade a raw outcome: a bad variant's documented failure is EXPECTED-FAIL, a broken
    SHOULD is NON-STRICT."""
    result.outcome, result.expected = outcome, None
    if outcome.unexpected:
        result.expected = expected_reason(result.case.id, server, client)
        if result.expected:
            result.outcome = Outcome.EXPECTED_FAIL
        elif outcome is Outcome.FAIL and result.case.level == SHOULD:
            result.outcome = Outcome.NON_STRICT
    result.passes = int(result.outcome is Outcome.PASS)


def death_note(process: ServerProcess, marks: tuple[int, int], when: str) -> str:
    return (f"the server exited (status {process.proc.returncode}) {when}: a client's session, "
            f"whatever it does, must never end the server; its stderr:\n" + tail(process.output_since(marks)[1]))


def expected_reason(case_id: str, server: Implementation | None, client: Implementation | None) -> str | None:
    """The documented reason a bad variant taking part fails this case, if any."""
    for impl in (server, client):
        reason = impl.expected_failure(case_id) if impl else None
        if reason:
            return f"{impl.id}: {reason}"
    return None


def render(result: Result, details: bool = True) -> str:
    """The printout of one result: what the case checks, what happened, how to replay it.
    Without `details` it keeps the verdict and the sentence, and hides the bytes and the replay."""
    case = result.case
    lines = [f"{result.outcome.value} {case.id} [{case.level}] {result.subject}",
             f"  checks: \"{case.rule.sentence}\" ({case.rule.source})"]
    if case.summary:
        lines.append(f"  case:   {case.summary}")
    if result.expected:
        lines.append(f"  expected to fail: {result.expected}")
    if result.runs > 1:
        lines.append(f"  passed {result.passes} of {result.runs} runs")
    if not details:
        return "\n".join(lines)
    lines += ["  " + line for line in (result.details or [result.summary])]
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
