"""Bad input to every good program, C++ and peers alike: one clear line on stderr and the
contract's exit status (2 for bad arguments, 1 for an address that cannot be used), never a
crash, a hang or a stack trace.

Deliberately bad variants are left out: ignoring errors is their lesson."""

from __future__ import annotations

import socket

import pytest

from conformance.faults.badinput import BAD_CLIENT_ARGS, BAD_SERVER_ARGS, UNRESOLVABLE, ZONED, refusal_problem
from conformance.manifest import scan
from conformance.tests import support

GOOD = [impl for impl in scan().implementations if impl.variant != "bad"]
SERVERS = [impl for impl in GOOD if impl.role == "server"]
CLIENTS = [impl for impl in GOOD if impl.role == "client"]
TIMEOUT = 15  # a JVM or an interpreter starting up, then one quick refusal


def available(impl):
    if not impl.available:
        pytest.skip(impl.reason)
    return impl


def run(impl, host, port, options=(), stdin=b"") -> support.ClientResult:
    return support.run_client(available(impl), host, port, stdin, options=options, timeout=TIMEOUT)


def expect_refusal(result: support.ClientResult, context: str, statuses: tuple[int, ...],
                   naming: str | None = None, usage: bool = False) -> None:
    """No crash; nothing on stdout; exit with one of `statuses`; stderr explains: a usage text
    (`usage`), or exactly one line that names `naming`."""
    problem = refusal_problem(result, statuses, naming, usage)
    if problem:
        pytest.fail(result.describe(f"{context}: {problem}"), pytrace=False)


@pytest.mark.parametrize("impl", SERVERS, ids=lambda impl: impl.id)
@pytest.mark.parametrize("what,host,port,options", BAD_SERVER_ARGS,
                         ids=[case[0] for case in BAD_SERVER_ARGS])
def test_server_bad_arguments(impl, what, host, port, options):
    """Bad arguments: a usage text on stderr, nothing on stdout, exit 2."""
    expect_refusal(run(impl, host, port, options), f"{impl.id} given {what}", (2,), usage=True)


@pytest.mark.parametrize("impl", SERVERS, ids=lambda impl: impl.id)
def test_server_port_in_use(impl):
    """A port already taken: one stderr line naming the address and the reason, exit 1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run(impl, "127.0.0.1", port)
    expect_refusal(result, f"{impl.id} asked to listen on the taken port 127.0.0.1:{port}", (1,),
                   naming=f"127.0.0.1:{port}")


@pytest.mark.parametrize("impl", CLIENTS, ids=lambda impl: impl.id)
@pytest.mark.parametrize("what,host,port,options", BAD_CLIENT_ARGS,
                         ids=[case[0] for case in BAD_CLIENT_ARGS])
def test_client_bad_arguments(impl, what, host, port, options):
    """Bad arguments: a usage text on stderr, nothing on stdout, exit 2."""
    result = run(impl, host, port, options, stdin=b"hello\n")
    expect_refusal(result, f"{impl.id} given {what}", (2,), usage=True)


@pytest.mark.parametrize("impl", CLIENTS, ids=lambda impl: impl.id)
def test_client_unknown_host(impl):
    """A name that does not resolve: one stderr line naming it, exit 1."""
    host = UNRESOLVABLE
    result = run(impl, host, 2000, stdin=b"hello\n")
    expect_refusal(result, f"{impl.id} connecting to {host}", (1,), naming=host)


@pytest.mark.parametrize("impl", SERVERS + CLIENTS, ids=lambda impl: impl.id)
def test_ipv6_literal_with_a_zone(impl):
    """An IPv6 literal with a zone that names no interface: one stderr line naming the address,
    exit 1 or 2, never a crash or a hang."""
    result = run(impl, ZONED, 0 if impl.role == "server" else 2000, stdin=b"hello\n")
    expect_refusal(result, f"{impl.id} given {ZONED}", (1, 2), naming="fe80::1")
