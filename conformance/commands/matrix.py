"""`python3 -m conformance matrix`: every conformance case over every program and every client x
server pair, then (unless `--robustness none`) the robustness cases over every server, one at a
time; the matrix and the robustness table printed, one report written (report.json,
report.html, junit.xml, robustness.json, robustness.md); exit 1 on any failure nobody predicted.

`python3 -m conformance robustness`: the robustness cases alone (`--full` for the full figures).
"""

from __future__ import annotations

import json
import shlex
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from conformance.cases import select
from conformance.diagnose import diagnose
from conformance.engine import Engine, Result
from conformance.errormatrix.page import committed_html
from conformance.manifest import Implementation, ManifestError, default_root, scan
from conformance.net.wire import Timeouts
from conformance.outcomes import Outcome
from conformance.report import Report, robustness, write_reports
from conformance.report.terminal import text
from conformance.runs import PROG, fresh_dir, matches_id, new_seed, now


def lab_programs(only: list[str] | None) -> list[Implementation]:
    result = scan(default_root())
    if result.errors:
        raise ManifestError([m for e in result.errors for m in e.messages])
    return [i for i in result.implementations if not only or any(matches_id(i.id, p) for p in only)]


def matrix_command(args) -> int:
    root = default_root()
    impls = lab_programs(args.only)
    seed = args.seed if args.seed is not None else new_seed()
    out = fresh_dir(args.out or root / "build" / "conformance")
    print(f"Echo Lab conformance: seed {seed}; logs in {out}", file=sys.stderr, flush=True)
    timeouts = Timeouts().scaled(args.timeout_scale)

    def replay(r: Result) -> str:
        only = " ".join(f"--only {i}" for i in (r.client, r.server) if i)
        return f"{PROG} matrix {only} --cases {r.case.id} --seed {r.seed}"

    conformance_patterns = [p for p in args.cases or [] if not p.startswith("robust")] or None
    engine = Engine(out, seed, timeouts, conformance_patterns, replay)
    servers = [i for i in impls if i.role == "server"]
    clients = [i for i in impls if i.role == "client"]
    # The naive programs are the error-handling matrix's rows: on the happy path a pair shows
    # nothing of them the other pairs do not, so they take no part in pairs.
    partners = [c for c in clients if c.variant != "naive"]
    suites = [(s.id, lambda s=s: engine.server_suite(s, partners if s.variant != "naive" else []))
              for s in servers]
    suites += [(c.id, lambda c=c: engine.client_suite(c)) for c in clients]
    started = time.monotonic()
    results = run_suites(suites, args.jobs) if args.cases is None or conformance_patterns else []
    table = None
    if args.robustness != "none":
        robust_patterns = [p for p in args.cases or ["robust"] if p.startswith("robust")]
        if robust_patterns:
            # The naive servers fail robustness by design (their manifests say how): the error
            # matrix is where they teach; `robustness --only '*-naive-*'` runs them.
            careful = [s for s in servers if s.variant != "naive"]
            found, table = run_robustness(careful, robust_patterns, seed, timeouts, out / "robustness",
                                          args.robustness == "full", args.command_line,
                                          lambda r: f"{PROG} robustness --only {r.server} --cases {r.case.id} "
                                                    f"--seed {r.seed}")
            results += found
    report = Report("matrix", seed, args.command_line, now(), time.monotonic() - started, impls, results,
                    args.cases, profiles=dict(engine.profiles))
    for impl in impls:
        report.diagnoses += diagnose(results, engine.profiles.get(impl.id), impl, set(impl.capabilities))
    paths = write_reports(report, json_path=out / "report.json", html_path=out / "report.html",
                          junit_path=out / "junit.xml", robustness_table=table,
                          error_matrix=committed_html(root))
    if table:
        paths.update(write_table(table, out))
    print(text(report, paths))
    if table:
        print("\n" + robustness.text(table))
    return 1 if report.unexpected() else 0


