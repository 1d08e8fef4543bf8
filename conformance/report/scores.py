"""Points per result under an instructor's weights: shared by `grade`'s printout and Gradescope."""

from __future__ import annotations

from dataclasses import dataclass

from conformance.engine import Result
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
