"""The grade a teacher would give: each server in students/, written the way students write
them, is graded with the default contract and must be caught by the case meant for it and
named by the right diagnosis; the careful one must pass every case, run after run, with one
score; and the grader's own environment must not change a grade.

Each fixture runs only the cases that matter for its mistake (the full default grade of each,
with its figures, is what `python3 -m conformance grade` prints; conformance/README.md shows
one), so the whole file stays quick."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from conformance.adhoc import CONTRACT, from_command
from conformance.cases import select
from conformance.commands.grade import grade
from conformance.diagnose import DIAGNOSES, diagnose, headline
from conformance.engine import Engine, render
from conformance.net.wire import Timeouts
from conformance.outcomes import Outcome

STUDENTS = Path(__file__).resolve().parent / "students"
SEED = 20261202

# fixture -> (the diagnosis it must get, the cases that catch it)
SERVERS = {
    "rst_close": ("rst-instead-of-fin", ["server/stream/1mib"]),
    "close_at_eof_loop": ("drops-tail", ["server/stream/tail-at-volume"]),
    "send_ignores_count": ("short-write", ["server/stream", "server/short-writes"]),
    "one_at_a_time": ("one-client-at-a-time", ["server/concurrent"]),
    "no_flush": ("ready-line-not-flushed", ["server/launch/ready"]),
    "store_and_forward": ("echoes-after-eof", ["server/echo/before-fin"]),
    "line_at_a_time": ("waits-for-newline", ["server/echo/no-newline"]),
    "fills_buffer": ("holds-bytes", ["server/echo/no-newline"]),
    "ipv6_only": ("ipv6-only", ["server/dual-stack"]),
    "ipv4_only": ("ipv4-only", ["server/dual-stack"]),
    "chatty": ("stdout-noise", ["server/bytes/single", "server/launch/stdout"]),
    "dies_on_reset": ("crashes-on-reset", ["server/reset"]),
    "text_mode": ("changes-bytes", ["server/bytes"]),
    "banner": ("extra-bytes", ["server/bytes/single"]),
    "no_echo": ("no-echo", ["server/bytes/single"]),
    "no_sigterm": ("no-sigterm", ["server/launch/sigterm"]),
    "never_closes": ("no-fin", ["server/bytes/single"]),
    "crashes_at_start": ("no-ready-line", ["server/launch/ready", "server/bytes/single"]),
    "own_ready_line": ("wrong-ready-line", ["server/launch/ready"]),
    "exits_after_one": ("server-exits", ["server/session"]),
}
CLIENTS = {"traceback_client": ("wrong-exit-status", ["client/errors/bad-arguments"])}
# Each case new to the default grade, and the fixture that must fail it.
NEW_CASES = {
    "server/echo/before-fin": "store_and_forward",
    "server/echo/no-newline": "line_at_a_time",
    "server/stream/tail-at-volume": "close_at_eof_loop",
    "server/short-writes": "send_ignores_count",
    "client/errors/bad-arguments": "traceback_client",
}


def student(name: str):
    role = "client" if name in CLIENTS or name.endswith("_client") else "server"
    words = "{host} {port}" if role == "client" else "--host {host} --port {port}"
    return from_command(role, f"{sys.executable} -B {STUDENTS / name}.py {words}", None,
                        name=name.replace("_", "-"))


def graded(name: str, cases: list[str], tmp_path: Path):
    program = student(name)
    engine = Engine(tmp_path, SEED, Timeouts(), cases)
    results = engine.server_suite(program) if program.role == "server" else engine.client_suite(program)
    return results, diagnose(results, engine.profiles.get(program.id), program, set(program.capabilities))


@pytest.mark.parametrize("name", sorted(SERVERS) + sorted(CLIENTS))
def test_a_student_program_is_named_by_its_diagnosis(name, tmp_path):
    wanted, cases = {**SERVERS, **CLIENTS}[name]
    results, found = graded(name, cases, tmp_path)
    printout = "\n".join(headline(found)) + "\n\n" + "\n\n".join(render(r) for r in results)
    assert found and found[0].id == wanted, f"{name}: wanted {wanted} first, got {[f.id for f in found]}\n{printout}"
    assert any(r.cause == wanted and r.outcome is Outcome.FAIL for r in results) or not found[0].cases, printout
    assert headline(found)[0].startswith("What is wrong, most likely:") and f"({wanted})" in headline(found)[0]


def test_every_diagnosis_of_a_server_is_reached_by_a_fixture():
    ids = list(DIAGNOSES)
    servers = set(ids[:ids.index("refused-exit-0")])
    assert servers <= {wanted for wanted, _ in SERVERS.values()}


@pytest.mark.parametrize("case_id", sorted(NEW_CASES))
def test_each_new_case_fails_for_its_fixture_and_passes_for_the_careful_one(case_id, tmp_path):
    assert select([case_id]), f"{case_id} is not a case"
    broken, _ = graded(NEW_CASES[case_id], [case_id], tmp_path / "broken")
    careful = "careful_client" if case_id.startswith("client/") else "careful_threaded"
    fine, _ = graded(careful, [case_id], tmp_path / "careful")
    verdict = {r.case.id: r.outcome for r in broken}
    assert verdict.get(case_id) is Outcome.FAIL, "\n\n".join(render(r) for r in broken)
    assert {r.case.id: r.outcome for r in fine}.get(case_id) is Outcome.PASS, "\n\n".join(render(r) for r in fine)


def test_the_default_grade_holds_a_server_to_the_whole_contract():
    assert set(student("careful_threaded").capabilities) == set(CONTRACT["server"])


def test_a_careful_server_passes_every_run_with_one_score(tmp_path):
    program = student("careful_threaded")
    report = grade(program, [], SEED, None, Timeouts(), tmp_path, repeat=5)
    failed = [r for r in report.results if r.outcome not in (Outcome.PASS, Outcome.UNSUPPORTED)]
    assert not failed, "\n\n".join(render(r) for r in failed)
    assert all(r.runs == 5 and not r.unstable for r in report.results if r.outcome is Outcome.PASS)
    assert not report.diagnoses


def test_the_graders_environment_does_not_change_a_grade(tmp_path, monkeypatch):
    """A server that never flushes its readiness line fails the same way whether or not the
    grader's shell has PYTHONUNBUFFERED set."""
    outcomes = []
    for setting in (None, "1"):
        if setting:
            monkeypatch.setenv("PYTHONUNBUFFERED", setting)
        results, found = graded("no_flush", ["server/launch/ready"], tmp_path / str(setting))
        outcomes.append(([r.outcome for r in results], [f.id for f in found]))
    assert outcomes[0] == outcomes[1] == ([Outcome.FAIL], ["ready-line-not-flushed"])
