"""The fault cases, bounded form: every C++ server through every fault case, and the cases
themselves proved able to fail, each by a server broken in the one way it is meant to catch
(programs/fragile_server.py).

What the servers must show: cpp-async-echo-server passes every fault case; no server fails or
errs where its manifest does not say it will; every expected failure carries its reason.

The peers go through the same bounded cases in `make conformance` (python3 -m conformance
faults) and the full ones in `make faults`: with them this file would take several minutes on
two cores, as the fault cases load the machine and so run one server at a time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.adhoc import from_command
from conformance.cases import CASES, select
from conformance.engine import Engine, Result, render
from conformance.manifest import ManifestError, default_root, load_manifest, scan
from conformance.outcomes import Outcome
from conformance.report import Report, html
from conformance.report import faults as faults_report

PROGRAMS = Path(__file__).resolve().parent / "programs"
SEED = 20240601
SERVERS = [impl for impl in scan().implementations if impl.role == "server" and impl.language == "cpp"]
FAULTS = [c.id for c in select(["fault"], "fault")]
EVERY_FLAG = ["concurrent", "half_close", "graceful_stop", "idle_timeout", "max_connections", "drain"]

# flaw -> (the case meant to catch it, words its failure must say to teach the fix)
CAUGHT_BY = {
    "reset-at-end": ("fault/flood", "RST instead of FIN"),
    "unbounded-buffer": ("fault/stalled-reader", "backpressure"),
    "global-lock": ("fault/stalled-reader/others-served", "another client's round trip"),
    "one-at-a-time": ("fault/slow-loris", "serve connections concurrently"),
    "idle-ignored": ("fault/slow-loris/idle-timeout", "--idle-timeout"),
    "spin-on-emfile": ("fault/fd-exhaustion", "busy loop"),
    "pause-on-emfile": ("fault/fd-exhaustion/shed", "keep a spare descriptor"),
    "leak-on-reset": ("fault/resets", "leaked"),
    "send-once": ("fault/short-io", "loop until everything is written"),
    "idle-from-start": ("fault/slow-peer", "an idle timeout counts time with nothing moving"),
    "die-on-sigpipe": ("fault/write-and-leave", "SIGPIPE"),
    "ignore-max-connections": ("fault/max-connections", "more than 5 at once"),
    "cut-on-sigterm": ("fault/drain", "a drain lets sessions already under way finish"),
    "no-reuseaddr": ("fault/time-wait", "SO_REUSEADDR"),
    "traceback-on-bad-port": ("fault/bad-input", "it crashed instead of explaining the problem"),
}


def fragile(flaw: str):
    command = (f"{sys.executable} -B {PROGRAMS / 'fragile_server.py'} --flaw {flaw} {{options}} "
               f"--host {{host}} --port {{port}}")
    return from_command("server", command, EVERY_FLAG, name=f"fragile-{flaw}")


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "conformance", *args], cwd=default_root(), capture_output=True,
                          text=True, timeout=300)


def report(results) -> str:
    return "\n\n".join(render(r) for r in results)


@pytest.fixture(scope="module")
def bounded(tmp_path_factory) -> dict:
    """Every server through every fault case once, shared by the assertions below."""
    out = tmp_path_factory.mktemp("faults")
    return {impl.id: Engine(out, SEED, patterns=["fault"]).server_suite(impl) for impl in SERVERS}


@pytest.mark.parametrize("impl", SERVERS, ids=lambda impl: impl.id)
def test_no_unexpected_fault_failure(bounded, impl):
    results = bounded[impl.id]
    assert [r.case.id for r in results] == FAULTS
    if not impl.available:
        assert {r.outcome for r in results} == {Outcome.SKIPPED}, report(results)
        assert all(impl.reason in r.summary for r in results)
        return
    unexpected = [r for r in results if r.outcome.unexpected]
    assert not unexpected, report(unexpected)
    for r in results:
        if r.outcome is Outcome.EXPECTED_FAIL:
            assert r.expected and r.expected.split(": ", 1)[1].strip(), render(r)
        if r.outcome is Outcome.UNSUPPORTED:
            assert r.summary.strip(), render(r)


def test_the_event_loop_server_passes_every_fault(bounded):
    results = bounded["cpp-async-echo-server"]
    failed = [r for r in results if r.outcome is not Outcome.PASS]
    assert not failed, report(failed)
    assert all(r.figures for r in results), "every fault case reports what it measured"


@pytest.mark.parametrize("flaw", sorted(CAUGHT_BY))
def test_each_fault_case_catches_its_flaw(tmp_path, flaw):
    case_id, lesson = CAUGHT_BY[flaw]
    results = Engine(tmp_path, SEED, patterns=[case_id]).server_suite(fragile(flaw))
    result = next(r for r in results if r.case.id == case_id)  # a prefix also selects the cases under it
    assert result.outcome is Outcome.FAIL, f"{flaw} was not caught by {case_id}:\n{render(result)}"
    assert lesson in render(result), f"the failure does not teach '{lesson}':\n{render(result)}"


def test_a_robust_server_passes_every_fault_case(tmp_path):
    """The control: the same program without a flaw passes every fault case, so each catch above
    is the flaw's doing, not the case's."""
    results = Engine(tmp_path, SEED, patterns=["fault"]).server_suite(fragile("none"))
    failed = [r for r in results if r.outcome is not Outcome.PASS]
    assert not failed, report(failed)


def test_grade_runs_a_fault_case_on_a_students_server(tmp_path):
    """`grade --server CMD --cases fault/...`: the bounded case, its verdict, and the lesson."""
    def grade(flaw: str) -> subprocess.CompletedProcess:
        return cli("grade", "--server", fragile(flaw).run, "--capabilities", ",".join(EVERY_FLAG),
                   "--cases", "fault/slow-peer", "--seed", str(SEED), "--out", str(tmp_path / flaw))
    broken = grade("idle-from-start")
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "FAIL fault/slow-peer [MUST] your-server" in broken.stdout
    assert "an idle timeout counts time with nothing moving" in broken.stdout
    assert "replay: python3 -m conformance grade --server" in broken.stdout
    good = grade("none")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "PASS" in good.stdout and "FAIL" not in good.stdout


def test_faults_command_writes_the_table(tmp_path):
    """`faults` prints the table with its figures, writes faults.json and faults.md, and adds the
    table to an HTML report already there."""
    (tmp_path / "report.html").write_text("<html><body><h1>matrix</h1></body></html>")
    run = cli("faults", "--only", "cpp-async-echo-server", "--only", "julia-*", "--cases",
              "fault/time-wait,fault/bad-input", "--seed", str(SEED), "--out", str(tmp_path))
    out = run.stdout
    assert run.returncode == 0, out + run.stderr
    table = json.loads((tmp_path / "faults.json").read_text())
    assert table["form"] == "bounded" and table["seed"] == SEED
    assert [s["id"] for s in table["scenarios"]] == ["fault/time-wait", "fault/bad-input"]
    assert table["cells"]["fault/time-wait"]["cpp-async-echo-server"]["outcome"] == "PASS"
    julia = table["cells"]["fault/time-wait"].get("julia-echo-server")
    if julia:
        assert julia["label"] == "SKIP" and julia["summary"]
    assert "TIME_WAIT sockets" in out and "fault/bad-input" in out
    assert "| `fault/time-wait` | PASS" in (tmp_path / "faults.md").read_text()
    html = (tmp_path / "report.html").read_text()
    assert html.count("<!-- fault table -->") == 1 and "<h1>matrix</h1>" in html


def load_one(tmp_path: Path, **fields):
    """One server in a manifest of its own, with `fields` over a good iterative server's."""
    impl = {"id": "demo-echo-server", "role": "server", "variant": "iterative", "summary": "a demo",
            "run": "srv {options} --host {host} --port {port}", "capabilities": ["half_close"]} | fields
    path = tmp_path / "reference" / "demo" / "echo-lab.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"language": "demo", "implementations": [impl]}))
    return load_manifest(path, tmp_path).implementations[0]


