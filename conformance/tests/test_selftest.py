"""The harness tested on programs whose faults are known: each broken program must be caught by
the case meant for it, and each correct but awkward program must pass everything it supports.
The programs live in programs/ and are graded through their command lines, as a student's
would be."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from conformance.adhoc import from_command
from conformance.engine import Engine, render
from conformance.outcomes import Outcome
from conformance.net.wire import Timeouts

PROGRAMS = Path(__file__).resolve().parent / "programs"
SEED = 20240601
SERVER_CAPABILITIES = ["concurrent", "half_close", "graceful_stop"]

# broken program -> the case meant to catch it
SERVERS_CAUGHT_BY = {
    "truncate-4096": "server/stream/1mib",
    "drop-tail": "server/stream/1mib",
    "close-on-newline": "server/bytes/crlf",
    "swap-case": "server/bytes/all-256",
    "reset-on-close": "server/stream/1mib",
    "one-client": "server/sequential/100-clients",
}
CLIENTS_CAUGHT_BY = {"write-all-first": "client/raw/8mib"}
AWKWARD_SERVERS = ["one-byte-segments", "late-ready"]
AWKWARD_CLIENTS = ["byte-at-a-time"]
CAUGHT = (Outcome.FAIL, Outcome.ERROR)
QUICK = Timeouts(stall=1.5)  # a broken program is caught sooner; a correct one never waits


def server(flaw: str):
    command = f"{sys.executable} -B {PROGRAMS / 'echo_server.py'} --flaw {flaw} --host {{host}} --port {{port}}"
    return from_command("server", command, SERVER_CAPABILITIES, name=f"selftest-{flaw}-server")


def client(flaw: str):
    command = f"{sys.executable} -B {PROGRAMS / 'echo_client.py'} --flaw {flaw} {{options}} {{host}} {{port}}"
    return from_command("client", command, ["raw"], name=f"selftest-{flaw}-client")


def report(results) -> str:
    return "\n\n".join(render(r) for r in results)


@pytest.mark.parametrize("flaw, case_id", SERVERS_CAUGHT_BY.items())
def test_broken_server_is_caught(tmp_path, flaw, case_id):
    (result,) = Engine(tmp_path, SEED, QUICK, patterns=[case_id]).server_suite(server(flaw))
    assert result.outcome in CAUGHT, f"{flaw} was not caught by {case_id}:\n{render(result)}"


@pytest.mark.parametrize("flaw, case_id", CLIENTS_CAUGHT_BY.items())
def test_broken_client_is_caught(tmp_path, flaw, case_id):
    (result,) = Engine(tmp_path, SEED, QUICK, patterns=[case_id]).client_suite(client(flaw))
    assert result.outcome in CAUGHT, f"{flaw} was not caught by {case_id}:\n{render(result)}"


@pytest.mark.parametrize("flaw", AWKWARD_SERVERS + ["none"])
def test_awkward_server_passes(tmp_path, flaw):
    results = Engine(tmp_path, SEED).server_suite(server(flaw))
    failed = [r for r in results if r.outcome not in (Outcome.PASS, Outcome.UNSUPPORTED)]
    assert not failed, report(failed)
    assert {r.outcome for r in results if r.case.id == "server/bye"} == {Outcome.UNSUPPORTED}


@pytest.mark.parametrize("flaw", AWKWARD_CLIENTS + ["none"])
def test_awkward_client_passes(tmp_path, flaw):
    results = Engine(tmp_path, SEED).client_suite(client(flaw))
    failed = [r for r in results if r.outcome is not Outcome.PASS]
    assert not failed, report(failed)


def test_failure_printout_teaches(tmp_path):
    """The truncating server's printout: the case and its sentence, what was sent, both lengths,
    the first missing offset, a hex window with the caret under it, the seed and a replay."""
    (result,) = Engine(tmp_path, SEED, patterns=["server/stream/1mib"],
                       replay=lambda r: f"replay {r.case.id} --seed {r.seed}").server_suite(server("truncate-4096"))
    text = render(result)
    lines = text.splitlines()
    assert lines[0] == "FAIL server/stream/1mib [MUST] selftest-truncate-4096-server"
    assert 'checks: "Half-close: when the client shuts down its sending side' in text
    assert "sent:     1048576 bytes:" in text
    assert "expected: 1048576 bytes" in text and "received: 4096 bytes" in text
    assert "the 1044480 bytes from offset 4096 (0x1000) never came" in text
    row = next(i for i, line in enumerate(lines) if "expected" in line and "00000ff0" in line)
    assert "00001000" in lines[row + 1]
    caret = lines[row + 2]
    assert caret.index("^^") == lines[row + 1].index("00001000") + len("00001000  ")
    assert f"seed:   {SEED}" in text and f"replay: replay server/stream/1mib --seed {SEED}" in text
    assert (result.logdir / "wire.log").read_text().count("[program]") > 0
