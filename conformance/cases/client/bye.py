"""BYE ends the session: the chapter's way to leave."""

from __future__ import annotations

from conformance.cases import rules
from conformance.cases.case import MUST, Context, Fail, case
from conformance.cases.client import check_session, run


def bye_case(case_id: str, word: bytes) -> None:
    def check(ctx: Context) -> None:
        stdin = b"first\nsecond\n" + word + b"\nafter bye\nnever sent\n"
        with ctx.recorder() as server:
            check_session(ctx, run(ctx, server, stdin), server, [b"first", b"second"], stdin=stdin)
            if not all(c.eof for c in server.connections):
                raise Fail("the connection was not closed with FIN after BYE", close="open")
    check.__doc__ = f"{word!r} ends the session: exit 0, the connection closed, nothing after it sent."
    case(case_id, MUST, 1, rules.CLIENT_BYE)(check)


bye_case("client/bye/plain", b"BYE")
bye_case("client/bye/cr", b"BYE\r")
