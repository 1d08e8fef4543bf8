"""The harness's command line: `python3 -m conformance list | cases | matrix | grade | faults |
errors | class | autograde`.

    python3 -m conformance matrix                         # every client x server, every case
    python3 -m conformance faults --only 'cpp-*'          # the fault table (--full: full size)
    python3 -m conformance errors                         # the error-handling matrix
    python3 -m conformance grade --server './my_server --port {port} --host {host}' \\
        --capabilities half_close,concurrent --results-json results.json
"""

from __future__ import annotations

import argparse
import json
import shlex
import signal
import sys
from pathlib import Path

from conformance import procs
from conformance.cases import select
from conformance.classroom import add_parser as add_class_parser
from conformance.errormatrix.command import add_parser as add_errors_parser
from conformance.faults.command import add_parser as add_faults_parser
from conformance.grade import grade_command
from conformance.kit.autograde import add_parser as add_autograde_parser
from conformance.manifest import ManifestError, scan
from conformance.matrix import matrix_command
from conformance.report import impl_json
from conformance.report.model import case_json
from conformance.runs import PROG
from conformance.weights import WeightsError


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser().parse_args(argv)
    args.command_line = shlex.join([*PROG.split(), *argv])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the finally below runs
    try:
        return args.run(args)
    except (ManifestError, WeightsError) as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    finally:
        procs.kill_all(final=True)


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
    p.add_argument("--jobs", type=int, default=1, metavar="N", help="run N programs' suites at once")
    run_options(p)
    p.set_defaults(run=matrix_command)

    p = sub.add_parser("grade", help="grade one program given as a command line (or a lab program by id)")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--server", metavar="CMD", help="a server command with {host} and {port}, split "
                        "into words like a shell would (for cd, pipes or variables: sh -c '...')")
    target.add_argument("--client", metavar="CMD", help="a client command ending in {host} {port} "
                        "({options} before them for --raw)")
    target.add_argument("--impl", metavar="ID", help="a lab program from the manifests")
    p.add_argument("--capabilities", type=lambda s: [c for c in s.split(",") if c], default=[],
                   metavar="LIST", help="what the program declares: concurrent,bye,half_close,graceful_stop "
                   "and the flags idle_timeout,max_connections,drain for servers, raw for clients")
    p.add_argument("--name", metavar="NAME", help="what to call the program in reports (your-server)")
    p.add_argument("--partners", action="append", metavar="ID", help="lab programs to pair with (id globs; "
                   "default every available good one of the other role; 'none' for no pairs)")
    p.add_argument("--repeat", type=int, default=1, metavar="N", help="run everything N times with seeds "
                   "SEED..SEED+N-1 and report each case's pass rate")
    p.add_argument("--weights", type=Path, metavar="FILE", help="the instructor's weights, visibility and "
                   "hidden cases (see conformance/weights.py)")
    p.add_argument("--results-json", type=Path, metavar="FILE", help="write Gradescope's results.json")
    p.add_argument("--junit", type=Path, metavar="FILE", help="write JUnit XML")
    p.add_argument("--html", type=Path, metavar="FILE", help="write the HTML report")
    p.add_argument("--json", type=Path, metavar="FILE", help="write report.json")
    p.add_argument("--full", action="store_true", help="fault cases (--cases fault/...): the full figures, "
                   "not the bounded ones")
    run_options(p)
    p.set_defaults(run=grade_command)
    add_faults_parser(sub, run_options)  # python3 -m conformance faults: the fault table

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
