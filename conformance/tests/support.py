"""Helpers for driving lab programs from tests. The process, network and vector code lives in
the conformance package (procs, net, recorder, vectors), shared with the command line; this
module keeps the names the tests use and turns a hung client into a test failure.

Every program starts in its own session (start_new_session=True), so it and anything it spawns
share one process group that `kill_group` ends with SIGKILL, even when a test fails.
"""

from __future__ import annotations

import pytest

from conformance.explain import mismatch
from conformance.manifest import Implementation
from conformance import procs
from conformance.net import Session, echo_session, exchange, unused_port  # noqa: F401
from conformance.procs import (  # noqa: F401
    CLIENT_TIMEOUT, READY_LINE, READY_TIMEOUT, TAIL_LINES, ClientResult, Drain as _Drain, ServerProcess,
    kill_all, kill_group, shorten, spawn, tail)
from conformance.recorder import Connection, EchoServer  # noqa: F401
from conformance.vectors import MASK64, VECTORS_FILE, load_vectors, splitmix64  # noqa: F401


def run_client(impl: Implementation, host: str, port: int, stdin: bytes,
               options: tuple[str, ...] = (), timeout: float = CLIENT_TIMEOUT) -> ClientResult:
    """Run a client with `stdin` piped in; fail the test if it does not finish in time."""
    result = procs.run_client(impl, host, port, stdin, options, timeout=timeout)
    if result.timeout:
        pytest.fail(result.describe(f"{impl.id} did not finish within {timeout:.0f} s "
                                    f"(killed; a deadlock or a missed end of input?)"), pytrace=False)
    return result


def check_bytes(expected: bytes, actual: bytes, what: str, context: str = "", lines: bool = False) -> None:
    """Fail with lengths, first differing offset and a hex window when the bytes differ."""
    message = mismatch(expected, actual, what=what, lines=lines)
    if message:
        pytest.fail(message + ("\n" + context if context else ""), pytrace=False)
