"""A run's findings as one data model that every writer renders: the results with their
observations, each server's behaviour profile, the diagnoses, the pair matrix, the per-program
grids of cases, the blame rule, and report.json.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from conformance.cases import Case, select
from conformance.diagnose import Found, Profile
from conformance.engine import Result, relative
from conformance.manifest import Implementation
from conformance.outcomes import Outcome


@dataclass(frozen=True)
class Blame:
    """A pair case that fails against every partner: the program's own gap, not the pairs'."""
    impl: str
    case: str
    partners: int
    outcomes: tuple[str, ...]


@dataclass
class Report:
    mode: str  # "matrix", "grade", "check", "robustness"
    seed: int
    command: str
    started: str
    seconds: float
    implementations: list[Implementation]
    results: list[Result]
    patterns: list[str] | None = None
    target: str | None = None  # grade: the program being graded
    notes: list[str] = field(default_factory=list)
    profiles: dict[str, Profile] = field(default_factory=dict)
    diagnoses: list[Found] = field(default_factory=list)
    student: str | None = None  # the student's name, when known (Gradescope's metadata)

    @property
    def cases(self) -> list[Case]:
        return select(self.patterns)

    def ids(self, role: str) -> list[str]:
        return [impl.id for impl in self.implementations if impl.role == role]

    def pair_cases(self) -> list[Case]:
        return select(self.patterns, "pair")

    def cell(self, client: str, server: str) -> list[Result]:
        """The pair results of one client against one server, in case order."""
        return [r for r in self.results if r.case.role == "pair" and r.client == client and r.server == server]

    def own(self, impl: str) -> list[Result]:
        """The results of an implementation's own cases (not its pairs)."""
        return [r for r in self.results if r.case.role != "pair" and r.subject == impl]

    def counts(self) -> Counter:
        return Counter(r.outcome for r in self.results)

    def unexpected(self) -> list[Result]:
        return [r for r in self.results if r.outcome.unexpected]

    def blame(self) -> list[Blame]:
        return blame(self.results)

    def diagnoses_of(self, impl: str) -> list[Found]:
        return [d for d in self.diagnoses if d.program == impl]

    def to_json(self) -> dict:
        return {
            "tool": "echo-lab conformance",
            "mode": self.mode,
            "seed": self.seed,
            "command": self.command,
            "started": self.started,
            "seconds": round(self.seconds, 2),
            "target": self.target,
            "student": self.student,
            "outcomes": {o.value: n for o, n in self.counts().items()},
            "diagnoses": [d.to_json() for d in self.diagnoses],
            "profiles": {impl: p.to_json() for impl, p in self.profiles.items()},
            "notes": self.notes,
            "implementations": [impl_json(i) for i in self.implementations],
            "cases": [case_json(c) for c in self.cases],
            "results": [result_json(r) for r in self.results],
            "matrix": {
                "clients": self.ids("client"),
                "servers": self.ids("server"),
                "cells": {c: {s: {r.case.id: r.outcome.value for r in self.cell(c, s)} for s in self.ids("server")}
                          for c in self.ids("client")},
            },
            "blame": [vars(b) | {"outcomes": list(b.outcomes)} for b in self.blame()],
        }

    def write_json(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=2, ensure_ascii=True) + "\n", encoding="utf-8")


def blame(results: list[Result]) -> list[Blame]:
    """Apply the blame rule: a pair case that did not pass against any of at least two partners
    that ran it is the implementation's own."""
    by_side: dict[tuple[str, str], list[Outcome]] = {}
    for r in results:
        if r.case.role != "pair" or not r.outcome.counted:
            continue
        for impl in (r.client, r.server):
            by_side.setdefault((impl, r.case.id), []).append(r.outcome)
    return [Blame(impl, case_id, len(outcomes), tuple(sorted({o.value for o in outcomes})))
            for (impl, case_id), outcomes in by_side.items()
            if len(outcomes) >= 2 and Outcome.PASS not in outcomes]


def impl_json(impl: Implementation) -> dict:
    return {
        "id": impl.id,
        "language": impl.language,
        "role": impl.role,
        "variant": impl.variant,
        "summary": impl.summary,
        "available": impl.available,
        "reason": impl.reason,
        "run": impl.run,
        "capabilities": list(impl.capabilities),
        "flaws": list(impl.flaws),
        "expected_failures": dict(impl.expected_failures),
        "manifest": relative(impl.manifest) if impl.manifest.exists() else str(impl.manifest),
    }


def case_json(case: Case) -> dict:
    return {"id": case.id, "role": case.role, "level": case.level, "weight": case.weight,
            "sentence": case.rule.sentence, "source": case.rule.source, "summary": case.summary,
            "requires": [f"{role}:{cap}" for role, cap in case.requires]}


def result_json(r: Result) -> dict:
    return {"case": r.case.id, "subject": r.subject, "server": r.server, "client": r.client,
            "outcome": r.outcome.value, "level": r.case.level, "summary": r.summary,
            "observation": r.observation.to_json() if r.observation else None, "cause": r.cause,
            "details": r.details, "expected": r.expected, "seed": r.seed, "seconds": round(r.seconds, 3),
            "passes": r.passes, "runs": r.runs, "verdicts": r.verdicts, "unstable": r.unstable,
            "figures": r.figures, "replay": r.replay, "logs": relative(r.logdir) if r.logdir else None}
