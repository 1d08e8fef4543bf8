"""Short counts and EINTR: every good C++ server and client stays byte-exact when send, recv, read
and write move fewer bytes than asked or fail with EINTR, at seeded random (build/lib's
LD_PRELOAD shim, cpp/tools/short_io_shim.cpp). A failure names its seed: rerun the program with
ECHO_LAB_SHIM_SEED set to it to replay the same choices."""

from __future__ import annotations

import errno
import os
import subprocess
import sys

import pytest

from conformance.manifest import default_root, scan
from conformance.tests import support

SHIM = default_root() / "build" / "lib" / "libshort_io_shim.so"
SEEDS = [1, 2, 3]
CPP = [impl for impl in scan().implementations if impl.language == "cpp" and impl.variant != "bad"]
SERVERS = [impl for impl in CPP if impl.role == "server"]
CLIENTS = [impl for impl in CPP if impl.role == "client"]
PAYLOAD = support.load_vectors()["random-1mib"]
LINES = [b"short", "h\u00e9llo w\u00f6rld".encode(), b"", bytes(range(32, 127)) * 700, b"nul\x00"]
STDIN = b"".join(line + b"\n" for line in LINES)
TRANSCRIPT = b"".join(b"Echoed: '" + line + b"'\n" for line in LINES)


@pytest.fixture
def shim(monkeypatch, request):
    """Every program started in this test runs with the shim, for the seed in the test's id."""
    if not SHIM.exists():
        pytest.fail(f"{SHIM} is missing: run make", pytrace=False)
    callspec = getattr(request.node, "callspec", None)
    seed = callspec.params.get("seed", 1) if callspec else 1
    monkeypatch.setenv("LD_PRELOAD", str(SHIM))
    monkeypatch.setenv("ECHO_LAB_SHIM_SEED", str(seed))
    monkeypatch.setenv("ECHO_LAB_SHIM_EINTR", "20")
    monkeypatch.setenv("ECHO_LAB_SHIM_SHORT", "60")
    return seed


def test_the_shim_really_interferes(shim, tmp_path):
    """The control: under the shim, libc's write to a pipe comes back short or fails with EINTR,
    so the cases below do exercise the programs' loops. (Called through ctypes: Python's own
    os.write retries EINTR by itself. The results go to a regular file, which the shim spares.)"""
    results = tmp_path / "counts"
    code = ("import ctypes, os, sys\nlibc = ctypes.CDLL(None, use_errno=True)\nr, w = os.pipe()\n"
            "counts = []\nfor _ in range(40):\n    n = libc.write(w, b'x' * 1000, 1000)\n"
            "    counts.append(n if n >= 0 else -ctypes.get_errno())\n    if n > 0:\n"
            "        os.read(r, n)\nopen(sys.argv[1], 'w').write(' '.join(map(str, counts)))\n")
    subprocess.run([sys.executable, "-c", code, str(results)], timeout=20, env=os.environ, check=True)
    counts = [int(word) for word in results.read_text().split()]
    assert any(0 < n < 1000 for n in counts), f"no short write in {counts}: is the shim loaded?"
    assert -errno.EINTR in counts, f"no EINTR in {counts}"


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("impl", SERVERS, ids=lambda impl: impl.id)
def test_server_stays_byte_exact(impl, seed, shim):
    server = support.ServerProcess(impl).start()
    try:
        if server.failure:
            pytest.fail(server.failure, pytrace=False)
        session = support.echo_session("127.0.0.1", server.port, PAYLOAD)
        context = server.describe(f"{impl.id} under the short-count shim, seed {seed}:")
        support.check_bytes(PAYLOAD, session.received, "the 1 MiB echo", context=context)
        assert session.outcome == "fin", f"{context}\nthe session ended with {session.outcome}, not FIN"
    finally:
        server.kill()


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("impl", CLIENTS, ids=lambda impl: impl.id)
def test_client_stays_byte_exact(impl, seed, shim, echo_server):
    result = support.run_client(impl, "127.0.0.1", echo_server.port, STDIN)
    context = result.describe(f"{impl.id} under the short-count shim, seed {seed}:")
    support.check_bytes(TRANSCRIPT, result.stdout, "the transcript", context=context, lines=True)
    assert result.returncode == 0, context


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("impl", CLIENTS, ids=lambda impl: impl.id)
def test_raw_client_stays_byte_exact(impl, seed, shim, echo_server):
    result = support.run_client(impl, "127.0.0.1", echo_server.port, PAYLOAD, options=("--raw",))
    context = result.describe(f"{impl.id} --raw under the short-count shim, seed {seed}:")
    support.check_bytes(PAYLOAD, result.stdout, "stdout", context=context)
    assert result.returncode == 0, context
