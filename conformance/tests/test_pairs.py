"""Every client against every server, through their command lines: the same line script must
give the same transcript whichever language wrote either end.

The script is the lab's happy path: 100 lines with UTF-8, NUL, tabs, an empty line and one
100,000-byte line, none ending in a carriage return. The C++ bad variants take part, since their
happy path must work (their flaws are in error handling and in line ends); the Java bad variants
decode bytes in the platform charset, so the conformance matrix grades them with their documented
flaws instead.
"""

from __future__ import annotations

import pytest

from conformance.manifest import scan
from conformance.tests import support

SCAN = scan()


def takes_part(impl) -> bool:
    return impl.variant != "bad" or impl.language == "cpp"


SERVERS = [impl for impl in SCAN.implementations if impl.role == "server" and takes_part(impl)]
CLIENTS = [impl for impl in SCAN.implementations if impl.role == "client" and takes_part(impl)]


def pair_script() -> list[bytes]:
    long_line = bytes(32 + (i * 7) % 95 for i in range(100_000))  # printable, no newline
    special = {
        5: "héllo wörld ✓ 日本語 🚀".encode(),
        15: b"nul\x00inside",
        25: b"",
        35: long_line,
        45: b"\ttabs\tand  spaces  ",
        55: b"\xce\xb1\xce\xb2\xce\xb3 \xe2\x82\xac",
        65: b"BYE is only a whole line",
    }
    return [special.get(i, f"line {i} of the pair script".encode()) for i in range(100)]


SCRIPT = pair_script()
STDIN = b"".join(line + b"\n" for line in SCRIPT)
TRANSCRIPT = b"".join(b"Echoed: '" + line + b"'\n" for line in SCRIPT)


@pytest.fixture(scope="module", params=SERVERS, ids=lambda impl: impl.id)
def server(request):
    impl = request.param
    if not impl.available:
        pytest.skip(impl.reason)
    proc = support.ServerProcess(impl).start()
    if proc.failure:
        proc.kill()
        pytest.fail(proc.failure, pytrace=False)
    yield proc
    proc.kill()


@pytest.mark.parametrize("client", CLIENTS, ids=lambda impl: impl.id)
def test_pair_transcript(server, client):
    """The client's stdout is exactly the Echoed: lines of the script, and it exits 0."""
    if not client.available:
        pytest.skip(client.reason)
    if server.proc.poll() is not None:
        pytest.fail(server.describe(f"{server.impl.id} has exited (status {server.proc.returncode}) "
                                    f"during an earlier pair"), pytrace=False)
    result = support.run_client(client, "127.0.0.1", server.port, STDIN)
    context = result.describe(f"{client.id} against {server.impl.id}:")
    support.check_bytes(TRANSCRIPT, result.stdout, "stdout", context=context, lines=True)
    if result.returncode != 0:
        pytest.fail(context + f"\nexit status {result.returncode}, not 0", pytrace=False)
