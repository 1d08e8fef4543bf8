"""The harness's command line: `python3 -m conformance list | cases | matrix | robustness | grade |
stages | new | check | errors | autograde | class` (each command's code is in commands/).

    python3 -m conformance matrix                         # every client x server, every case
    python3 -m conformance robustness --only 'cpp-*'      # the robustness table (--full: full size)
    python3 -m conformance errors                         # the error-handling matrix
    python3 -m conformance grade --server './my_server --port {port} --host {host}' --results-json r.json
"""

from __future__ import annotations

import argparse
import json
import shlex
import signal
import sys
from pathlib import Path

from conformance import process
from conformance.cases import select
from conformance.commands.autograde import add_parser as add_autograde_parser
from conformance.commands.classroom import add_parser as add_class_parser
from conformance.commands.errors import add_parser as add_errors_parser
from conformance.commands.grade import grade_command
from conformance.commands.matrix import matrix_command, robustness_command
from conformance.commands.stages import add_parser as add_stages_parser
from conformance.manifest import ManifestError, scan
from conformance.report import impl_json
from conformance.report.model import case_json
from conformance.net import private
from conformance.runs import PROG
from conformance.stages import STAGES
from conformance.submission import Problem
from conformance.weights import WeightsError


# The commands that run programs: each run gets a private network of its own where it can.
NETWORKED = {"matrix", "robustness", "grade", "check", "errors"}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser().parse_args(argv)
    args.command_line = shlex.join([*PROG.split(), *argv])
    if args.command in NETWORKED:
        private.setup()  # before any thread starts: a user namespace needs a single-threaded process
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the finally below runs
    try:
        return args.run(args)
    except (ManifestError, WeightsError, Problem) as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    finally:
        process.kill_all(final=True)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog=PROG, description="Echo Lab's conformance harness: every case "
                                  "of RFC 862 and the lab's contract, for every program or for yours.")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("list", help="every implementation the manifests declare")
    p.add_argument("--json", action="store_true", help="a JSON array instead of a table")
    p.set_defaults(run=list_command)

    p = sub.add_parser("cases", help="every case: id, level, weight and the sentence it checks")
    p.add_argument("--json", action="store_true", help="a JSON array instead of text")
    p.add_argument("--cases", type=patterns, metavar="PATTERN", help="only these case-id globs (comma-separated)")
    p.set_defaults(run=cases_command)

    p = sub.add_parser("matrix", help="every case over every program, every client x server pair")
    p.add_argument("--only", action="append", metavar="ID", help="only implementations matching this "
                   "id glob (repeatable; a pair needs both ends)")
    p.add_argument("--jobs", type=int, default=3, metavar="N", help="run N programs' conformance suites at once "
                   "(default 3: they mostly wait on the network; the robustness cases always run one server at a "
                   "time)")
    p.add_argument("--robustness", choices=("bounded", "full", "none"), default="bounded",
                   help="then the robustness cases over every server, one at a time (default: bounded)")
    run_options(p)
    p.set_defaults(run=matrix_command)

    p = sub.add_parser("robustness", help="the robustness cases over every server: the robustness table")
    p.add_argument("--only", action="append", metavar="ID", help="only servers matching this id glob "
                   "(repeatable)")
    p.add_argument("--full", action="store_true", help="the full figures (1,000 clients x 1 MiB, 10,000 "
                   "resets, ...; minutes per server) instead of the bounded ones")
    run_options(p)
    p.set_defaults(run=robustness_command)

    p = sub.add_parser("grade", help="grade one program given as a command line (or a lab program by id)")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--server", metavar="CMD", help="a server command, split into words like a shell "
                        "would (for cd, pipes or variables: sh -c '...'); {host} and {port} where it takes "
                        "them (without {port} it is expected on port 2000)")
    target.add_argument("--client", metavar="CMD", help="a client command ending in {host} {port} "
                        "({options} before them for --raw); without {port} it is expected to connect to 2000")
    target.add_argument("--impl", metavar="ID", help="a lab program from the manifests")
    p.add_argument("--capabilities", type=lambda s: [c for c in s.split(",") if c], default=None,
                   metavar="LIST", help="grade only these: concurrent,half_close,graceful_stop,bye and the flags "
                   "idle_timeout,max_connections,drain for servers, raw for clients (default: the whole "
                   "contract, concurrent,half_close,graceful_stop for a server); what is left out is named in "
                   "the score line")
    p.add_argument("--name", metavar="NAME", help="what to call the program in reports (your-server)")
    p.add_argument("--student", metavar="NAME", help="the student's name, at the top of the reports")
    program_options(p)
    p.add_argument("--partners", action="append", metavar="ID", help="lab programs to pair with (id globs; "
                   "default every available good one of the other role; 'none' for no pairs)")
    p.add_argument("--repeat", type=int, default=1, metavar="N", help="run everything N times with seeds "
                   "SEED..SEED+N-1 and report each case's pass rate")
    p.add_argument("--weights", type=Path, metavar="FILE", help="the instructor's weights, visibility and "
                   "hidden cases (see conformance/weights.py)")
    p.add_argument("--stage", choices=[st.id for st in STAGES], metavar="STAGE", help="grade one stage of the "
                   f"staged lab: its cases and capabilities only ({', '.join(st.id for st in STAGES)})")
    p.add_argument("--results-json", type=Path, metavar="FILE", help="write Gradescope's results.json")
    p.add_argument("--junit", type=Path, metavar="FILE", help="write JUnit XML")
    p.add_argument("--html", type=Path, metavar="FILE", help="write the HTML report")
    p.add_argument("--json", type=Path, metavar="FILE", help="write report.json")
    p.add_argument("--full", action="store_true", help="robustness cases (--cases robust/...): the full "
                   "figures, not the bounded ones")
    run_options(p)
    p.set_defaults(run=grade_command)

    add_stages_parser(sub, run_options, program_options)  # python3 -m conformance stages | new | check: the staged lab
    add_errors_parser(sub)  # python3 -m conformance errors: the error-handling matrix
    add_autograde_parser(sub)  # python3 -m conformance autograde: a submission in, results.json out
    add_class_parser(sub)  # python3 -m conformance class: a class's results grouped by failure
    return top


