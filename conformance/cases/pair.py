"""Pair cases: a lab client against a lab server, both through their command lines."""

from __future__ import annotations

import random

from conformance.cases import rules
from conformance.cases.case import MUST, Context, Fail, case
from conformance.cases.client import exit_status, hundred_lines, sent, transcript

MIB = 1 << 20


# The client cases' 100 lines (UTF-8, NUL, invalid UTF-8, a lone CR, a 100,000-byte line), with
# a fixed seed: every pair runs the same script, whatever the run's seed.
SCRIPT = hundred_lines(random.Random("pair/line"))


@case("pair/line", MUST, 1, rules.PAIRS)
def line(ctx: Context) -> None:
    """The client, piped the pair script, prints exactly its Echoed: lines and exits 0."""
    stdin = sent(SCRIPT)
    done = ctx.run_client(stdin, ctx.port, host=ctx.host)
    if done.stdout != transcript(SCRIPT):
        raise Fail(f"{ctx.client.id} against {ctx.server.id}: stdout is not the transcript", sent=stdin,
                   expected=transcript(SCRIPT), received=done.stdout, lines=True,
                   exit_status=done.returncode, stderr=done.stderr)
    exit_status(done, 0)


@case("pair/raw", MUST, 1, rules.RAW, requires=(("client", "raw"), ("server", "half_close")))
def raw(ctx: Context) -> None:
    """--raw with 1 MiB of seeded random bytes: stdout is the same bytes, exit 0."""
    payload = ctx.payload(MIB)
    done = ctx.run_client(payload, ctx.port, host=ctx.host, options=("--raw",))
    if done.stdout != payload:
        raise Fail(f"{ctx.client.id} --raw against {ctx.server.id}: stdout is not the echo",
                   expected=payload, received=done.stdout, exit_status=done.returncode, stderr=done.stderr)
    exit_status(done, 0)
