"""Gradescope's results.json (gradescope/autograder_samples, docs/specs.md): one test per case
(per partner for pairs) with its weight as max_score and the instructor's visibility; cases the
program does not support are listed in the top-level output instead, worth nothing. Each test's
extra_data names its case, outcome and failure signature, for `python3 -m conformance class`."""

from __future__ import annotations

import json
from pathlib import Path

from conformance.classroom import signature
from conformance.engine import render
from conformance.outcomes import Outcome
from conformance.report.model import Report
from conformance.report.scores import Scored, scored, total
from conformance.weights import Weights


def results(report: Report, weights: Weights) -> dict:
    rows = scored(report, weights)
    tests = [{
        "name": f"{row.name}: {row.result.case.summary}",
        "number": str(number),
        "score": row.earned,
        "max_score": row.grading.weight,
        "status": "passed" if row.result.outcome is Outcome.PASS else "failed",
        "output": render(row.result, details=row.grading.details),
        "output_format": "text",
        "tags": [row.result.case.role, row.result.case.level, row.result.outcome.value],
        "visibility": row.grading.visibility,
        "extra_data": test_data(row),
    } for number, row in enumerate((row for row in rows if row.earned is not None), 1)]
    score, possible = total(rows)
    lines = [f"Echo Lab conformance: {score:g} of {possible:g} points, seed {report.seed}."]
    not_graded = [f"  {row.name}: {row.result.outcome.value} ({row.result.summary})" for row in rows
                  if row.earned is None]
    if not_graded:
        lines += ["Not graded:"] + not_graded
    return {
        "score": score,
        "execution_time": int(round(report.seconds)),
        "output": "\n".join(lines),
        "output_format": "text",
        "visibility": weights.visibility,
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {"echo_lab": {"target": report.target, "seed": report.seed}},
    }


def test_data(row: Scored) -> dict:
    """What the class summary reads back (Gradescope stores extra_data and does not show it):
    the case, the outcome and how it failed, as a stable signature id."""
    r = row.result
    return {"case": r.case.id, "test": row.name, "outcome": r.outcome.value,
            "signature": signature(r.case.id, r.outcome.value, r.summary, r.details)}


def write(report: Report, weights: Weights, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results(report, weights), indent=2, ensure_ascii=True) + "\n", encoding="utf-8")
