"""What a client does when things go wrong: nothing listens, the server vanishes, bad arguments."""

from __future__ import annotations

from conformance.cases import rules
from conformance.cases.case import MUST, SHOULD, Context, Fail, case
from conformance.cases.client import exit_status, run, transcript
from conformance.net import unused_port
from conformance.process import Run
from conformance.cases.arguments import BAD_CLIENT_ARGS, refusal_problem


def refused(ctx: Context) -> tuple[Run, int]:
    port = unused_port() if ctx.client.takes_port else ctx.client.fixed_port
    ctx.log.note("tester", f"nothing listens on 127.0.0.1:{port}")
    return ctx.run_client(b"hello\n", port), port


@case("client/errors/refused", MUST, 1, rules.REFUSED)
def refused_status(ctx: Context) -> None:
    """Connecting to a closed port: exit status 1."""
    done, _ = refused(ctx)
    exit_status(done, 1)


@case("client/errors/refused-message", SHOULD, 0.5, rules.REFUSED)
def refused_message(ctx: Context) -> None:
    """Connecting to a closed port: exactly one stderr line, naming 127.0.0.1:<port>; no stdout."""
    done, port = refused(ctx)
    one_line_naming(done, f"127.0.0.1:{port}")
    if done.stdout:
        raise Fail("stdout is not empty: nothing was echoed, and errors go to stderr", received=done.stdout,
                   exit_status=done.returncode)


def one_line_naming(done: Run, address: str | None) -> None:
    errors = [line for line in done.stderr.decode("utf-8", errors="replace").splitlines() if line.strip()]
    problems = []
    if len(errors) != 1:
        problems.append(f"stderr has {len(errors)} lines, the contract wants exactly one")
    elif address and address not in errors[0]:
        problems.append(f"the stderr line does not name the address {address}")
    if problems:
        raise Fail("; ".join(problems), stderr=done.stderr, exit_status=done.returncode,
                   notes=(f"stdout: {done.stdout[:200]!r}",), facts={"message": True})


def vanishing(ctx: Context) -> Run:
    with ctx.recorder(vanish_after=len(b"one\n")) as server:
        return run(ctx, server, b"one\ntwo\nthree\n")


@case("client/errors/server-vanishes", MUST, 1, rules.LOST)
def server_vanishes(ctx: Context) -> None:
    """The server echoes the first line, then closes on the second: the client prints the first
    echo only and exits 1."""
    done = vanishing(ctx)
    expected = transcript([b"one"])
    if done.stdout != expected:
        raise Fail("stdout must hold the one echo that came back, and no echo for a line whose echo "
                   "never came", expected=expected, received=done.stdout, lines=True,
                   exit_status=done.returncode, stderr=done.stderr)
    exit_status(done, 1)


@case("client/errors/server-vanishes-message", SHOULD, 0.5, rules.LOST)
def server_vanishes_message(ctx: Context) -> None:
    """The server vanishes mid-session: one line on stderr says so."""
    one_line_naming(vanishing(ctx), None)


@case("client/errors/bad-arguments", MUST, 1, rules.BAD_ARGUMENTS)
def bad_arguments(ctx: Context) -> None:
    """Port 70000, port abc, an empty host, an unknown flag: each refused with a usage text on
    stderr and exit 2, nothing on stdout, no crash, no hang."""
    problems = []
    for what, host, port, options in BAD_CLIENT_ARGS:
        if options and "{options}" not in ctx.client.run:
            continue
        if what.startswith("port") and not ctx.client.takes_port:
            continue  # a program as written takes no port to get wrong
        done = ctx.run_client(b"", port, host=host, options=options)
        problem = refusal_problem(done, (2,), usage=True)
        if problem:
            problems.append(done.describe(f"given {what}: {problem}"))
    if problems:
        raise Fail(f"{len(problems)} of {len(BAD_CLIENT_ARGS)} bad command lines were not refused cleanly",
                   notes=tuple(problems), facts={"wanted_status": 2})
