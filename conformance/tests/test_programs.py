"""Every program, C++ and peers alike, against the launch contract, through its command line.

Servers start once per implementation (a module-scoped fixture) on their default host `::`
with `--port 0`; clients run against a small in-test echo server. Unavailable programs are
skipped with their reason; deliberately bad variants are not tested here (their failures are
the lesson, and test_pairs.py checks that their happy path works).
"""

from __future__ import annotations

import signal
import socket

import pytest

from conformance.explain import mismatch
from conformance.manifest import scan
from conformance.tests import support

SCAN = scan()
SERVERS = [impl for impl in SCAN.implementations if impl.role == "server" and impl.variant != "bad"]
CLIENTS = [impl for impl in SCAN.implementations if impl.role == "client" and impl.variant != "bad"]
VECTORS = support.load_vectors()  # shared with the C++ tests: a failure reproduces byte for byte
PAYLOAD = VECTORS["random-1mib"]
MIB = len(PAYLOAD)
ADDRESSES = ["127.0.0.1", "::1"]


def impl_id(impl) -> str:
    return impl.id


def bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host


# --- servers ---------------------------------------------------------------------------------

@pytest.fixture(scope="module", params=SERVERS, ids=impl_id)
def server(request):
    impl = request.param
    if not impl.available:
        pytest.skip(impl.reason)
    proc = support.ServerProcess(impl).start()
    yield proc
    proc.kill()


def usable(server: support.ServerProcess) -> support.ServerProcess:
    """Skip when the server never became ready (test_server_ready reports why); fail when it
    has died since (an earlier session killed it)."""
    if server.failure:
        pytest.skip(f"{server.impl.id} did not start: see test_server_ready")
    status = server.proc.poll()
    if status is not None:
        pytest.fail(server.describe(
            f"{server.impl.id} has exited (status {status}); a client's session must never end "
            f"the server"), pytrace=False)
    return server


def test_server_ready(server):
    """Prints exactly `listening on <addr>` on stdout within 10 s of starting."""
    if server.failure:
        pytest.fail(server.failure, pytrace=False)


@pytest.mark.parametrize("address", ADDRESSES)
def test_server_echoes_1mib(server, address):
    """1 MiB of random bytes, sent while reading, comes back byte-exact; after the client's
    half-close the server sends what it still owes and closes with FIN."""
    server = usable(server)
    half_close = server.impl.has("half_close")
    try:
        session = support.echo_session(address, server.port, PAYLOAD, half_close=half_close)
    except OSError as e:
        pytest.fail(server.describe(
            f"cannot connect to {bracket(address)}:{server.port}: {e} (the default host :: is dual "
            f"stack: IPv4 and IPv6 clients must both get in)"), pytrace=False)
    where = f"through {bracket(address)}:{server.port}"
    problems = []
    if session.write_error is not None:
        problems.append(f"sending the payload or the half-close failed: {session.write_error!r}")
    if session.outcome == "reset":
        problems.append(f"the server reset the connection (RST) after echoing {len(session.received)} "
                        f"bytes: it must finish the echo and close with FIN")
    elif session.outcome == "timeout":
        problems.append(f"no end of the echo within 15 s ({len(session.received)} of {MIB} bytes back)"
                        + ("; after the client's half-close the server must send the rest and close"
                           if half_close else ""))
    message = mismatch(PAYLOAD, session.received, what=f"the echo {where}")
    if message:
        problems.append(message)
    if problems:
        note = "" if half_close else " (it does not declare half_close: read back 1 MiB, no half-close)"
        pytest.fail(server.describe(f"{server.impl.id}: 1 MiB echo {where}{note}:\n"
                                    + "\n".join(problems)), pytrace=False)
    usable(server)


def test_server_echoes_vectors(server):
    """Each small shared vector (empty, one byte, all 256 byte values, NUL, CRLF, lone CR,
    UTF-8, 64 KiB + 1) comes back byte-exact on its own connection."""
    server = usable(server)
    half_close = server.impl.has("half_close")
    for name, data in VECTORS.items():
        if name == "random-1mib" or (not data and not half_close):
            continue
        try:
            session = support.echo_session("127.0.0.1", server.port, data, half_close=half_close, timeout=5)
        except OSError as e:
            pytest.fail(server.describe(f"cannot connect to 127.0.0.1:{server.port}: {e}"), pytrace=False)
        if session.outcome not in ("fin", "complete"):
            pytest.fail(server.describe(f"{server.impl.id}: vector {name!r} ({len(data)} bytes): the "
                                        f"session ended with {session.outcome}, not a FIN after the echo"),
                        pytrace=False)
        message = mismatch(data, session.received, what=f"the echo of vector {name!r}")
        if message:
            pytest.fail(server.describe(f"{server.impl.id}:\n{message}"), pytrace=False)