def run_robustness(servers: list[Implementation], patterns: list[str], seed: int, timeouts: Timeouts, logs: Path,
                   full: bool, command: str, replay) -> tuple[list[Result], dict]:
    """The robustness cases over each server, and their table: in the bounded form two servers
    at a time (most of a case is waiting: on timeouts, a slow peer, a stalled reader), in the full
    form one at a time (its cases load the machine). A case that changes the loopback for everyone
    (robust/slow-link) runs with nothing beside it (impair.LOOPBACK)."""
    cases = select(patterns, "robust")
    engine = Engine(fresh_dir(logs), seed, timeouts, patterns, replay, full=full, profile=False)
    print(f"robustness ({'full' if full else 'bounded'} form): {len(cases)} cases x {len(servers)} servers",
          file=sys.stderr, flush=True)
    started = time.monotonic()
    results = run_suites([(s.id, lambda s=s: engine.server_suite(s)) for s in servers], jobs=1 if full else 2)
    table = robustness.robustness_table(results, servers, cases, seed=seed, full=full, command=command,
                                        started=now(), seconds=time.monotonic() - started)
    return results, table


def write_table(table: dict, out: Path) -> dict[str, str]:
    (out / "robustness.json").write_text(json.dumps(table, indent=2) + "\n", encoding="utf-8")
    (out / "robustness.md").write_text(robustness.markdown(table) + "\n", encoding="utf-8")
    return {"robustness.json": str(out / "robustness.json"), "robustness.md": str(out / "robustness.md")}


def robustness_command(args) -> int:
    root = default_root()
    servers = [i for i in lab_programs(args.only) if i.role == "server"]
    if not args.only:  # the naive servers fail here by design: only when --only names them
        servers = [s for s in servers if s.variant != "naive"]
    patterns = args.cases or ["robust"]
    if not servers or not select(patterns, "robust"):
        raise ManifestError([f"nothing to run: {len(servers)} servers match --only, "
                             f"{len(select(patterns, 'robust'))} robustness cases match --cases "
                             f"(see {PROG} list and {PROG} cases --cases robust)"])
    seed = args.seed if args.seed is not None else new_seed()
    out = fresh_dir(args.out or root / "build" / "conformance" / "robustness")

    def replay(r: Result) -> str:
        words = [*PROG.split(), "robustness", "--only", r.server, "--cases", r.case.id, "--seed", str(r.seed)]
        return shlex.join(words + (["--full"] if args.full else []))

    results, table = run_robustness(servers, patterns, seed, Timeouts().scaled(args.timeout_scale), out / "logs",
                                    args.full, args.command_line, replay)
    report = Report("robustness", seed, args.command_line, now(), table["seconds"], servers, results, patterns)
    paths = write_reports(report, json_path=out / "report.json", html_path=out / "report.html",
                          junit_path=out / "junit.xml", robustness_table=table)
    paths.update(write_table(table, out))
    print(robustness.text(table, paths))
    return 1 if robustness.unexpected(table) else 0


def run_suites(suites, jobs: int) -> list[Result]:
    """Run (name, suite) pairs, `jobs` at a time, printing one line as each ends; results in order."""
    def timed(index: int, name: str, suite) -> list[Result]:
        started = time.monotonic()
        results = suite()
        counts = ", ".join(f"{n} {o.value}" for o, n in sorted(count(results).items()))
        print(f"[{index:>2}/{len(suites)}] {name}: {counts} ({time.monotonic() - started:.1f} s)",
              file=sys.stderr, flush=True)
        return results
    if jobs <= 1:
        return [r for i, (name, suite) in enumerate(suites) for r in timed(i + 1, name, suite)]
    pool = ThreadPoolExecutor(max_workers=jobs)
    try:
        futures = [pool.submit(timed, i + 1, name, suite) for i, (name, suite) in enumerate(suites)]
        return [r for f in futures for r in f.result()]
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def count(results: list[Result]) -> dict[Outcome, int]:
    counts: dict[Outcome, int] = {}
    for r in results:
        counts[r.outcome] = counts.get(r.outcome, 0) + 1
    return counts
