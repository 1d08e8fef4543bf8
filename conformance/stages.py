"""The staged lab: the chapter's programs written by the student one step at a time, in the
language they are learning, each step a named set of cases with one sentence of goal.

    python3 -m conformance stages                       # the stages, in order
    python3 -m conformance new echo-server python my-server
    python3 -m conformance check echo-server my-server

Starters live in lab-guides/starters/<stage>/<language>/: the launch contract already handled,
the lesson left as TODOs, and an echo-lab.json that says how to build and run it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

STARTERS = Path("lab-guides") / "starters"
LANGUAGES = ("c", "cpp", "python", "go", "java", "rust", "node", "julia")


@dataclass(frozen=True)
class Stage:
    id: str
    role: str
    goal: str  # one sentence
    cases: tuple[str, ...]  # the case-id patterns the stage checks
    capabilities: tuple[str, ...]  # what it holds the program to (the manifest may narrow it)
    guide: str  # the lab guide that teaches it


STAGES = (
    Stage("echo-server", "server", "Echo one client at a time: accept a connection, send back every byte it sends "
          "as soon as it arrives, until it closes; then serve the next.",
          ("server/launch/ready", "server/bytes", "server/echo", "server/session", "server/sequential"), (),
          "lab-guides/02-echo-protocol.md"),
    Stage("careful-server", "server", "Every byte, whatever the network does: loop on short writes, finish the echo "
          "after the client's half-close and then close with FIN, survive a client's reset, serve IPv4 and IPv6 "
          "on ::, exit 0 on SIGTERM.",
          ("server/stream", "server/writes", "server/short-writes", "server/reset", "server/dual-stack",
           "server/launch/stdout", "server/launch/sigterm"), ("half_close", "graceful_stop"),
          "lab-guides/03-error-handling.md"),
    Stage("multi-server", "server", "Many clients at once: a thread (goroutine, task) per connection, so no client "
          "waits for another.", ("server/concurrent",), ("concurrent", "half_close", "graceful_stop"),
          "lab-guides/04-concurrency.md"),
    Stage("event-loop-server", "server", "One thread and a readiness loop (or your language's event-driven "
          "idiom), with a bounded buffer per connection and backpressure: a client that never reads, a thousand "
          "slow ones or a flood do not hold up the others or grow the server without bound.",
          ("server/concurrent", "robust/stalled-reader", "robust/slow-loris", "robust/flood"),
          ("concurrent", "half_close", "graceful_stop"), "lab-guides/05-event-loops.md"),
    Stage("line-client", "client", "The chapter's client, fixed: send each line with its newline, wait for its "
          "whole echo however the stream splits it, print Echoed: 'L'; BYE ends the session; errors are one "
          "line on stderr and exit 1.",
          ("client/transcript", "client/short-writes", "client/end-of-input", "client/ipv6", "client/bye",
           "client/errors"), (), "lab-guides/02-echo-protocol.md"),
    Stage("raw-client", "client", "--raw: copy stdin to the socket and the socket to stdout at the same time, "
          "half-close at the end of stdin, exit 0 when the server has closed.", ("client/raw",), ("raw",),
          "lab-guides/04-concurrency.md"),
)
BY_ID = {stage.id: stage for stage in STAGES}


def following(stage: Stage) -> Stage | None:
    """The next stage of the same role, if any."""
    same = [s for s in STAGES if s.role == stage.role]
    index = same.index(stage)
    return same[index + 1] if index + 1 < len(same) else None


def starter(root: Path, stage: Stage, language: str) -> Path:
    return Path(root) / STARTERS / stage.id / language