def test_any_server_may_document_the_faults_its_design_cannot_pass(tmp_path):
    impl = load_one(tmp_path, expected_failures={"fault/slow-loris*": "One client at a time."})
    assert impl.expected_failure("fault/slow-loris/idle-timeout") == "One client at a time."
    assert impl.expected_failure("server/stream/1mib") is None


@pytest.mark.parametrize("fields, message", [
    ({"expected_failures": {"server/stream/1mib": "x"}}, "only bad variants list expected failures (a server "
                                                         "of any variant may list fault cases, fault/...)"),
    ({"role": "client", "variant": "blocking", "run": "cli {options} {host} {port}", "capabilities": [],
      "expected_failures": {"fault/flood": "x"}}, "'fault/flood': only bad variants list expected failures"),
    ({"expected_failures": {"fault/flood": " "}}, "the reason must be a non-empty string"),
    ({"capabilities": ["drain"], "run": "srv --host {host} --port {port}"},
     "missing placeholder {options} (needed to pass --drain-timeout SECONDS"),
    ({"capabilities": ["idle-timeout"]}, "unknown capability 'idle-timeout'"),
])
def test_fault_manifest_mistakes_are_named(tmp_path, fields, message):
    with pytest.raises(ManifestError) as caught:
        load_one(tmp_path, **fields)
    assert message in str(caught.value)


def test_the_html_report_shows_a_fault_table_found_beside_it(tmp_path):
    """A matrix report written where faults.json already is carries the fault table too."""
    impl = fragile("none")
    case = CASES["fault/time-wait"]
    result = Result(case, Outcome.PASS, impl.id, None, "passed",
                    figures=["bound port 1 over 1000 TIME_WAIT sockets"])
    table = faults_report.fault_table([result], [impl], [case], seed=SEED, full=False, command="faults",
                                      started="now", seconds=1.0)
    faults_report.write(table, tmp_path)
    html.write(Report("matrix", SEED, "matrix", "now", 1.0, [], []), tmp_path / "report.html")
    page = (tmp_path / "report.html").read_text()
    assert "<!-- fault table -->" in page and "bound port 1 over 1000 TIME_WAIT sockets" in page
    assert "fragile-none" in page and "<td class='PASS'" in page
