"""Every conformance case, registered by id in order: server cases, client cases, pairs.

    from conformance.cases import CASES, select
    for case in select("server/bytes"):
        print(case.id, case.level, case.rule.sentence)
"""

# Importing the modules registers their cases, in this order.
from conformance.cases import server  # noqa: F401  isort: skip
from conformance.cases import client  # noqa: F401  isort: skip
from conformance.cases import pair  # noqa: F401  isort: skip
from conformance.cases import fault  # noqa: F401  isort: skip
from conformance.cases.base import BODY, FIRST, LAST, MUST, REGISTRY, SHOULD, Case, Context, matches

CASES: dict[str, Case] = REGISTRY


def select(patterns: list[str] | None = None, role: str | None = None) -> list[Case]:
    """The cases whose ids match any of the globs (all when none), optionally of one role."""
    return [c for c in CASES.values() if matches(c.id, patterns) and (role is None or c.role == role)]


__all__ = ["BODY", "CASES", "Case", "Context", "FIRST", "LAST", "MUST", "SHOULD", "matches", "select"]
