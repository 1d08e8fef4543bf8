"""`python3 -m conformance stages | new | check`: the staged lab (conformance/stages.py).

    python3 -m conformance stages                              # every stage, its goal and cases
    python3 -m conformance new echo-server python my-server    # a working copy of a starter
    python3 -m conformance check echo-server my-server         # build it, run the stage's cases
    python3 -m conformance check echo-server --server 'python3 s.py --port {port}'

`check` prints what is most likely wrong first, then each case; on success it names the next
stage. Exit 0 when the stage passes, 1 when it does not, 2 for bad input.
"""

from __future__ import annotations

import dataclasses
import shutil
import sys
from pathlib import Path

from conformance import adhoc
from conformance.commands.grade import grade
from conformance.diagnose import headline
from conformance.engine import render
from conformance.manifest import Implementation, ManifestError, default_root
from conformance.net.wire import Timeouts
from conformance.outcomes import Outcome
from conformance.report import write_reports
from conformance.report.scores import score_line, scored
from conformance.runs import PROG, fresh_dir, new_seed
from conformance.stages import BY_ID, LANGUAGES, STAGES, Stage, following, starter
from conformance.submission import Problem, prepare
from conformance.weights import Weights

COPY_IGNORE = shutil.ignore_patterns("target", "classes", "__pycache__", "node_modules", "*.o")


def stages_command(args) -> int:
    for number, stage in enumerate(STAGES, 1):
        print(f"{number}. {stage.id} ({stage.role})\n   {stage.goal}\n   cases: {', '.join(stage.cases)}\n"
              f"   taught in: {stage.guide}\n")
    print(f"Start one: {PROG} new STAGE LANGUAGE DIR   (languages: {', '.join(LANGUAGES)})")
    return 0


def new_command(args) -> int:
    stage = BY_ID[args.stage]
    source = starter(default_root(), stage, args.language)
    if not source.is_dir():
        print(f"{PROG} new: there is no {args.language} starter for {stage.id} (looked in {source})",
              file=sys.stderr)
        return 2
    target = Path(args.dir)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        print(f"{PROG} new: {target} already exists and is not empty: pick a new folder", file=sys.stderr)
        return 2
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, target, ignore=COPY_IGNORE, dirs_exist_ok=True)
    todo = sorted(str(p.relative_to(target)) for p in target.rglob("*")
                  if p.is_file() and f"TODO({stage.id})" in p.read_text(encoding="utf-8", errors="replace"))
    print(f"{target}: the {stage.id} starter in {args.language}, with its echo-lab.json.")
    print(f"Goal: {stage.goal}")
    if todo:
        print(f"Write the TODO({stage.id}) parts of: {', '.join(todo)}")
    print(f"Check it:  {PROG} check {stage.id} {target}")
    return 0


def check_command(args) -> int:
    stage = BY_ID[args.stage]
    try:
        target = check_target(args, stage)
    except Problem as e:
        print(f"{PROG} check: {e.title}: {e.message}", file=sys.stderr)
        return 2
    seed = args.seed if args.seed is not None else new_seed()
    out = fresh_dir(args.out or default_root() / "build" / "conformance" / "check" / stage.id)
    print(f"checking {target.id} against stage {stage.id}: {stage.goal}", file=sys.stderr, flush=True)
    report = grade(target, [], seed, list(stage.cases), Timeouts().scaled(args.timeout_scale), out,
                   command=args.command_line, fail_fast=args.fail_fast, hide=args.hide)
    paths = write_reports(report, json_path=out / "report.json", html_path=out / "report.html", junit_path=None)
    passed = print_check(report, stage, target)
    print(f"HTML report: {paths['HTML report']}")
    return 0 if passed else 1


