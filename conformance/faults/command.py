"""`python3 -m conformance faults`: every fault case against every server the manifests declare,
one server at a time (the cases load the machine), then the fault table printed and written to
faults.json, faults.md and the HTML report. Bounded by default, `--full` for the full figures;
exit 1 on any failure nobody predicted."""

from __future__ import annotations

import shlex
import sys
import time

from conformance.cases import select
from conformance.engine import Engine, Result
from conformance.manifest import ManifestError, default_root, scan
from conformance.matrix import run_suites
from conformance.report import Report, write_reports
from conformance.report import faults as table
from conformance.runs import PROG, fresh_dir, matches_id, new_seed, now
from conformance.wire import Timeouts

ALL = ["fault"]


def faults_command(args) -> int:
    root = default_root()
    result = scan(root)
    if result.errors:
        raise ManifestError([m for e in result.errors for m in e.messages])
    servers = [i for i in result.implementations if i.role == "server"
               and (not args.only or any(matches_id(i.id, p) for p in args.only))]
    patterns = args.cases or ALL
    cases = select(patterns, "fault")
    if not servers or not cases:
        raise ManifestError([f"nothing to run: {len(servers)} servers match --only, {len(cases)} fault cases "
                             f"match --cases (see {PROG} list and {PROG} cases --cases fault)"])
    seed = args.seed if args.seed is not None else new_seed()
    out = (args.out or root / "build" / "conformance").resolve()
    logs = fresh_dir(out / "faults")
    form = "full" if args.full else "bounded"
    print(f"Echo Lab faults ({form} form): seed {seed}; {len(cases)} cases x {len(servers)} servers; "
          f"logs in {logs}", file=sys.stderr, flush=True)

    def replay(r: Result) -> str:
        words = [*PROG.split(), "faults", "--only", r.server, "--cases", r.case.id, "--seed", str(r.seed)]
        return shlex.join(words + (["--full"] if args.full else []))

    engine = Engine(logs, seed, Timeouts().scaled(args.timeout_scale), patterns, replay, full=args.full)
    started = time.monotonic()
    results = run_suites([(s.id, lambda s=s: engine.server_suite(s)) for s in servers], jobs=1)
    seconds = time.monotonic() - started
    report = Report("faults", seed, args.command_line, now(), seconds, servers, results, patterns)
    write_reports(report, json_path=logs / "report.json", html_path=None, junit_path=logs / "junit.xml")
    data = table.fault_table(results, servers, cases, seed=seed, full=args.full, command=args.command_line,
                             started=report.started, seconds=seconds)
    paths = table.write(data, out)
    print(table.text(data, paths))
    return 1 if table.unexpected(data) else 0


def add_parser(sub, run_options) -> None:
    p = sub.add_parser("faults", help="the fault cases over every server: the fault table")
    p.add_argument("--only", action="append", metavar="ID", help="only servers matching this id glob "
                   "(repeatable)")
    p.add_argument("--full", action="store_true", help="the full figures (1,000 clients x 1 MiB, 10,000 "
                   "resets, ...; minutes per server) instead of the bounded ones")
    run_options(p)
    p.set_defaults(run=faults_command)
