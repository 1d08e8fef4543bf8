"""Raw mode: a byte pipe that reads while it writes."""

from __future__ import annotations

from conformance.cases import rules
from conformance.cases.case import MUST, Context, Fail, case
from conformance.cases.client import MIB, READ_WHILE_WRITING, exit_status, run
from conformance.cases.shim import SHIM, shim_cannot_reach, shim_env
from conformance.observation import Skipped, Unsupported


@case("client/raw/8mib", MUST, 2, rules.RAW, requires=(("client", "raw"),))
def raw_8mib(ctx: Context) -> None:
    """--raw with 8 MiB of seeded random bytes on stdin: stdout is the same 8 MiB, the server got
    them all, exit 0 once the server closed."""
    raw_copy(ctx, ctx.bulk(8 * MIB))


def raw_copy(ctx: Context, payload: bytes, env: dict[str, str] | None = None) -> None:
    with ctx.recorder() as server:
        done = run(ctx, server, payload, options=("--raw",), hint=READ_WHILE_WRITING, env=env)
        got = b"".join(server.received())
    if got != payload:
        raise Fail("the server did not receive stdin byte for byte", expected=payload, received=got,
                   exit_status=done.returncode, facts={"what": "sent"})
    if done.stdout != payload:
        raise Fail("stdout is not the echo, byte for byte", expected=payload, received=done.stdout,
                   exit_status=done.returncode, stderr=done.stderr)
    exit_status(done, 0)


@case("client/raw/short-writes", MUST, 1, rules.RAW, requires=(("client", "raw"),))
def raw_short_writes(ctx: Context) -> None:
    """--raw with 1 MiB while the socket's calls return short counts and EINTR at seeded random
    (the shim): stdout is the same 1 MiB, exit 0."""
    why = shim_cannot_reach(ctx.client)
    if why:
        raise Unsupported(why)
    if not SHIM.exists():
        raise Skipped(f"{SHIM} is missing: run make")
    raw_copy(ctx, ctx.payload(MIB), env=shim_env(ctx.seed % 1_000_000))
