"""Readiness, a clean stdout, and SIGTERM: the launch contract a server is started and stopped by."""

from __future__ import annotations

import signal

from conformance.cases import rules
from conformance.cases.case import FIRST, LAST, MUST, Context, Fail, Stalled, case


@case("server/launch/ready", MUST, 1, rules.READY, stage=FIRST)
def ready(ctx: Context) -> None:
    """Within 10 s of starting (on --port 0 when its command takes {port}), the server prints
    `listening on <host>:<port>`. A program as written (no {port}) is ready once its port accepts;
    without the line it is NON-STRICT here, not failed."""
    server = ctx.process
    if server.failure:
        raise Fail(f"the server {server.failure}", stderr=server.stderr)
    if server.line_problem:
        raise Fail(f"the server is listening, but {server.line_problem}", received=server.stdout,
                   facts={"listening_without_line": server.listening_without_line, "as_written": not server.line})
    ctx.log.note("program", f"ready after {server.ready_seconds:.2f} s: {server.ready_line!r}")


@case("server/launch/stdout", MUST, 1, rules.STDOUT, stage=LAST)
def stdout_only_ready(ctx: Context) -> None:
    """After every other case, stdout held the readiness line and nothing else."""
    server = ctx.process
    expected = (server.ready_line + b"\n") if server.ready_line is not None else b""
    if server.stdout != expected:
        raise Fail("stdout holds more than the readiness line (diagnostics go to stderr)",
                   expected=expected, received=server.stdout, lines=True)


@case("server/launch/sigterm", MUST, 1, rules.STOP, requires=(("server", "graceful_stop"),), stage=LAST)
def sigterm(ctx: Context) -> None:
    """SIGTERM: the server exits 0 within 2 s."""
    status = ctx.process.stop(signal.SIGTERM, timeout=2)
    ctx.log.note("tester", f"sent SIGTERM; exit status {status}")
    if status is None:
        raise Stalled("still running 2 s after SIGTERM (killed)", waited=2.0)
    if status < 0:
        raise Fail(f"died of signal {-status} ({signal.Signals(-status).name}) instead of exiting 0",
                   exit_status=status)
    if status != 0:
        raise Fail(f"exited with status {status} on SIGTERM, not 0", exit_status=status)