def check_target(args, stage: Stage) -> Implementation:
    """The program to check, held to the stage's capabilities (a manifest may leave some out:
    the score line then names them)."""
    if args.dir and (args.server or args.client):
        raise Problem("arguments", "give a folder or --server/--client, not both")
    if args.dir:
        _, programs = prepare(Path(args.dir).resolve(), [stage.role])
        impl = programs[0]
        held = tuple(c for c in stage.capabilities if c in impl.capabilities)
        port = args.server_port if stage.role == "server" else args.client_port
        return dataclasses.replace(impl, capabilities=held, fixed_port=port)
    command = args.server if stage.role == "server" else args.client
    if not command:
        raise Problem("arguments", f"stage {stage.id} checks a {stage.role}: give its folder, or "
                      f"--{stage.role} CMD")
    try:
        return adhoc.from_command(stage.role, command, list(stage.capabilities), args.name,
                                  fixed_port=args.server_port if stage.role == "server" else args.client_port)
    except ManifestError as e:
        raise Problem("command", str(e)) from None


def print_check(report, stage: Stage, target: Implementation) -> bool:
    rows = scored(report, Weights())
    failed = [row.result for row in rows if row.result.outcome.unexpected or row.result.outcome is Outcome.NON_STRICT]
    stopped = [row.result for row in rows if row.result.summary.startswith("not run: --fail-fast")]
    found = report.diagnoses_of(target.id)
    lines = [f"Stage {stage.id}: {stage.goal}", ""]
    if failed:
        lines += headline(found) or [
            f"What is wrong: {failed[0].case.id} fails: {failed[0].summary}",
            f"  Write this first: what {failed[0].case.id} checks: {failed[0].case.summary}"]
        lines.append("")
    for row in rows:
        r = row.result
        points = "-" if row.earned is None else f"{row.earned:g}/{row.grading.weight:g}"
        lines.append(f"  {r.outcome.value:<13} {points:>7}  {row.name}{' (*)' if r.cause else ''}")
    for r in failed:
        lines += ["", render(r)]
    lines += ["", score_line(rows, target) if not stopped else
              f"stopped at the first failure (--fail-fast): {len(stopped)} case(s) not run"]
    then = following(stage)
    if not failed:
        lines.append(f"Stage {stage.id} passed." + (
            f" Next: {then.id}: {then.goal}\n  Start it: {PROG} new {then.id} LANGUAGE DIR (or carry on in "
            f"your own folder), then {PROG} check {then.id} DIR" if then else
            " That was the last stage for a " + stage.role + "."))
    print("\n".join(lines))
    return not failed


def add_parser(sub, run_options, program_options) -> None:
    stage_ids = [s.id for s in STAGES]
    p = sub.add_parser("stages", help="the staged lab: each stage, its goal and its cases")
    p.set_defaults(run=stages_command)

    p = sub.add_parser("new", help="a working copy of a stage's starter, with its echo-lab.json")
    p.add_argument("stage", choices=stage_ids, metavar="STAGE", help=f"one of: {', '.join(stage_ids)}")
    p.add_argument("language", choices=LANGUAGES, metavar="LANGUAGE", help=f"one of: {', '.join(LANGUAGES)}")
    p.add_argument("dir", metavar="DIR", help="the new folder (must not exist, or be empty)")
    p.set_defaults(run=new_command)

    p = sub.add_parser("check", help="build a folder's program (its echo-lab.json) and run one stage's cases")
    p.add_argument("stage", choices=stage_ids, metavar="STAGE", help=f"one of: {', '.join(stage_ids)}")
    p.add_argument("dir", nargs="?", metavar="DIR", help="the folder holding echo-lab.json")
    p.add_argument("--server", metavar="CMD", help="a server command instead of a folder")
    p.add_argument("--client", metavar="CMD", help="a client command instead of a folder")
    p.add_argument("--name", metavar="NAME", help="what to call the program in reports")
    p.add_argument("--fail-fast", action="store_true", help="stop at the first failing case")
    program_options(p)
    run_options(p)
    p.set_defaults(run=check_command)
