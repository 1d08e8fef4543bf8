"""Shared fixtures: a header naming what was discovered, and a last-resort sweep so that no
program a test started outlives the session."""

from __future__ import annotations

import pytest

from conformance import process
from conformance.manifest import default_root, scan


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
    process.kill_all()
