"""`grade --repeat N`: fold N runs of the same cases into one result per case with its pass
rate and each run's verdict, so a case whose verdict varies is flagged UNSTABLE."""

from __future__ import annotations

from conformance.engine import Result
from conformance.outcomes import Outcome, worst


def merge(runs: list[list[Result]]) -> list[Result]:
    """One result per (case, server, client), in the first run's order: the worst outcome, the
    first run that had it (its seed replays it), how many runs passed, every run's verdict."""
    if len(runs) == 1:
        return runs[0]
    groups: dict[tuple, list[Result]] = {}
    for results in runs:
        for r in results:
            groups.setdefault((r.case.id, r.server, r.client), []).append(r)
    merged = []
    for group in groups.values():
        bad = worst(r.outcome for r in group)
        chosen = next(r for r in group if r.outcome is bad)
        chosen.passes = sum(r.outcome is Outcome.PASS for r in group)
        chosen.runs = len(group)
        chosen.verdicts = [r.outcome.value for r in group]
        merged.append(chosen)
    return merged
