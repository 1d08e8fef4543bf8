"""`python3 -m conformance errors`: every program through every scenario of its role; the page
printed, the data and the pages written (--write: the matrix's page and the styles page), or the
data compared with the committed data (--check)."""

from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor

from conformance.commands.matrix import lab_programs
from conformance.errormatrix import page, styles
from conformance.errormatrix.scenarios import SCENARIOS, Cell, stage
from conformance.manifest import Implementation, default_root
from conformance.runs import PROG


def run_matrix(impls: list[Implementation], jobs: int = 6) -> dict:
    """Every scenario of each program's role, `jobs` at a time (every port is ephemeral, so runs
    in parallel never meet): the matrix as data."""
    tasks = [(s, i) for i in impls for s in SCENARIOS if s.role == i.role]
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        observed: list[Cell] = list(pool.map(lambda task: stage(*task), tasks))
    return page.build(impls, {(s.id, i.id): cell for (s, i), cell in zip(tasks, observed)})


def errors_command(args) -> int:
    root = default_root()
    impls = lab_programs(args.only)
    if not impls:
        print(f"{PROG} errors: no implementation matches {', '.join(args.only)}", file=sys.stderr)
        return 2
    if args.write and args.only:
        print(f"{PROG} errors: --write needs every implementation (leave out --only)", file=sys.stderr)
        return 2
    started = time.monotonic()
    runs = [run_matrix(impls, args.jobs) for _ in range(max(1, args.repeat))]
    fresh = page.merge_runs(runs)
    status = 0
    for number, other in enumerate(runs[1:], 2):
        for line in page.differences(runs[0], other):
            print(f"varies (run 1 against run {number}): {line}", file=sys.stderr)
    if args.check:
        committed = page.load(root / page.DATA)
        found = page.differences(committed, fresh, {i.id for i in impls if i.available})
        for line in found:
            print(f"differs from {page.DATA}: {line}", file=sys.stderr)
        if found:
            print(f"{len(found)} cell(s) of {page.DATA} no longer match what the programs do; "
                  f"`make errors` rewrites it", file=sys.stderr)
            status = 1
    if args.write:
        (root / page.DATA).write_text(page.dump(fresh), encoding="utf-8")
        (root / page.PAGE).write_text(page.markdown(fresh), encoding="utf-8")
        (root / styles.PAGE).write_text(styles.markdown(fresh, root), encoding="utf-8")
        print(f"wrote {page.DATA}, {page.PAGE} and {styles.PAGE}", file=sys.stderr)
    elif not args.check:
        sys.stdout.write(page.markdown(fresh))
    print(f"{len(impls)} implementations, {len(runs)} run(s) in {time.monotonic() - started:.1f} s",
          file=sys.stderr)
    return status


def add_parser(sub) -> None:
    p = sub.add_parser("errors", help="every program through every network failure: the error-handling matrix "
                       f"({page.DATA} is the committed data, {page.PAGE} its page)")
    p.add_argument("--only", action="append", metavar="ID-GLOB", help="only implementations matching "
                   "this id glob (repeatable)")
    p.add_argument("--write", action="store_true", help=f"write {page.DATA}, {page.PAGE} and {styles.PAGE}")
    p.add_argument("--check", action="store_true", help=f"compare with {page.DATA}; exit 1 naming every "
                   "cell that differs")
    p.add_argument("--jobs", type=int, default=6, metavar="N", help="stage N scenarios at once (default 6: "
                   "most of the time is waiting)")
    p.add_argument("--repeat", type=int, default=1, metavar="N", help="run everything N times; a cell that "
                   "changed between runs is named, and recorded with every way it was seen (make errors: 3)")
    p.set_defaults(run=errors_command)
