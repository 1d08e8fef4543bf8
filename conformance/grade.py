"""`python3 -m conformance grade`: one program, a student's command line or a lab program,
through every case and its pairs with the lab's good programs; the score, the reports and
Gradescope's results.json; exit 1 when a MUST fails."""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

from conformance import adhoc
from conformance.engine import Engine, Result, render
from conformance.manifest import Implementation, ManifestError, default_root, scan
from conformance.outcomes import Outcome
from conformance.report import Report, gradescope, write_reports
from conformance.report.scores import scored, total
from conformance.repeat import merge
from conformance.runs import PROG, fresh_dir, matches_id, new_seed, now
from conformance.weights import Weights, load_weights
from conformance.wire import Timeouts


def grade_command(args) -> int:
    root = default_root()
    weights = load_weights(args.weights) if args.weights else Weights()
    target, lab = grade_target(args, weights, root)
    others = "client" if target.role == "server" else "server"
    partners = [] if args.partners == ["none"] else [
        i for i in lab if i.role == others and i.variant != "bad" and i.available and i.id != target.id
        and (not args.partners or any(matches_id(i.id, p) for p in args.partners))]
    seed = args.seed if args.seed is not None else new_seed()
    out = fresh_dir(args.out or root / "build" / "conformance" / "grade" / target.id)
    print(f"grading {target.id} ({target.role}: {target.run}); capabilities: "
          f"{', '.join(target.capabilities) or '(none declared)'}; seed {seed}", file=sys.stderr, flush=True)

    base = [*PROG.split(), "grade", *grade_words(args, target)]

    def replay(r: Result) -> str:
        partner = r.server if r.client == target.id else r.client
        extra = ["--partners", partner] if r.case.role == "pair" else []
        return shlex.join(base + ["--cases", r.case.id, *extra, "--seed", str(r.seed)])

    started = time.monotonic()
    runs = []
    for attempt in range(max(1, args.repeat)):
        engine = Engine(out / f"run-{attempt + 1}" if args.repeat > 1 else out, seed + attempt,
                        Timeouts().scaled(args.timeout_scale), args.cases, replay,
                        full=getattr(args, "full", False))
        if target.role == "server":
            results = engine.server_suite(target, partners)
        else:
            results = engine.client_suite(target)
            for server in partners:
                results += engine.server_suite(server, [target], own=False)
        runs.append(results)
    results = merge(runs)
    report = Report("grade", seed, args.command_line, now(), time.monotonic() - started, [target] + partners,
                    results, args.cases, target=target.id)
    paths = write_reports(report, json_path=args.json or out / "report.json",
                          html_path=args.html or out / "report.html", junit_path=args.junit)
    if args.results_json:
        gradescope.write(report, weights, args.results_json)
        paths["Gradescope results"] = str(args.results_json)
    print(grade_text(report, weights, paths))
    must_broken = [r for r in results if r.outcome.unexpected and r.case.level == "MUST"]
    return 1 if must_broken else 0


def grade_target(args, weights: Weights, root: Path) -> tuple[Implementation, list[Implementation]]:
    lab = scan(root).implementations
    if args.impl:
        found = [i for i in lab if i.id == args.impl]
        if not found:
            raise ManifestError([f"--impl {args.impl}: no such implementation (see {PROG} list)"])
        if not found[0].available:
            raise ManifestError([f"--impl {args.impl}: {found[0].reason}"])
        return found[0], lab
    role = "server" if args.server else "client"
    capabilities = list(dict.fromkeys(args.capabilities + [c for c in weights.capabilities
                                                             if adhoc.CAPABILITIES.get(c) == role]))
    return adhoc.from_command(role, args.server or args.client, capabilities, args.name, root), lab


def grade_words(args, target: Implementation) -> list[str]:
    """The options that name the graded program, for replay commands."""
    if args.impl:
        return ["--impl", args.impl]
    words = [f"--{target.role}", target.run]
    if target.capabilities:
        words += ["--capabilities", ",".join(target.capabilities)]
    if args.name:
        words += ["--name", args.name]
    if getattr(args, "full", False):
        words.append("--full")
    return words


def grade_text(report: Report, weights: Weights, paths: dict[str, str]) -> str:
    lines = [f"Echo Lab grade for {report.target}: seed {report.seed} (repeat with --seed {report.seed})", ""]
    rows = scored(report, weights)
    for row in rows:
        r = row.result
        points = "-" if row.earned is None else f"{row.earned:g}/{row.grading.weight:g}"
        rate = f"  passed {r.passes}/{r.runs}" if r.runs > 1 else ""
        lines.append(f"  {r.outcome.value:<13} {points:>7}  {row.name}{rate}")
        lines += [f"  {'':<13} {'':>7}    {figure}" for figure in r.figures]  # what a fault case measured
    for r in report.results:
        if r.outcome not in (Outcome.PASS, Outcome.UNSUPPORTED, Outcome.SKIPPED):
            lines += ["", render(r)]
    for b in report.blame():
        lines += ["", f"{b.case} fails against all {b.partners} lab partners: the gap is in {b.impl}, not in them"]
    score, possible = total(rows)
    lines += ["", f"score {score:g} of {possible:g}; {len(report.results)} results in {report.seconds:.1f} s"]
    lines += [f"{name}: {path}" for name, path in paths.items()]
    return "\n".join(lines)
