"""Gradescope's results.json (gradescope/autograder_samples, docs/specs.md): one test per case
(per partner for pairs) with its weight as max_score and the instructor's visibility; the
diagnosis and the score line (with what was not attempted) head the top-level output. Each
test's tags and extra_data name its case, its outcome and the diagnosis its failure follows
from, which `python3 -m conformance class` groups a class by."""

from __future__ import annotations

import json
from pathlib import Path

from conformance.diagnose import headline
from conformance.engine import render
from conformance.outcomes import Outcome
from conformance.report.model import Report
from conformance.report.scores import Scored, score_line, scored
from conformance.weights import Weights


def results(report: Report, weights: Weights) -> dict:
    rows = scored(report, weights)
    target = next((i for i in report.implementations if i.id == report.target), None)
    tests = [{
        "name": f"{row.name}: {row.result.case.summary}",
        "number": str(number),
        "score": row.earned,
        "max_score": row.grading.weight,
        "status": "passed" if row.result.outcome is Outcome.PASS else "failed",
        "output": render(row.result, details=row.grading.details),
        "output_format": "text",
        "tags": [row.result.case.role, row.result.case.level, row.result.outcome.value]
        + ([row.result.cause] if row.result.cause else []),
        "visibility": row.grading.visibility,
        "extra_data": test_data(row),
    } for number, row in enumerate((row for row in rows if row.earned is not None), 1)]
    lines = headline(report.diagnoses_of(report.target))
    lines += ([""] if lines else []) + [f"Echo Lab conformance: {score_line(rows, target)}; seed {report.seed}."]
    return {
        "score": sum(t["score"] for t in tests),
        "execution_time": int(round(report.seconds)),
        "output": "\n".join(lines),
        "output_format": "text",
        "visibility": weights.visibility,
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {"echo_lab": {"target": report.target, "seed": report.seed,
                                    "diagnoses": [d.to_json() for d in report.diagnoses_of(report.target)],
                                    "not_attempted": [row.name for row in rows if row.earned is None]}},
    }


def test_data(row: Scored) -> dict:
    """What the class summary reads back (Gradescope stores extra_data and does not show it)."""
    r = row.result
    return {"case": r.case.id, "test": row.name, "outcome": r.outcome.value, "diagnosis": r.cause,
            "unstable": r.unstable}


def write(report: Report, weights: Weights, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results(report, weights), indent=2, ensure_ascii=True) + "\n", encoding="utf-8")
