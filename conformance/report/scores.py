"""Points per result under an instructor's weights, and the score line that says what was not
attempted: shared by every writer that shows a score (the terminal, HTML, Gradescope)."""

from __future__ import annotations

from dataclasses import dataclass

from conformance.engine import Result
from conformance.manifest import Implementation
from conformance.outcomes import Outcome
from conformance.report.model import Report
from conformance.weights import Grading, Weights


@dataclass(frozen=True)
class Scored:
    result: Result
    name: str  # the case id, and the partner for a pair
    grading: Grading
    earned: float | None  # None when the case was not graded (unsupported, skipped)


def scored(report: Report, weights: Weights) -> list[Scored]:
    rows = []
    for r in report.results:
        grading = weights.for_case(r.case)
        name = r.case.id
        if r.case.role == "pair":
            name += f" with {r.server if r.client == report.target else r.client}"
        earned = round(grading.weight * r.passes / r.runs, 4) if r.outcome.counted else None
        rows.append(Scored(r, name, grading, earned))
    return rows


def total(rows: list[Scored]) -> tuple[float, float]:
    """Points earned and points possible."""
    graded = [row for row in rows if row.earned is not None]
    return round(sum(row.earned for row in graded), 4), sum(row.grading.weight for row in graded)


def not_attempted(rows: list[Scored], target: Implementation | None) -> list[tuple[str, float, int]]:
    """What was left out of the score, as (what, points, cases): each capability the program was
    not graded on, each reason a case could not apply, each thing missing here."""
    groups: dict[str, list[float]] = {}
    for row in rows:
        r = row.result
        if r.outcome.counted:
            continue
        if r.outcome is Outcome.UNSUPPORTED and target is not None:
            caps = [cap for role, cap in r.case.requires if role == target.role and not target.has(cap)]
            what = ", ".join(caps) if caps else r.summary
        else:
            what = f"skipped: {r.summary}"
        groups.setdefault(what, []).append(row.grading.weight)
    return [(what, sum(points), len(points)) for what, points in groups.items()]


def percent(score: float, possible: float) -> str:
    return f"{100 * score / possible:.0f}%" if possible else "-"


def score_line(rows: list[Scored], target: Implementation | None) -> str:
    """`score 36 of 38 (95%); not attempted: concurrent (2 cases, 3 points)`: never a silent
    perfect score."""
    score, possible = total(rows)
    line = f"score {score:g} of {possible:g} ({percent(score, possible)})"
    left = not_attempted(rows, target)
    if left:
        line += "; not attempted: " + "; ".join(
            f"{what} ({cases} case{'s' if cases != 1 else ''}, {points:g} point{'s' if points != 1 else ''})"
            for what, points, cases in left)
    return line
