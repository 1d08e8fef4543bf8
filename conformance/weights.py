"""An instructor's grading file for `grade --weights FILE`: weights, visibility, hidden cases.

    {
      "capabilities": ["half_close", "concurrent"],
      "cases": {
        "server/stream/*":  {"weight": 5},
        "server/reset/*":   {"weight": 2, "visibility": "after_due_date"},
        "server/bytes/*":   {"details": false},
        "client/errors/*-message": {"weight": 0}
      },
      "hidden": ["server/concurrent/*"]
    }

`stage` (optional) makes the assignment one stage of the staged lab (conformance/stages.py):
only that stage's cases are run and scored, and the program is held to the stage's capabilities
unless `capabilities` says otherwise. `capabilities` are graded as if the program declared them
(the assignment requires them).
Under `cases`, the first glob that matches a case id wins: `weight` replaces the case's default
weight (0 keeps it listed but worth nothing), `visibility` is Gradescope's (visible, hidden,
after_due_date, after_published), `details: false` hides the bytes from the student and keeps
the case id, its sentence and the verdict. Cases matching `hidden` get visibility hidden.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass, field
from pathlib import Path

from conformance.cases import Case
from conformance.manifest import CAPABILITIES
from conformance.stages import BY_ID as STAGES

VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
TOP = {"capabilities", "cases", "hidden", "stage", "visibility"}
RULE = {"weight", "visibility", "details"}


class WeightsError(Exception):
    pass


@dataclass(frozen=True)
class Grading:
    weight: float
    visibility: str
    details: bool


@dataclass
class Weights:
    rules: list[tuple[str, dict]] = field(default_factory=list)
    hidden: list[str] = field(default_factory=list)
    capabilities: list[str] = field(default_factory=list)
    visibility: str = "visible"
    stage: str | None = None  # one stage of the staged lab as the assignment

    def for_case(self, case: Case) -> Grading:
        rule = next((r for pattern, r in self.rules if fnmatch.fnmatchcase(case.id, pattern)), {})
        visibility = rule.get("visibility", self.visibility)
        if any(fnmatch.fnmatchcase(case.id, pattern) for pattern in self.hidden):
            visibility = "hidden"
        return Grading(float(rule.get("weight", case.weight)), visibility, bool(rule.get("details", True)))


def load_weights(path: Path) -> Weights:
    """Read and check a weights file; every problem is named with its place in the file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise WeightsError(f"{path}: cannot read: {e}") from None
    problems = []
    if not isinstance(data, dict):
        raise WeightsError(f"{path}: the top level must be a JSON object")
    problems += [f"{key}: unknown field (expected: {', '.join(sorted(TOP))})" for key in sorted(set(data) - TOP)]
    weights = Weights(visibility=data.get("visibility", "visible"), stage=data.get("stage"))
    if weights.stage is not None and weights.stage not in STAGES:
        problems.append(f"stage: {weights.stage!r} is not a stage (one of: {', '.join(STAGES)})")
    if weights.visibility not in VISIBILITIES:
        problems.append(f"visibility: {weights.visibility!r} is not one of {', '.join(VISIBILITIES)}")
    for key in ("hidden", "capabilities"):
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.append(f"{key}: must be a list of strings")
        else:
            setattr(weights, key, value)
    problems += [f"capabilities: unknown capability {c!r}" for c in weights.capabilities if c not in CAPABILITIES]
    cases = data.get("cases", {})
    if not isinstance(cases, dict):
        problems.append('cases: must be an object {"case-id-glob": {"weight": ..., "visibility": ...}}')
        cases = {}
    for pattern, rule in cases.items():
        if not isinstance(rule, dict):
            problems.append(f"cases.{pattern}: must be an object")
            continue
        problems += [f"cases.{pattern}.{k}: unknown field (expected: {', '.join(sorted(RULE))})"
                     for k in sorted(set(rule) - RULE)]
        weight = rule.get("weight", 0)
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight < 0:
            problems.append(f"cases.{pattern}.weight: must be a number >= 0")
        if rule.get("visibility", "visible") not in VISIBILITIES:
            problems.append(f"cases.{pattern}.visibility: must be one of {', '.join(VISIBILITIES)}")
        if not isinstance(rule.get("details", True), bool):
            problems.append(f"cases.{pattern}.details: must be true or false")
        weights.rules.append((pattern, rule))
    if problems:
        raise WeightsError("\n".join(f"{path}: {p}" for p in problems))
    return weights


def assignment_stage(named: str | None, weights: Weights):
    """The stage an assignment grades: --stage or the weights file's `stage` (they must agree),
    or None for the whole contract."""
    if named and weights.stage and named != weights.stage:
        raise WeightsError(f"--stage {named} and the weights file's stage {weights.stage!r} disagree: give one")
    name = named or weights.stage
    if name is not None and name not in STAGES:
        raise WeightsError(f"--stage {name}: not a stage (one of: {', '.join(STAGES)})")
    return STAGES[name] if name else None
