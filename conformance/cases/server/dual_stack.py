"""Dual stack, judged once: the server on its default host :: serves IPv4 and IPv6 clients."""

from __future__ import annotations

from conformance.cases import rules
from conformance.cases.case import MUST, Context, case
from conformance.cases.server import serve_echo


@case("server/dual-stack/ipv4", MUST, 1, rules.DUAL_STACK)
def ipv4(ctx: Context) -> None:
    """An IPv4 client (127.0.0.1) of the server on its default host :: is served."""
    serve_echo(ctx, b"over IPv4\n", host="127.0.0.1")


@case("server/dual-stack/ipv6", MUST, 1, rules.DUAL_STACK)
def ipv6(ctx: Context) -> None:
    """An IPv6 client (::1) of the server on its default host :: is served."""
    serve_echo(ctx, b"over IPv6\n", host="::1")