def run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cases", type=patterns, metavar="PATTERN", help="only these case-id globs, comma-"
                   "separated; a prefix selects everything under it (server/bytes)")
    p.add_argument("--seed", type=int, metavar="N", help="the run's seed (default: a new one, printed)")
    p.add_argument("--out", type=Path, metavar="DIR", help="where logs and reports go (default build/conformance)")
    p.add_argument("--timeout-scale", type=float, default=1.0, metavar="F", help="multiply every timeout "
                   "(a slow machine)")


def program_options(p: argparse.ArgumentParser) -> None:
    """How to grade a program as it was written, and what it must not see."""
    p.add_argument("--server-port", type=int, default=2000, metavar="N", help="where a server whose command has "
                   "no {port} listens (default 2000, the chapter's)")
    p.add_argument("--client-port", type=int, default=2000, metavar="N", help="where a client whose command has "
                   "no {port} connects (default 2000)")
    p.add_argument("--hide", action="append", type=Path, default=[], metavar="PATH", help="keep PATH out of the "
                   "graded program's sight in its sandbox (repeatable; its reports are hidden anyway)")


def patterns(value: str) -> list[str]:
    return [p.strip() for p in value.split(",") if p.strip()]


# --- list and cases --------------------------------------------------------------------------

def list_command(args) -> int:
    result = scan()
    for error in result.errors:
        for message in error.messages:
            print(f"INVALID {message}", file=sys.stderr)
    impls = result.implementations
    if args.json:
        print(json.dumps([impl_json(i) for i in impls], indent=2))
    else:
        if not impls:
            print("no implementation: no valid echo-lab.json manifest was found", file=sys.stderr)
        width = max((len(i.id) for i in impls), default=0)
        for i in impls:
            state = "available" if i.available else f"unavailable: {i.reason}"
            caps = ",".join(i.capabilities) or "-"
            print(f"{i.id:<{width}}  {i.role:<6} {i.variant:<9} {caps:<40} {state}")
    return 2 if result.errors else 0


def cases_command(args) -> int:
    cases = select(args.cases)
    if args.json:
        print(json.dumps([case_json(c) for c in cases], indent=2, ensure_ascii=False))
        return 0
    for c in cases:
        needs = f"  needs {', '.join(f'{r} {cap}' for r, cap in c.requires)}" if c.requires else ""
        print(f"{c.id}  [{c.level}, weight {c.weight:g}]{needs}\n  {c.summary}\n"
              f"  checks: \"{c.rule.sentence}\" ({c.rule.source})\n")
    return 0