def test_server_concurrent(server):
    """A server declaring `concurrent` serves a second client while the first stays connected."""
    server = usable(server)
    if not server.impl.has("concurrent"):
        pytest.skip(f"{server.impl.id} does not declare concurrent")
    with socket.create_connection(("127.0.0.1", server.port), timeout=3) as first:
        assert support.exchange(first, b"first\n") == b"first\n", "the first client got no echo"
        with socket.create_connection(("::1", server.port), timeout=3) as second:
            got = support.exchange(second, b"second\n")
            if got != b"second\n":
                pytest.fail(f"{server.impl.id} declares concurrent, but a second client got "
                            f"{got!r} within 3 s while the first was still connected", pytrace=False)


def test_server_bye(server):
    """A server declaring `bye` echoes a `BYE` line, then ends the session."""
    server = usable(server)
    if not server.impl.has("bye"):
        pytest.skip(f"{server.impl.id} does not declare bye")
    with socket.create_connection(("127.0.0.1", server.port), timeout=3) as sock:
        sock.sendall(b"hello\nBYE\n")  # no half-close: the server must end the session itself
        got, closed = bytearray(), False
        try:
            while chunk := sock.recv(65536):
                got += chunk
            closed = True
        except socket.timeout:
            pass
        except ConnectionResetError:
            pytest.fail(f"{server.impl.id} reset the connection after BYE instead of closing it",
                        pytrace=False)
    support.check_bytes(b"hello\nBYE\n", bytes(got), "the echo of 'hello', 'BYE'")
    if not closed:
        pytest.fail(f"{server.impl.id} declares bye, but kept the session open 3 s after echoing BYE",
                    pytrace=False)


def test_server_stop_and_stdout(server):
    """Runs last for each server: SIGTERM exits 0 within 2 s (when it declares graceful_stop),
    and stdout held nothing but the readiness line."""
    server = usable(server)
    problems = []
    if server.impl.has("graceful_stop"):
        status = server.stop(signal.SIGTERM, timeout=2)
        if status is None:
            problems.append("it declares graceful_stop but was still running 2 s after SIGTERM")
        elif status < 0:
            problems.append(f"it declares graceful_stop but died of signal {-status} "
                            f"({signal.Signals(-status).name}) instead of exiting 0")
        elif status != 0:
            problems.append(f"it declares graceful_stop but exited with status {status} on SIGTERM, not 0")
    else:
        server.kill()
    expected = server.ready_line + b"\n"
    message = mismatch(expected, server.stdout, what="stdout", lines=True)
    if message:
        problems.append("stdout must carry only the readiness line (diagnostics go to stderr):\n" + message)
    if problems:
        pytest.fail(server.describe(f"{server.impl.id}: " + "\n".join(problems)), pytrace=False)


# --- clients ---------------------------------------------------------------------------------

def script_lines() -> list[bytes]:
    """100 lines: ordinary ones with the hard cases spread among them."""
    long_line = bytes(97 + i % 26 for i in range(100_000))  # abc...z repeated: order shows
    special = [
        "héllo, wörld: ünïcödé ✓ 日本語 🙂".encode(),
        b"nul\x00byte",
        b"a lone carriage return\r",
        b"",
        long_line,
        b"\xff\xfe invalid utf-8 \xc3(",
        b"  leading and trailing spaces  ",
        b"tab\there",
        b"it's \"quoted\" \\backslash\\ 'single'",
        b"%s %d %n {} ${HOME}",
        b"bye",  # only a line equal to BYE ends the session
        b"BYE now",
        b"\r",
        b"\x1b[31mescape\x1b[0m",
    ]
    lines = [f"line {i}: the quick brown fox jumps over the lazy dog".encode() for i in range(100)]
    for k, line in enumerate(special):
        lines[3 + 7 * k] = line
    return lines


