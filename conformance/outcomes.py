"""The grades a case can get, and how the matrix marks them."""

from __future__ import annotations

from enum import Enum


class Outcome(str, Enum):
    PASS = "PASS"
    FAIL = "FAIL"  # a MUST broken
    NON_STRICT = "NON-STRICT"  # a SHOULD broken
    EXPECTED_FAIL = "EXPECTED-FAIL"  # a bad variant failing where its manifest says it will
    UNSUPPORTED = "UNSUPPORTED"  # needs a capability the program does not declare
    SKIPPED = "SKIPPED"  # the program is not available (toolchain missing, not built)
    ERROR = "ERROR"  # a timeout or the harness itself: never the program's pass

    @property
    def unexpected(self) -> bool:
        """A failure nobody predicted: the matrix exits non-zero on one."""
        return self in (Outcome.FAIL, Outcome.ERROR)

    @property
    def counted(self) -> bool:
        """Whether the case ran and has a verdict about the program."""
        return self not in (Outcome.UNSUPPORTED, Outcome.SKIPPED)


# In a matrix cell each case is one character: its letter when it passed, else the outcome's.
MARKS = {
    Outcome.FAIL: "F",
    Outcome.NON_STRICT: "n",
    Outcome.EXPECTED_FAIL: "x",
    Outcome.UNSUPPORTED: "-",
    Outcome.SKIPPED: "s",
    Outcome.ERROR: "E",
}
SEVERITY = [Outcome.ERROR, Outcome.FAIL, Outcome.NON_STRICT, Outcome.EXPECTED_FAIL, Outcome.PASS,
            Outcome.UNSUPPORTED, Outcome.SKIPPED]


def worst(outcomes) -> Outcome:
    """The outcome that matters most among several (a cell, repeated runs)."""
    outcomes = list(outcomes)
    return min(outcomes, key=SEVERITY.index) if outcomes else Outcome.SKIPPED
