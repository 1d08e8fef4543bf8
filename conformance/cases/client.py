"""Client cases: the tester is a recording echo server (conformance/recorder.py) on loopback,
and the client under test runs with a script on stdin."""

from __future__ import annotations

import random

from conformance.cases import rules
from conformance.cases.base import MUST, SHOULD, Context, Fail, case, stderr_text
from conformance.net import unused_port
from conformance.procs import ClientResult
from conformance.recorder import RecordingServer

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
        host: str = "127.0.0.1", hint: str | None = None) -> ClientResult:
    return ctx.run_client(stdin, server.port, host=host, options=options, progress=server.total, hint=hint)


def check_session(ctx: Context, result: ClientResult, server: RecordingServer, lines: list[bytes],
                  stdin: bytes | None = None) -> None:
    """stdout is exactly the Echoed: lines, the server received exactly the lines, exit 0."""
    stdin = sent(lines) if stdin is None else stdin
    if result.stdout != transcript(lines):
        raise Fail("stdout is not the transcript the contract asks for", sent=stdin,
                   expected=transcript(lines), received=result.stdout, lines=True)
    got = b"".join(server.received())
    if got != sent(lines):
        raise Fail("the server did not receive exactly the lines, each followed by \\n", sent=stdin,
                   expected=sent(lines), received=got, lines=True)
    exit_status(result, 0)


def exit_status(result: ClientResult, wanted: int) -> None:
    if result.returncode != wanted:
        raise Fail(f"exit status {result.returncode}, the contract wants {wanted}",
                   notes=(f"stderr: {stderr_text(result) or '(empty)'}",))


# --- line mode -------------------------------------------------------------------------------

@case("client/transcript/100-lines", MUST, 3, rules.BYTES_NOT_TEXT)
def hundred(ctx: Context) -> None:
    """100 lines on stdin (UTF-8, NUL, invalid UTF-8, a lone CR, an empty line, a 100,000-byte
    line): stdout is exactly the Echoed: lines, and the server got exactly the lines."""
    lines = hundred_lines(ctx.rng)
    with RecordingServer(log=ctx.log) as server:
        check_session(ctx, run(ctx, server, sent(lines)), server, lines)


@case("client/transcript/one-byte-segments", MUST, 2, rules.ONE_READ)
def one_byte_segments(ctx: Context) -> None:
    """The server echoes in 1-byte segments: the client still waits for each whole echo."""
    lines = [f"segment test {i}: {'x' * (i * 37)}".encode() for i in range(20)]
    with RecordingServer(segment=1, log=ctx.log) as server:
        check_session(ctx, run(ctx, server, sent(lines)), server, lines)


@case("client/transcript/last-line", MUST, 1, rules.LAST_LINE)
def last_line(ctx: Context) -> None:
    """stdin `one\\ntwo` with no final newline: two lines are sent and echoed."""
    with RecordingServer(log=ctx.log) as server:
        check_session(ctx, run(ctx, server, b"one\ntwo"), server, [b"one", b"two"], stdin=b"one\ntwo")


def bye_case(case_id: str, word: bytes) -> None:
    def check(ctx: Context) -> None:
        stdin = b"first\nsecond\n" + word + b"\nafter bye\nnever sent\n"
        with RecordingServer(log=ctx.log) as server:
            check_session(ctx, run(ctx, server, stdin), server, [b"first", b"second"], stdin=stdin)
            if not all(c.eof for c in server.connections):
                raise Fail("the connection was not closed with FIN after BYE")
    check.__doc__ = f"{word!r} ends the session: exit 0, the connection closed, nothing after it sent."
    case(case_id, MUST, 1, rules.CLIENT_BYE)(check)


bye_case("client/bye/plain", b"BYE")
bye_case("client/bye/cr", b"BYE\r")


