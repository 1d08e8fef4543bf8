"""What the harness saw: the facts a case records when a program breaks its rule, kept as data
so that every writer (the terminal, HTML, JSON, JUnit, Gradescope, the class summary) and the
diagnosis read the same facts, and nothing is ever parsed back out of printed text.

    raise Fail("the echo differs", sent=payload, expected=payload, received=got, close="fin")
    raise Stalled("no echo within 3 s", expected=payload, received=got)   # the program stalled

A Stalled is the program's failure (it stopped making progress), graded FAIL like any other;
ERROR is kept for the harness's own faults.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from conformance.explain import first_difference

CLOSES = ("fin", "rst", "open")  # how the program ended a connection; "open": not by the deadline


@dataclass
class Observation:
    summary: str
    sent: bytes | None = None  # what the tester (or the client under test) sent
    expected: bytes | None = None
    received: bytes | None = None
    lines: bool = False  # the bytes are a transcript: name the line that differs
    close: str | None = None  # one of CLOSES, when a connection's end was seen
    stalled: bool = False  # the program made no progress within the bound
    waited: float | None = None  # seconds waited when it stalled
    connection: str | None = None  # which of the tester's connections ("client 3")
    exit_status: int | None = None  # a program's exit status (negative: the signal that ended it)
    stderr: bytes | None = None  # the program's stderr during the case
    server_died: str | None = None  # how the server ended, when a case ended it
    notes: tuple[str, ...] = ()
    facts: dict = field(default_factory=dict)  # anything else a case measured, by name

    @property
    def first_difference(self) -> int | None:
        if self.expected is None or self.received is None:
            return None
        return first_difference(self.expected, self.received)

    @property
    def prefix_only(self) -> bool:
        """What came back is a strict prefix of what was expected: the rest never came."""
        return (self.expected is not None and self.received is not None
                and len(self.received) < len(self.expected) and self.expected.startswith(self.received))

    @property
    def extra(self) -> bool:
        """Everything expected came back, and more."""
        return (self.expected is not None and self.received is not None
                and len(self.received) > len(self.expected) and self.received.startswith(self.expected))

    @property
    def inserted(self) -> bool:
        """Bytes nobody sent came first (a banner, a prompt), and then the echo."""
        if not self.expected or not self.received or self.received.startswith(self.expected[:1]):
            return False
        at = self.received.find(self.expected[:16])
        if at <= 0:
            return False
        rest = self.received[at:]
        return self.expected.startswith(rest) or rest.startswith(self.expected)

    @property
    def changed(self) -> tuple[int, int, int] | None:
        """(offset, expected byte, received byte) where a byte came back different."""
        offset = self.first_difference
        if offset is None or offset >= min(len(self.expected), len(self.received)):
            return None
        return offset, self.expected[offset], self.received[offset]

    def to_json(self) -> dict:
        """The facts, with sizes and the first difference instead of the bytes (which can be MiB)."""
        data = {"summary": self.summary}
        for name in ("sent", "expected", "received"):
            value = getattr(self, name)
            if value is not None:
                data[f"{name}_bytes"] = len(value)
        if self.first_difference is not None:
            data["first_difference"] = self.first_difference
        for name in ("close", "waited", "connection", "exit_status", "server_died"):
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        if self.stalled:
            data["stalled"] = True
        if self.stderr:
            data["stderr"] = self.stderr.decode("utf-8", errors="replace")[-2000:]
        if self.facts:
            data["facts"] = self.facts
        return data


class Fail(Exception):
    """The program broke the rule the case checks."""

    stalled = False

    def __init__(self, summary: str, *, notes: tuple[str, ...] = (), **facts):
        super().__init__(summary)
        self.observation = Observation(summary, notes=tuple(notes), stalled=self.stalled, **facts)

    @property
    def summary(self) -> str:
        return self.observation.summary

    @property
    def notes(self) -> tuple[str, ...]:
        return self.observation.notes

    def note(self, *lines: str) -> None:
        self.observation.notes += lines


class Stalled(Fail):
    """A timeout: the program neither finished nor made progress in time."""

    stalled = True


class Unsupported(Exception):
    """The case cannot apply to this program (found out only by looking at it): UNSUPPORTED."""


class Skipped(Exception):
    """What the case needs is missing here (a kernel feature, a tool): SKIPPED, with the reason."""
