"""Shared fixtures: the in-test echo servers, a header naming what was discovered, and a
last-resort sweep so that no program a test started outlives the session."""

from __future__ import annotations

import pytest

from conformance.manifest import default_root, scan
from conformance.tests import support


def pytest_report_header(config):
    root = default_root()
    result = scan(root)
    impls = result.implementations
    lines = [f"echo-lab: {root}: {len(impls)} implementations in {len(result.manifests)} manifests"]
    lines += [f"  unavailable {impl.id}: {impl.reason}" for impl in impls if not impl.available]
    lines += [f"  INVALID {msg}" for error in result.errors for msg in error.messages]
    return lines


@pytest.fixture(scope="session", autouse=True)
def no_process_left_behind():
    yield
    support.kill_all()


@pytest.fixture
def echo_server():
    server = support.EchoServer("127.0.0.1")
    yield server
    server.close()


@pytest.fixture
def echo_server6():
    server = support.EchoServer("::1")
    yield server
    server.close()
