"""What a case raises when the program under test breaks the rule it checks.

    raise Fail("the echo differs", sent=payload, expected=payload, received=got)
    raise Stalled("no byte came back for 3 s", expected=payload, received=got)

Fail is graded FAIL (NON-STRICT for a SHOULD); Stalled, a timeout, is graded ERROR: never a pass.
"""

from __future__ import annotations


class Fail(Exception):
    def __init__(self, summary: str, *, sent: bytes | None = None, expected: bytes | None = None,
                 received: bytes | None = None, lines: bool = False, notes: tuple[str, ...] = ()):
        super().__init__(summary)
        self.summary = summary
        self.sent = sent
        self.expected = expected
        self.received = received
        self.lines = lines  # the bytes are a transcript: name the line that differs
        self.notes = tuple(notes)


class Stalled(Fail):
    """A timeout: the program neither finished nor made progress in time."""


class Unsupported(Exception):
    """The case cannot apply to this program (found out only by looking at it): UNSUPPORTED."""
