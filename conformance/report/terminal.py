"""The run as text. A matrix: the pair matrix (clients as rows, servers as columns), a grid of
every program's own cases, what did not pass and why, the blame rule's findings, and every
unexpected failure in full. A grade: the diagnosis first, then the cases with their points,
then each failure's printout, then the score line."""

from __future__ import annotations

from conformance.diagnose import headline
from conformance.engine import relative, render
from conformance.outcomes import MARKS, Outcome
from conformance.report.model import Report
from conformance.report.scores import score_line, scored
from conformance.weights import Weights

PASS_MARK = "."
LEGEND = (". passed   x expected failure (documented)   F FAIL   n NON-STRICT (a SHOULD)   "
          "E ERROR (timeout or harness)   - unsupported (capability not declared)   s skipped")


def mark(outcome: Outcome) -> str:
    return PASS_MARK if outcome is Outcome.PASS else MARKS[outcome]


def grid(rows: list[tuple[str, list[str]]], columns: list[str]) -> list[str]:
    """Rows of marks under numbered column labels."""
    width = max([len(label) for label, _ in rows] + [8])
    col = [max(len(c), max((len(cells[i]) for _, cells in rows), default=1)) for i, c in enumerate(columns)]
    out = ["  " + " " * width + "  " + " ".join(c.ljust(w) for c, w in zip(columns, col))]
    for label, cells in rows:
        out.append("  " + label.ljust(width) + "  " + " ".join(m.ljust(w) for m, w in zip(cells, col)))
    return out


def matrix(report: Report) -> list[str]:
    servers, clients, pairs = report.ids("server"), report.ids("client"), report.pair_cases()
    if not (servers and clients and pairs):
        return []
    names = ", ".join(c.id for c in pairs)
    out = [f"Pairs: clients (rows) x servers (columns); each cell shows {names}, in that order"]
    out += [f"  S{i + 1:<3} {s}" for i, s in enumerate(servers)]
    rows = [(c, ["".join(mark(r.outcome) for r in report.cell(c, s)) for s in servers]) for c in clients]
    return out + grid(rows, [f"S{i + 1}" for i in range(len(servers))])


def case_grid(report: Report, role: str) -> list[str]:
    cases = [c for c in report.cases if c.role == role]
    ids = report.ids(role)
    if not cases or not ids:
        return []
    out = [f"{role.capitalize()} cases: {role}s (rows) x cases (columns)"]
    out += [f"  {i + 1:>3} {c.id} [{c.level}]" for i, c in enumerate(cases)]
    rows = []
    for impl in ids:
        by_case = {r.case.id: r.outcome for r in report.own(impl)}
        rows.append((impl, [mark(by_case.get(c.id, Outcome.SKIPPED)) for c in cases]))
    labels = [str(i + 1) for i in range(len(cases))]
    return out + grid(rows, labels)


def not_passed(report: Report) -> list[str]:
    out = []
    for impl in report.implementations:
        if not impl.available:
            out.append(f"  SKIPPED {impl.id}: {impl.reason}")
            continue
        shown = [r for r in report.results if impl.id in (r.server, r.client)
                 and r.outcome not in (Outcome.PASS, Outcome.UNSUPPORTED, Outcome.SKIPPED)
                 and (r.case.role != "pair" or r.expected is None or r.expected.startswith(impl.id + ":"))]
        for r in shown:
            why = r.expected.split(": ", 1)[1] if r.expected else r.summary
            why += f" [{r.cause}]" if r.cause and not r.expected else ""
            where = f" with {r.server if r.client == impl.id else r.client}" if r.case.role == "pair" else ""
            out.append(f"  {r.outcome.value:<13} {impl.id}: {r.case.id}{where}: {why}")
    return ["Not passed (unsupported cases left out):"] + out if out else []


def text(report: Report, paths: dict[str, str] | None = None) -> str:
    out = [f"Echo Lab conformance ({report.mode}): seed {report.seed} (repeat with --seed {report.seed})", ""]
    for section in (matrix(report), case_grid(report, "server"), case_grid(report, "client")):
        if section:
            out += section + [""]
    out += [LEGEND, ""]
    diagnosed = [d for d in report.diagnoses if d.cases and not all(
        r.expected for r in report.results if r.cause == d.id and d.program in (r.server, r.client))]
    if diagnosed:
        out.append("Diagnoses (the most likely cause of each program's unexpected failures):")
        out += [f"  {d.program}: {d.id}: {d.diagnosis.summary} ({len(d.cases)} cases)" for d in diagnosed]
        out.append("")
    section = not_passed(report)
    if section:
        out += section + [""]
    blamed = report.blame()
    if blamed:
        out.append("Blame (a pair case that fails against every partner is the program's own):")
        out += [f"  {b.impl}: {b.case} fails against all {b.partners} partners ({', '.join(b.outcomes)})"
                for b in blamed]
        out.append("")
    unexpected = report.unexpected()
    if unexpected:
        out.append(f"Unexpected failures ({len(unexpected)}):")
        for r in unexpected:
            out += [render(r), ""]
    out += report.notes
    counts = report.counts()
    summary = ", ".join(f"{counts[o]} {o.value}" for o in Outcome if counts[o])
    out.append(f"{len(report.results)} results in {report.seconds:.1f} s: {summary}")
    for name, path in (paths or {}).items():
        out.append(f"{name}: {relative(path)}")
    return "\n".join(out)


def grade_text(report: Report, weights: Weights, paths: dict[str, str]) -> str:
    """What `grade` prints: the cause first, then every case, then the failures in full."""
    target = next((i for i in report.implementations if i.id == report.target), None)
    lines = [f"Echo Lab grade for {report.student or report.target}: seed {report.seed} "
             f"(repeat with --seed {report.seed})", ""]
    first = headline(report.diagnoses_of(report.target))
    if first:
        lines += first + [""]
    rows = scored(report, weights)
    for row in rows:
        r = row.result
        points = "-" if row.earned is None else f"{row.earned:g}/{row.grading.weight:g}"
        rate = f"  passed {r.passes}/{r.runs}" + ("  UNSTABLE" if r.unstable else "") if r.runs > 1 else ""
        star = " (*)" if r.cause else ""
        lines.append(f"  {r.outcome.value:<13} {points:>7}  {row.name}{star}{rate}")
        lines += [f"  {'':<13} {'':>7}    {figure}" for figure in r.figures]  # what a case measured
    for row in rows:
        if row.result.outcome not in (Outcome.PASS, Outcome.UNSUPPORTED, Outcome.SKIPPED):
            lines += ["", render(row.result, details=row.grading.details)]
    for b in report.blame():
        lines += ["", f"{b.case} fails against all {b.partners} lab partners: the gap is in {b.impl}, not in them"]
    unstable = [row.name for row in rows if row.result.unstable]
    if unstable:
        lines += ["", f"UNSTABLE: {len(unstable)} case(s) gave different verdicts in different runs: "
                      + ", ".join(unstable)]
    lines += ["", score_line(rows, target) + f"; {len(report.results)} results in {report.seconds:.1f} s"]
    lines += [f"{name}: {relative(path)}" for name, path in paths.items()]
    return "\n".join(lines)