SCRIPT_LINES = script_lines()


def sent(lines: list[bytes]) -> bytes:
    return b"".join(line + b"\n" for line in lines)


def transcript(lines: list[bytes]) -> bytes:
    """The contract's line-mode stdout: `Echoed: 'E'` and a newline for every line."""
    return b"".join(b"Echoed: '" + line + b"'\n" for line in lines)


def check_session(result: support.ClientResult, server: support.EchoServer,
                  lines: list[bytes]) -> None:
    """stdout is exactly the Echoed: lines, the server received exactly the lines, exit 0."""
    context = result.describe(f"{result.impl.id}:")
    support.check_bytes(transcript(lines), result.stdout, "stdout", context=context, lines=True)
    support.check_bytes(sent(lines), b"".join(server.received()), "what the server received",
                        context=context, lines=True)
    if result.returncode != 0:
        pytest.fail(result.describe(f"{result.impl.id} exited with status {result.returncode}, not 0"),
                    pytrace=False)


@pytest.fixture(params=CLIENTS, ids=impl_id)
def client(request):
    impl = request.param
    if not impl.available:
        pytest.skip(impl.reason)
    return impl


def test_client_transcript(client, echo_server):
    """100 lines piped on stdin (UTF-8, NUL, lone \\r, empty, 100,000 bytes): stdout is exactly
    the Echoed: lines."""
    result = support.run_client(client, "127.0.0.1", echo_server.port, sent(SCRIPT_LINES))
    check_session(result, echo_server, SCRIPT_LINES)


def test_client_last_line_without_newline(client, echo_server):
    """A last line with no \\n before end of input is still a line."""
    result = support.run_client(client, "127.0.0.1", echo_server.port, b"one\ntwo")
    check_session(result, echo_server, [b"one", b"two"])


@pytest.mark.parametrize("bye", [b"BYE", b"BYE\r"], ids=["BYE", "BYE-CR"])
def test_client_bye(client, echo_server, bye):
    """A BYE line ends the session: exit 0, BYE and the lines after it are never sent."""
    stdin = b"first\nsecond\n" + bye + b"\nafter bye\nnever sent\n"
    result = support.run_client(client, "127.0.0.1", echo_server.port, stdin)
    check_session(result, echo_server, [b"first", b"second"])


def test_client_refused(client):
    """Connection refused: exit 1 with one stderr line naming 127.0.0.1:<port>."""
    port = support.unused_port()
    result = support.run_client(client, "127.0.0.1", port, b"hello\n", timeout=10)
    errors = result.stderr.decode("utf-8", errors="replace").strip().splitlines()
    problems = []
    if result.returncode != 1:
        problems.append(f"exit status {result.returncode}, the contract wants 1")
    if len(errors) != 1:
        problems.append(f"stderr has {len(errors)} lines, the contract wants exactly one")
    elif f"127.0.0.1:{port}" not in errors[0]:
        problems.append(f"the stderr line does not name the address 127.0.0.1:{port}")
    if result.stdout:
        problems.append("stdout is not empty: nothing was echoed")
    if problems:
        pytest.fail(result.describe(f"{client.id} connecting to a closed port: " + "; ".join(problems)),
                    pytrace=False)


def test_client_ipv6(client, echo_server6):
    """HOST may be an IPv6 literal: `::1`."""
    lines = [b"over IPv6", "ünïcödé".encode(), b""]
    result = support.run_client(client, "::1", echo_server6.port, sent(lines))
    check_session(result, echo_server6, lines)


def test_client_raw(client, echo_server):
    """--raw copies 1 MiB of random bytes through and back while reading, half-closes at the
    end of stdin and exits 0 when the server has closed."""
    if not client.has("raw"):
        pytest.skip(f"{client.id} does not declare raw")
    result = support.run_client(client, "127.0.0.1", echo_server.port, PAYLOAD, options=("--raw",))
    context = result.describe(f"{client.id} --raw:")
    support.check_bytes(PAYLOAD, result.stdout, "stdout", context=context)
    support.check_bytes(PAYLOAD, b"".join(echo_server.received()), "what the server received",
                        context=context)
    if result.returncode != 0:
        pytest.fail(result.describe(f"{client.id} --raw exited with status {result.returncode}, not 0"),
                    pytrace=False)
