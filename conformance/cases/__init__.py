"""Every case, registered by id in order: server cases, client cases, pairs, robustness cases.

    from conformance.cases import CASES, select
    for case in select(["server/bytes"]):
        print(case.id, case.level, case.rule.sentence)

Folders and modules by group: server/ (the tester is the client), client/ (the tester is a
recording server), pair.py (a lab client against a lab server), robust/ (floods, resets,
exhaustion, drains: only when asked for); case.py is what a case is, rules.py the sentences they
check, arguments.py the bad command lines two groups share.
"""

# Importing the packages registers their cases, in this order.
from conformance.cases import server  # noqa: F401  isort: skip
from conformance.cases import client  # noqa: F401  isort: skip
from conformance.cases import pair  # noqa: F401  isort: skip
from conformance.cases import robust  # noqa: F401  isort: skip
from conformance.cases.case import BODY, FIRST, LAST, MUST, REGISTRY, SHOULD, Case, Context, matches

CASES: dict[str, Case] = REGISTRY


def select(patterns: list[str] | None = None, role: str | None = None) -> list[Case]:
    """The cases whose ids match any of the globs (all when none), optionally of one role
    (server, client, pair or robust)."""
    return [c for c in CASES.values() if matches(c.id, patterns) and (role is None or c.role == role)]


def conformance(patterns: list[str] | None = None, role: str | None = None) -> list[Case]:
    """The cases a grade runs by default: every case but the robustness ones, unless a pattern
    names them."""
    return [c for c in select(patterns, role) if c.role != "robust" or patterns]


__all__ = ["BODY", "CASES", "Case", "Context", "FIRST", "LAST", "MUST", "SHOULD", "conformance", "matches",
           "select"]