@case("client/end-of-input", MUST, 1, rules.END_OF_INPUT)
def end_of_input(ctx: Context) -> None:
    """stdin ends without BYE: the client closes the connection and exits 0."""
    with RecordingServer(log=ctx.log) as server:
        check_session(ctx, run(ctx, server, b"the only line\n"), server, [b"the only line"])
        if not all(c.eof for c in server.connections):
            raise Fail("the connection was not closed with FIN at the end of input")


@case("client/ipv6", MUST, 1, rules.HOSTS)
def ipv6(ctx: Context) -> None:
    """HOST `::1`: the client connects over IPv6."""
    lines = [b"over IPv6", b"to ::1"]
    with RecordingServer("::1", log=ctx.log) as server:
        check_session(ctx, run(ctx, server, sent(lines), host="::1"), server, lines)


# --- errors ----------------------------------------------------------------------------------

def refused(ctx: Context) -> tuple[ClientResult, int]:
    port = unused_port()
    ctx.log.note("tester", f"nothing listens on 127.0.0.1:{port}")
    return ctx.run_client(b"hello\n", port), port


@case("client/errors/refused", MUST, 1, rules.REFUSED)
def refused_status(ctx: Context) -> None:
    """Connecting to a closed port: exit status 1."""
    result, _ = refused(ctx)
    exit_status(result, 1)


@case("client/errors/refused-message", SHOULD, 0.5, rules.REFUSED)
def refused_message(ctx: Context) -> None:
    """Connecting to a closed port: exactly one stderr line, naming 127.0.0.1:<port>; no stdout."""
    result, port = refused(ctx)
    one_line_naming(result, f"127.0.0.1:{port}")
    if result.stdout:
        raise Fail("stdout is not empty: nothing was echoed, and errors go to stderr", received=result.stdout)


def one_line_naming(result: ClientResult, address: str | None) -> None:
    errors = [line for line in result.stderr.decode("utf-8", errors="replace").splitlines() if line.strip()]
    problems = []
    if len(errors) != 1:
        problems.append(f"stderr has {len(errors)} lines, the contract wants exactly one")
    elif address and address not in errors[0]:
        problems.append(f"the stderr line does not name the address {address}")
    if problems:
        raise Fail("; ".join(problems), received=result.stderr,
                   notes=(f"stdout: {result.stdout[:200]!r}",))


def vanishing(ctx: Context) -> ClientResult:
    with RecordingServer(vanish_after=len(b"one\n"), log=ctx.log) as server:
        return run(ctx, server, b"one\ntwo\nthree\n")


@case("client/errors/server-vanishes", MUST, 1, rules.LOST)
def server_vanishes(ctx: Context) -> None:
    """The server echoes the first line, then closes on the second: the client prints the first
    echo only and exits 1."""
    result = vanishing(ctx)
    expected = transcript([b"one"])
    if result.stdout != expected:
        raise Fail("stdout must hold the one echo that came back, and no echo for a line whose echo "
                   "never came", expected=expected, received=result.stdout, lines=True)
    exit_status(result, 1)


@case("client/errors/server-vanishes-message", SHOULD, 0.5, rules.LOST)
def server_vanishes_message(ctx: Context) -> None:
    """The server vanishes mid-session: one line on stderr says so."""
    one_line_naming(vanishing(ctx), None)


# --- raw -------------------------------------------------------------------------------------

@case("client/raw/8mib", MUST, 2, rules.RAW, requires=(("client", "raw"),))
def raw_8mib(ctx: Context) -> None:
    """--raw with 8 MiB of seeded random bytes on stdin: stdout is the same 8 MiB, the server got
    them all, exit 0 once the server closed."""
    payload = ctx.payload(8 * MIB)
    with RecordingServer(log=ctx.log) as server:
        result = run(ctx, server, payload, options=("--raw",), hint=READ_WHILE_WRITING)
        got = b"".join(server.received())
    if got != payload:
        raise Fail("the server did not receive stdin byte for byte", expected=payload, received=got)
    if result.stdout != payload:
        raise Fail("stdout is not the echo, byte for byte", expected=payload, received=result.stdout)
    exit_status(result, 0)
