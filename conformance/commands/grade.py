"""`python3 -m conformance grade`: one program, a student's command line or a lab program,
through every conformance case and its pairs with the lab's good programs: the diagnosis first,
then the cases, the score (with what was not attempted), the reports and Gradescope's
results.json; exit 1 when a MUST fails.

Without --capabilities a program given by its command line is held to the whole contract
(adhoc.CONTRACT); --capabilities, or an instructor's weights, narrow it explicitly. --stage (or
the weights' `stage`) grades one stage of the staged lab: its cases, its capabilities.
"""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

from conformance import adhoc
from conformance.commands.repeat import merge
from conformance.diagnose import diagnose
from conformance.engine import Engine, Result
from conformance.manifest import Implementation, ManifestError, default_root, scan
from conformance.net import private
from conformance.net.wire import Timeouts
from conformance.report import Report, gradescope, write_reports
from conformance.report.terminal import grade_text
from conformance.runs import PROG, fresh_dir, matches_id, new_seed, now
from conformance.stages import BY_ID as STAGES
from conformance.weights import Weights, WeightsError, assignment_stage, load_weights


def grade_command(args) -> int:
    root = default_root()
    weights = load_weights(args.weights) if args.weights else Weights()
    stage = assignment_stage(args.stage, weights)
    target, lab = grade_target(args, weights, root, stage)
    if stage and stage.role != target.role:
        raise WeightsError(f"stage {stage.id} grades a {stage.role}, and this is a {target.role}")
    cases = args.cases or (list(stage.cases) if stage else None)
    others = "client" if target.role == "server" else "server"
    partners = [] if args.partners == ["none"] else [
        i for i in lab if i.role == others and not i.deliberate and i.available and i.id != target.id
        and (not args.partners or any(matches_id(i.id, p) for p in args.partners))]
    seed = args.seed if args.seed is not None else new_seed()
    out = fresh_dir(args.out or root / "build" / "conformance" / "grade" / target.id)
    held = ", ".join(target.capabilities) or "(none)"
    if stage:
        held += f" (stage {stage.id}: its cases only)"
    elif args.capabilities is None and not args.impl:
        held += " (the whole contract; --capabilities narrows it)"
    print(f"grading {target.id} ({target.role}: {target.run}); held to: {held}; seed {seed}",
          file=sys.stderr, flush=True)

    base = [*PROG.split(), "grade", *grade_words(args, target)]

    def replay(r: Result) -> str:
        partner = r.server if r.client == target.id else r.client
        extra = ["--partners", partner] if r.case.role == "pair" else []
        return shlex.join(base + ["--cases", r.case.id, *extra, "--seed", str(r.seed)])

    report = grade(target, partners, seed, cases, Timeouts().scaled(args.timeout_scale), out,
                   max(1, args.repeat), replay, getattr(args, "full", False), args.command_line,
                   hide=args.hide + ([args.weights] if args.weights else []))
    report.notes.append(f"network: {private.current().note}")
    report.student = args.student
    paths = write_reports(report, json_path=args.json or out / "report.json",
                          html_path=args.html or out / "report.html", junit_path=args.junit, weights=weights)
    if args.results_json:
        gradescope.write(report, weights, args.results_json)
        paths["Gradescope results"] = str(args.results_json)
    print(grade_text(report, weights, paths))
    must_broken = [r for r in report.results if r.outcome.unexpected and r.case.level == "MUST"]
    return 1 if must_broken else 0


def grade(target: Implementation, partners: list[Implementation], seed: int, patterns: list[str] | None,
          timeouts: Timeouts, out: Path, repeat: int = 1, replay=None, full: bool = False,
          command: str = "", fail_fast: bool = False, hide=()) -> Report:
    """Run `target`'s cases (and pairs with `partners`) `repeat` times, fold the runs, and
    diagnose: the grade as a Report."""
    started = time.monotonic()
    runs, profile = [], None
    for attempt in range(repeat):
        engine = Engine(out / f"run-{attempt + 1}" if repeat > 1 else out, seed + attempt, timeouts, patterns,
                        replay, full=full, fail_fast=fail_fast, hide=hide)
        if target.role == "server":
            results = engine.server_suite(target, partners)
        else:
            results = engine.client_suite(target)
            for server in partners:
                results += engine.server_suite(server, [target], own=False)
        profile = profile or engine.profiles.get(target.id)
        runs.append(results)
    results = merge(runs)
    found = diagnose(results, profile, target, set(target.capabilities))
    return Report("grade", seed, command, now(), time.monotonic() - started, [target] + partners, results,
                  patterns, target=target.id, profiles={target.id: profile} if profile else {}, diagnoses=found)


def grade_target(args, weights: Weights, root: Path, stage=None) -> tuple[Implementation, list[Implementation]]:
    lab = scan(root).implementations
    if args.impl:
        found = [i for i in lab if i.id == args.impl]
        if not found:
            raise ManifestError([f"--impl {args.impl}: no such implementation (see {PROG} list)"])
        if not found[0].available:
            raise ManifestError([f"--impl {args.impl}: {found[0].reason}"])
        return found[0], lab
    role = "server" if args.server else "client"
    capabilities = None
    if args.capabilities is not None or weights.capabilities:
        capabilities = list(dict.fromkeys((args.capabilities or []) + [
            c for c in weights.capabilities if adhoc.CAPABILITIES.get(c) == role]))
    elif stage is not None:
        capabilities = list(stage.capabilities)
    port = args.server_port if role == "server" else args.client_port
    return adhoc.from_command(role, args.server or args.client, capabilities, args.name, root, port), lab


def grade_words(args, target: Implementation) -> list[str]:
    """The options that name the graded program, for replay commands."""
    if args.impl:
        return ["--impl", args.impl]
    words = [f"--{target.role}", target.run]
    stage = STAGES.get(args.stage) if args.stage else None
    if args.capabilities is not None and not (stage and set(target.capabilities) == set(stage.capabilities)):
        words += ["--capabilities", ",".join(target.capabilities) or ","]  # "," holds it to none
    if args.name:
        words += ["--name", args.name]
    if args.stage:
        words += ["--stage", args.stage]
    if getattr(args, "full", False):
        words.append("--full")
    return words
