"""Every program of the lab, C++ and peers alike, through the engine's conformance cases: one
test per program, every case of its role, and for a server every pair case with every good
client. One definition of "conforms", the same as `make conformance` prints: every case passes,
is unsupported (a capability the manifest does not declare), or fails as the manifest's
expected_failures says (the deliberately bad and naive variants). Unavailable programs are
skipped with their reason, never passed."""

from __future__ import annotations

import pytest

from conformance.engine import Engine, render
from conformance.manifest import scan
from conformance.outcomes import Outcome

SEED = 20261202
PROGRAMS = scan().implementations
CLIENTS = [i for i in PROGRAMS if i.role == "client" and not i.deliberate and i.available]
CONFORMS = (Outcome.PASS, Outcome.UNSUPPORTED, Outcome.EXPECTED_FAIL)


@pytest.mark.parametrize("impl", PROGRAMS, ids=lambda impl: impl.id)
def test_conforms(impl, tmp_path):
    if not impl.available:
        pytest.skip(impl.reason)
    engine = Engine(tmp_path, SEED)
    partners = CLIENTS if impl.variant != "naive" else []  # as in the matrix: naive programs pair with nobody
    results = engine.server_suite(impl, partners) if impl.role == "server" else engine.client_suite(impl)
    assert results, f"{impl.id}: no case ran"
    broken = [r for r in results if r.outcome not in CONFORMS]
    assert not broken, f"{len(broken)} of {len(results)} results of {impl.id} do not conform:\n\n" + \
        "\n\n".join(render(r) for r in broken)
