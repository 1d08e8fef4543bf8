"""`python3 -m conformance autograde SUBMISSION --results-json FILE`: grade a student's
submission whose language is not known in advance, and always leave a valid results.json.

The submission says how to build and run its programs in an `echo-lab.json` manifest, the
format the lab's own programs use (conformance/MANIFESTS.md). This command finds it, builds,
grades every program of the roles the assignment asks for with `grade`, and merges their
results into one Gradescope results.json. Whatever goes wrong (no manifest, a manifest the
harness rejects, a missing toolchain, a failed build, a program that hangs the harness), the
student gets a score of 0 and a message that says what to fix.

With --stage (or a weights file's `stage`) the assignment is one stage of the staged lab: only
that stage's cases count, the program is held to the stage's capabilities, and the role
defaults to the stage's.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from conformance.adhoc import CONTRACT, OPTIONAL
from conformance.cases import conformance
from conformance.commands.classroom import label
from conformance.manifest import ROLES, Implementation
from conformance.runs import PROG
from conformance.stages import BY_ID as STAGES
from conformance.submission import Problem, prepare
from conformance.weights import Weights, WeightsError, assignment_stage, load_weights


@dataclass
class Assignment:
    weights: Weights
    weights_path: Path | None
    roles: list[str]  # what the assignment asks for; empty: whatever the manifest has
    cases: list[str] | None = None
    seed: int | None = None
    build_timeout: float = 600.0
    grade_timeout: float = 900.0
    students: list[str] = field(default_factory=list)


# --- the command -----------------------------------------------------------------------------

def autograde_command(args) -> int:
    started = time.monotonic()
    try:
        weights = load_weights(args.weights) if args.weights else Weights()
        stage = assignment_stage(args.stage, weights)
        weights.stage = stage.id if stage else None
        if stage and args.roles and args.roles != [stage.role]:
            raise WeightsError(f"stage {stage.id} grades a {stage.role}; --roles says {','.join(args.roles)}")
    except WeightsError as e:  # the instructor's file: say so, and still leave a results.json
        weights = Weights()
        data = failed(Problem("autograder configuration", f"The autograder's weights file is broken; "
                              f"your instructor has been shown why.\n{e}"), [], weights)
        return finish(data, args, started, 2, Path(args.out or "build/conformance/autograde").resolve())
    roles = args.roles or ([stage.role] if stage else [])
    assignment = Assignment(weights, args.weights, roles, args.cases, args.seed, args.build_timeout,
                            args.grade_timeout, students(args.metadata))
    try:
        # absolute: each program is graded from its own directory
        data, status = autograde(Path(args.submission).resolve(), assignment,
                                 Path(args.out or "build/conformance/autograde").resolve())
    except Problem as e:
        data, status = failed(e, assignment.roles, weights), 2
    except Exception:  # never leave the student without a results.json
        print(traceback.format_exc(), flush=True)
        data, status = failed(Problem("autograder error", "The autograder itself failed while grading this "
                                      "submission; your instructor has the details. Resubmitting will not "
                                      "help until it is fixed."), assignment.roles, weights), 3
    data.setdefault("extra_data", {}).setdefault("echo_lab", {})["students"] = assignment.students
    return finish(data, args, started, status, Path(args.out or "build/conformance/autograde").resolve())


def roles_option(value: str) -> list[str]:
    """`--roles server,client`: checked by argparse, so a typo is one message and exit 2."""
    roles = [r.strip() for r in value.split(",") if r.strip()]
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown role {unknown[0]!r} (use server, client or server,client)")
    return roles


def students(metadata: Path | None) -> list[str]:
    """The names in Gradescope's submission_metadata.json, when there is one."""
    if not metadata or not metadata.is_file():
        return []
    try:
        users = json.loads(metadata.read_text(encoding="utf-8")).get("users", [])
        return [str(u.get("name") or u.get("email")) for u in users if isinstance(u, dict)
                and (u.get("name") or u.get("email"))]
    except (OSError, ValueError, AttributeError):
        return []


