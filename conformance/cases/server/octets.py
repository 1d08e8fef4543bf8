"""Every byte value comes back unchanged: the shared vectors (conformance/vectors.json)."""

from __future__ import annotations

from conformance.cases import rules
from conformance.cases.case import MUST, Context, case
from conformance.cases.server import serve_echo
from conformance.vectors import load_vectors

VECTORS = load_vectors()


def vector_case(case_id: str, vector: str, weight: float, rule, summary: str) -> None:
    def check(ctx: Context) -> None:
        serve_echo(ctx, VECTORS[vector])
    check.__doc__ = summary
    case(case_id, MUST, weight, rule)(check)


vector_case("server/bytes/single", "one-byte", 1, rules.ECHO, "One byte, 'A', comes back.")
vector_case("server/bytes/all-256", "all-bytes", 2, rules.OCTETS,
            "Every byte value 0x00..0xff, once, in order, comes back unchanged.")
vector_case("server/bytes/nul", "nul", 1, rules.OCTETS, "NUL bytes inside a line come back.")
vector_case("server/bytes/crlf", "crlf", 1, rules.OCTETS, "CRLF line ends come back as CRLF.")
vector_case("server/bytes/lone-cr", "lone-cr", 1, rules.OCTETS, "Carriage returns that end nothing come back.")
vector_case("server/bytes/utf-8", "utf-8", 1, rules.OCTETS, "Two-, three- and four-byte UTF-8 comes back.")
