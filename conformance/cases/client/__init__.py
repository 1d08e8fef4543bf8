"""Client cases: the tester is a recording echo server (conformance/net/recorder.py) on
loopback, and the client under test runs with a script on stdin.

One module per group: line_mode (the transcript), bye, errors, raw.
"""

from __future__ import annotations

import random

from conformance.cases.case import Context, Fail
from conformance.net.recorder import RecordingServer
from conformance.process import Run

MIB = 1 << 20
WORDS = ("echo", "socket", "stream", "octet", "byte", "line", "buffer", "port", "peer", "close")


def sent(lines: list[bytes]) -> bytes:
    return b"".join(line + b"\n" for line in lines)


def transcript(lines: list[bytes]) -> bytes:
    """The contract's line-mode stdout: `Echoed: 'E'` and a newline for every line."""
    return b"".join(b"Echoed: '" + line + b"'\n" for line in lines)


def hundred_lines(rng: random.Random) -> list[bytes]:
    """100 lines: seeded ordinary ones with the hard cases spread among them."""
    lines = [f"line {i}: {' '.join(rng.choice(WORDS) for _ in range(rng.randint(1, 12)))}".encode()
             for i in range(100)]
    special = [
        "héllo, wörld: ünïcödé ✓ 日本語 🙂".encode(),
        b"nul\x00byte",
        bytes(97 + i % 26 for i in range(100_000)),  # abc...z repeated: order shows
        b"",
        b"a lone carriage return\r in the middle",
        b"\xff\xfe invalid utf-8 \xc3(",
        b"  leading and trailing spaces\t",
        b"bye",  # only a line equal to BYE ends the session
        b"BYE now",
        b"%s %d {} ${HOME} \\n",
    ]
    for k, line in enumerate(special):
        lines[5 + 9 * k] = line
    return lines


READ_WHILE_WRITING = ("a client must read while it writes: one that writes everything before reading "
                      "deadlocks against any back-pressured server once the data outgrows the socket buffers")


def run(ctx: Context, server: RecordingServer, stdin: bytes, options: tuple[str, ...] = (),
        host: str = "127.0.0.1", hint: str | None = None, env: dict[str, str] | None = None) -> Run:
    return ctx.run_client(stdin, server.port, host=host, options=options, progress=server.total, hint=hint,
                          env=env)


def check_session(ctx: Context, done: Run, server: RecordingServer, lines: list[bytes],
                  stdin: bytes | None = None) -> None:
    """stdout is exactly the Echoed: lines, the server received exactly the lines, exit 0."""
    stdin = sent(lines) if stdin is None else stdin
    if done.stdout != transcript(lines):
        raise Fail("stdout is not the transcript the contract asks for", sent=stdin, expected=transcript(lines),
                   received=done.stdout, lines=True, exit_status=done.returncode, stderr=done.stderr)
    got = b"".join(server.received())
    if got != sent(lines):
        raise Fail("the server did not receive exactly the lines, each followed by \\n", sent=stdin,
                   expected=sent(lines), received=got, lines=True, exit_status=done.returncode,
                   facts={"what": "sent"})
    exit_status(done, 0)


def exit_status(done: Run, wanted: int) -> None:
    if done.returncode != wanted:
        raise Fail(f"exit status {done.returncode}, the contract wants {wanted}", exit_status=done.returncode,
                   stderr=done.stderr, facts={"wanted_status": wanted})


# Importing the modules registers their cases, in this order.
from conformance.cases.client import line_mode, bye, errors, raw  # noqa: E402,F401  isort: skip