def finish(data: dict, args, started: float, status: int, out: Path) -> int:
    data["execution_time"] = int(round(time.monotonic() - started))
    path = Path(args.results_json)
    path.parent.mkdir(parents=True, exist_ok=True)
    report = write_summary_page(data, out)
    data.setdefault("extra_data", {}).setdefault("echo_lab", {})["report"] = os.path.relpath(report, path.parent)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=True) + "\n", encoding="utf-8")
    print(data["output"])
    print(f"results: {path}")
    if args.summary:
        with open(args.summary, "a", encoding="utf-8") as out:
            out.write(markdown(data) + "\n")  # a blank line ends the table before whatever follows
    return status


def write_summary_page(data: dict, out: Path) -> Path:
    """The submission's own page, always written: who, the score, and each program's report, or,
    when nothing could be graded, why."""
    from html import escape

    from conformance.report.html import page
    out.mkdir(parents=True, exist_ok=True)
    meta = data.get("extra_data", {}).get("echo_lab", {})
    who = ", ".join(meta.get("students") or []) or "this submission"
    possible_points = sum(t.get("max_score", 0) for t in data["tests"])
    percent = f" ({100 * data['score'] / possible_points:.0f}%)" if possible_points else ""
    links = "".join(f"<li><a href='{escape(impl)}/report.html'>{escape(impl)}</a></li>"
                    for impl in meta.get("implementations", []) if (out / impl / "report.html").is_file())
    body = (f"<h1>Echo Lab: {escape(who)}</h1><p><b>score {data['score']:g} of {possible_points:g}{percent}</b></p>"
            f"<pre>{escape(data['output'])}</pre>" + (f"<h2>Reports</h2><ul>{links}</ul>" if links else ""))
    path = out / "report.html"
    path.write_text(page(f"Echo Lab: {who}", body), encoding="utf-8")
    return path


# --- the steps -------------------------------------------------------------------------------

def autograde(submission: Path, assignment: Assignment, out: Path) -> tuple[dict, int]:
    where, chosen = prepare(submission, assignment.roles, assignment.build_timeout)
    out.mkdir(parents=True, exist_ok=True)
    parts = [grade_or_explain(impl, where, assignment, out / impl.id) for impl in chosen]
    missing_roles = [r for r in assignment.roles if r not in {i.role for i in chosen}]
    return merge(parts, missing_roles, assignment.weights, [i.id for i in chosen])


def grade_or_explain(impl: Implementation, where: Path, assignment: Assignment, out: Path) -> dict:
    """One program's results; if it could not be graded, a failed test that says why, so the
    other programs of the submission keep their points."""
    try:
        return grade(impl, where, assignment, out)
    except Problem as e:
        test = missing_test(impl.role, assignment.weights, 1, f"{e.title}: {e.message}",
                            "hangs" if e.title == "timeout" else "not-graded")
        test["name"] = f"{impl.id}: {e.title}"
        return {"tests": [test], "output": f"{impl.id} was not graded: {e.message}"}


