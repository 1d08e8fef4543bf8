"""`python3 -m conformance errors`: every program through every fault of its role, the
Markdown page printed, written (--write) or compared with a committed one (--check)."""

from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from conformance.errormatrix.faults import FAULTS, Observation, stage
from conformance.errormatrix.table import differences, key, render
from conformance.manifest import Implementation, ManifestError, default_root, scan
from conformance.runs import PROG, matches_id

DEFAULT_PAGE = Path("lab-guides") / "error-matrix.md"


def run_matrix(impls: list[Implementation], jobs: int = 6) -> dict[tuple[str, str], Observation]:
    """Every fault of each program's role, `jobs` at a time; every port is ephemeral, so runs
    in parallel never meet."""
    tasks = [(f, i) for i in impls for f in FAULTS if f.role == i.role]
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        observed = list(pool.map(lambda task: stage(*task), tasks))
    return {key(f, i): obs for (f, i), obs in zip(tasks, observed)}


def page(impls: list[Implementation], jobs: int = 6) -> str:
    return render(impls, run_matrix(impls, jobs))


def selected(patterns: list[str] | None) -> list[Implementation]:
    result = scan(default_root())
    if result.errors:
        raise ManifestError([m for e in result.errors for m in e.messages])
    return [i for i in result.implementations if not patterns or any(matches_id(i.id, p) for p in patterns)]


def errors_command(args) -> int:
    impls = selected(args.only)
    if not impls:
        print(f"{PROG} errors: no implementation matches {', '.join(args.only)}", file=sys.stderr)
        return 2
    if args.write and args.only:
        print(f"{PROG} errors: --write needs every implementation (leave out --only)", file=sys.stderr)
        return 2
    started = time.monotonic()
    runs = [page(impls, args.jobs) for _ in range(max(1, args.repeat))]
    fresh = runs[0]
    status = 0
    for number, other in enumerate(runs[1:], 2):
        unstable = differences(fresh, other)
        for line in unstable:
            print(f"unstable (run 1 against run {number}): {line}", file=sys.stderr)
        status = status or (1 if unstable else 0)
    if args.check:
        committed = args.check.read_text(encoding="utf-8") if args.check.is_file() else ""
        found = differences(committed, fresh, {i.id for i in impls if i.available})
        for line in found:
            print(f"differs from {args.check}: {line}", file=sys.stderr)
        if found:
            print(f"{len(found)} cell(s) of {args.check} no longer match what the programs do; "
                  f"`make errors` rewrites it", file=sys.stderr)
            status = 1
    if args.write:
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.write_text(fresh, encoding="utf-8")
        print(f"wrote {args.write}", file=sys.stderr)
    elif not args.check:
        sys.stdout.write(fresh)
    print(f"{len(impls)} implementations, {len(runs)} run(s) in {time.monotonic() - started:.1f} s",
          file=sys.stderr)
    return status


def add_parser(sub) -> None:
    p = sub.add_parser("errors", help="every program through every fault: the error-handling matrix "
                       f"(Markdown; {DEFAULT_PAGE} is the committed one)")
    p.add_argument("--only", action="append", metavar="ID-GLOB", help="only implementations matching "
                   "this id glob (repeatable)")
    p.add_argument("--write", type=Path, metavar="PATH", help=f"write the page here (e.g. {DEFAULT_PAGE})")
    p.add_argument("--check", type=Path, metavar="PATH", help="compare with this committed page; exit 1 "
                   "naming every cell that differs")
    p.add_argument("--jobs", type=int, default=6, metavar="N", help="stage N faults at once (default 6: "
                   "most of the time is waiting)")
    p.add_argument("--repeat", type=int, default=1, metavar="N", help="run everything N times; exit 1 "
                   "naming every cell that changed between runs")
    p.set_defaults(run=errors_command)
