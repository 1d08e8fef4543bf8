"""`python3 -m conformance matrix`: every case over every program and every client x server
pair, the matrix printed, the reports written; exit 1 on any failure nobody predicted."""

from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor

from conformance.engine import Engine, Result
from conformance.manifest import ManifestError, default_root, scan
from conformance.outcomes import Outcome
from conformance.report import Report, write_reports
from conformance.report.terminal import text
from conformance.runs import PROG, fresh_dir, matches_id, new_seed, now
from conformance.wire import Timeouts


def matrix_command(args) -> int:
    root = default_root()
    result = scan(root)
    if result.errors:
        raise ManifestError([m for e in result.errors for m in e.messages])
    impls = [i for i in result.implementations if not args.only or any(matches_id(i.id, p) for p in args.only)]
    seed = args.seed if args.seed is not None else new_seed()
    out = fresh_dir(args.out or root / "build" / "conformance")
    print(f"Echo Lab conformance: seed {seed}; logs in {out}", file=sys.stderr, flush=True)

    def replay(r: Result) -> str:
        only = " ".join(f"--only {i}" for i in (r.client, r.server) if i)
        return f"{PROG} matrix {only} --cases {r.case.id} --seed {r.seed}"

    engine = Engine(out, seed, Timeouts().scaled(args.timeout_scale), args.cases, replay)
    servers = [i for i in impls if i.role == "server"]
    clients = [i for i in impls if i.role == "client"]
    suites = [(s.id, lambda s=s: engine.server_suite(s, clients)) for s in servers]
    suites += [(c.id, lambda c=c: engine.client_suite(c)) for c in clients]
    started = time.monotonic()
    results = run_suites(suites, args.jobs)
    report = Report("matrix", seed, args.command_line, now(), time.monotonic() - started, impls, results,
                    args.cases)
    paths = write_reports(report, json_path=out / "report.json", html_path=out / "report.html",
                          junit_path=out / "junit.xml")
    print(text(report, paths))
    return 1 if report.unexpected() else 0


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