def grade(impl: Implementation, where: Path, assignment: Assignment, out: Path) -> dict:
    """One program through `grade`, in a process of its own that is stopped if it overruns."""
    results = out / "results.json"
    argv = [sys.executable, "-m", "conformance", "grade", f"--{impl.role}", impl.run, "--name", impl.id,
            "--partners", "none", "--out", str(out), "--results-json", str(results),
            "--junit", str(out / "junit.xml"), "--html", str(out / "report.html")]
    argv += ["--capabilities", ",".join(held_to(impl, assignment.weights)) or ","]
    if assignment.weights_path:
        argv += ["--weights", str(Path(assignment.weights_path).resolve())]
    if assignment.weights.stage:
        argv += ["--stage", assignment.weights.stage]
    if assignment.cases:
        argv += ["--cases", ",".join(assignment.cases)]
    if assignment.seed is not None:
        argv += ["--seed", str(assignment.seed)]
    if assignment.students:
        argv += ["--student", ", ".join(assignment.students)]
    package = str(Path(__file__).resolve().parent.parent.parent)
    env = dict(os.environ, ECHO_LAB_ROOT=str(where),
               PYTHONPATH=os.pathsep.join(filter(None, [package, os.environ.get("PYTHONPATH")])))
    print(f"grading {impl.id}: {shlex.join(argv)}", flush=True)
    process = subprocess.Popen(argv, cwd=where, env=env, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        process.wait(timeout=assignment.grade_timeout)
    except subprocess.TimeoutExpired:
        stop(process)
        raise Problem("timeout", f"Grading {impl.id} took longer than {assignment.grade_timeout:.0f} s and was "
                      f"stopped. Run `{PROG} grade` on your machine to see which case hangs.") from None
    except BaseException:
        stop(process)
        raise
    if not results.is_file():
        raise Problem("autograder error", f"Grading {impl.id} ended (status {process.returncode}) without "
                      f"results; your instructor has the log.")
    return json.loads(results.read_text(encoding="utf-8"))


def held_to(impl: Implementation, weights: Weights) -> list[str]:
    """What a submission is graded on: the assignment's capabilities (the weights file's, else the
    stage's, else the whole contract), never fewer because the student's manifest leaves some out;
    the contract's options (bye, raw) when the manifest declares them, since they only add cases."""
    base = [c for c in held_capabilities(impl.role, weights) if c in CONTRACT[impl.role] + OPTIONAL[impl.role]]
    return list(dict.fromkeys(base + [c for c in impl.capabilities if c in OPTIONAL[impl.role]]))


def stop(process: subprocess.Popen) -> None:
    """SIGTERM the process group (a grade stops the programs it started), then SIGKILL what is
    left."""
    for sig, grace in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


# --- results.json ----------------------------------------------------------------------------

def merge(parts: list[dict], missing_roles: list[str], weights: Weights, ids: list[str]) -> tuple[dict, int]:
    """One results.json from each program's: tests numbered program.case, scores summed."""
    tests, outputs = [], []
    for index, part in enumerate(parts, 1):
        for number, test in enumerate(part["tests"], 1):
            tests.append(dict(test, number=f"{index}.{number}" if len(parts) > 1 else test["number"]))
        outputs.append(part["output"])
    for role in missing_roles:
        tests.append(missing_test(role, weights, len(tests) + 1))
    score = round(sum(t["score"] for t in tests), 4)
    status = 0 if all(t["status"] == "passed" for t in tests) else 1
    seeds = [part.get("extra_data", {}).get("echo_lab", {}).get("seed") for part in parts]
    return {
        "score": score,
        "output": "\n\n".join(outputs + [f"No {role} in echo-lab.json: its cases score 0." for role in missing_roles]),
        "output_format": "text",
        "visibility": weights.visibility,
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {"echo_lab": {"implementations": ids, "seeds": seeds}},
    }, status


def possible(role: str, weights: Weights) -> float:
    """The points a program of `role` can earn under the weights (cases that need a capability
    the weights do not require count only when declared, so they are left out)."""
    held = held_capabilities(role, weights)
    stage = STAGES.get(weights.stage) if weights.stage else None
    return sum(weights.for_case(c).weight for c in conformance(list(stage.cases) if stage else None, role)
               if all(cap in held for _, cap in c.requires))


def held_capabilities(role: str, weights: Weights) -> list[str]:
    if weights.capabilities:
        return list(weights.capabilities)
    if weights.stage:
        return list(STAGES[weights.stage].capabilities)
    return list(CONTRACT[role])


def missing_test(role: str, weights: Weights, number: int, message: str | None = None,
                 diagnosis: str = "not-graded") -> dict:
    return {"name": f"submission: a {role} described in echo-lab.json", "number": str(number), "score": 0,
            "max_score": possible(role, weights), "status": "failed",
            "output": message or f"This assignment grades a {role}, and echo-lab.json has none.",
            "output_format": "text", "tags": ["submission"], "visibility": "visible",
            "extra_data": {"case": "submission", "test": "submission", "outcome": "FAIL", "diagnosis": diagnosis}}


def failed(problem: Problem, roles: list[str], weights: Weights) -> dict:
    """Score 0 and the reason, visible to the student whatever the assignment's visibility (as
    Gradescope suggests for checks made before grading)."""
    roles = roles or ["server"]
    tests = [missing_test(role, weights, n, f"{problem.title}: {problem.message}") for n, role in enumerate(roles, 1)]
    for test in tests:
        test["name"] = f"submission: {problem.title}"
    return {"score": 0, "output": f"Not graded: {problem.title}.\n\n{problem.message}", "output_format": "text",
            "visibility": weights.visibility, "stdout_visibility": "hidden", "tests": tests,
            "extra_data": {"echo_lab": {"problem": f"{problem.title}: {problem.message.splitlines()[0]}"}}}


def markdown(data: dict) -> str:
    """The score and each visible test, for a GitHub job summary (tests visible only later, or
    never, are counted but not listed)."""
    possible_points = sum(t.get("max_score", 0) for t in data["tests"])
    lines = [f"## Echo Lab: {data['score']:g} of {possible_points:g} points", ""]
    problem = data.get("extra_data", {}).get("echo_lab", {}).get("problem")
    if problem:
        lines += ["```", data["output"], "```", ""]
    lines += ["| # | test | result | points |", "| --- | --- | --- | --- |"]
    shown = [t for t in data["tests"] if t.get("visibility", "visible") == "visible"]
    for t in shown:
        extra = t.get("extra_data", {})
        why = extra.get("diagnosis")
        how = f" ({label(why)})" if why and why != "not-graded" else ""
        lines.append(f"| {t['number']} | `{t['name'].split(': ', 1)[0]}` | {extra.get('outcome', t['status'])}{how} | "
                     f"{t['score']:g}/{t['max_score']:g} |")
    if len(shown) < len(data["tests"]):
        hidden = len(data["tests"]) - len(shown)
        lines += ["", f"{hidden} more cases are graded but not shown here (their visibility is not visible)."]
    return "\n".join(lines) + "\n"


def add_parser(sub) -> None:
    p = sub.add_parser("autograde", help="a student's submission (with its echo-lab.json) in, Gradescope's "
                       "results.json out, whatever happens")
    p.add_argument("submission", type=Path, metavar="SUBMISSION", help="the directory holding the submission")
    p.add_argument("--results-json", type=Path, required=True, metavar="FILE", help="where results.json goes")
    p.add_argument("--weights", type=Path, metavar="FILE", help="the instructor's weights (conformance/weights.py)")
    p.add_argument("--roles", type=roles_option, default=[], metavar="LIST",
                   help="what the assignment grades: server, client or server,client (default: every "
                   "program echo-lab.json describes)")
    p.add_argument("--stage", choices=list(STAGES), metavar="STAGE", help="grade one stage of the staged lab "
                   f"({', '.join(STAGES)}): its cases and capabilities; the role defaults to the stage's")
    p.add_argument("--cases", type=lambda s: [c for c in s.split(",") if c], metavar="PATTERN",
                   help="only these case-id globs")
    p.add_argument("--seed", type=int, metavar="N", help="the run's seed (default: a new one)")
    p.add_argument("--out", type=Path, metavar="DIR", help="reports per program: report.html, junit.xml, logs "
                   "(default build/conformance/autograde)")
    p.add_argument("--metadata", type=Path, metavar="FILE", help="Gradescope's submission_metadata.json "
                   "(the student's name goes into results.json for the class summary)")
    p.add_argument("--summary", type=Path, metavar="FILE", help="append a Markdown summary (a GitHub job summary)")
    p.add_argument("--build-timeout", type=float, default=600, metavar="S", help="seconds the build may take")
    p.add_argument("--grade-timeout", type=float, default=900, metavar="S", help="seconds each program's "
                   "grading may take")
    p.set_defaults(run=autograde_command)
