"""The robustness cases, bounded form: every C++ server through every robustness case, and the
cases themselves proved able to fail, each by a server broken in the one way it is meant to
catch (programs/fragile_server.py).

What the servers must show: cpp-async-echo-server passes every robustness case; no server fails
or errs where its manifest does not say it will; every expected failure carries its reason.

The peers go through the same bounded cases in `make conformance` (python3 -m conformance
matrix) and the full ones in `make robustness`: with them this file would take several minutes on
two cores, as the robustness cases load the machine and so run one server at a time."""

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
from conformance.report import robustness

PROGRAMS = Path(__file__).resolve().parent / "programs"
SEED = 20240601
SERVERS = [impl for impl in scan().implementations if impl.role == "server" and impl.language == "cpp"]
# The cases that need the run's private network (dropped packets, a slow link) run through the
# command line, which has one; this process stays on the host's network.
NETWORK = ["robust/vanished-client", "robust/slow-link"]
ROBUST = [c.id for c in select(["robust"], "robust") if c.id not in NETWORK]
EVERY_FLAG = ["concurrent", "half_close", "graceful_stop", "idle_timeout", "max_connections", "drain"]

# flaw -> (the case meant to catch it, words its failure must say to teach the fix)
CAUGHT_BY = {
    "reset-at-end": ("robust/flood", "RST instead of FIN"),
    "unbounded-buffer": ("robust/stalled-reader", "backpressure"),
    "global-lock": ("robust/stalled-reader/others-served", "another client's round trip"),
    "one-at-a-time": ("robust/slow-loris", "serve connections concurrently"),
    "idle-ignored": ("robust/slow-loris/idle-timeout", "--idle-timeout"),
    "spin-on-emfile": ("robust/fd-exhaustion", "busy loop"),
    "pause-on-emfile": ("robust/fd-exhaustion/shed", "keep a spare descriptor"),
    "leak-on-reset": ("robust/resets", "leaked"),
    "send-once": ("server/short-writes", "loop until everything is written"),
    "idle-from-start": ("robust/slow-peer", "an idle timeout counts time with nothing moving"),
    "die-on-sigpipe": ("robust/write-and-leave", "SIGPIPE"),
    "ignore-max-connections": ("robust/max-connections", "more than 5 at once"),
    "cut-on-sigterm": ("robust/drain", "a drain lets sessions already under way finish"),
    "no-reuseaddr": ("robust/time-wait", "SO_REUSEADDR"),
    "traceback-on-bad-port": ("robust/bad-input", "it crashed instead of explaining the problem"),
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
    """Every server through every robustness case once, shared by the assertions below."""
    out = tmp_path_factory.mktemp("robust")
    return {impl.id: Engine(out, SEED, patterns=ROBUST).server_suite(impl) for impl in SERVERS}


@pytest.mark.parametrize("impl", SERVERS, ids=lambda impl: impl.id)
def test_no_unexpected_robustness_failure(bounded, impl):
    results = bounded[impl.id]
    assert [r.case.id for r in results] == ROBUST
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


def test_the_event_loop_server_passes_every_robustness_case(bounded):
    results = bounded["cpp-async-echo-server"]
    failed = [r for r in results if r.outcome is not Outcome.PASS]
    assert not failed, report(failed)
    assert all(r.figures for r in results), "every robustness case reports what it measured"


@pytest.mark.parametrize("flaw", sorted(CAUGHT_BY))
def test_each_robustness_case_catches_its_flaw(tmp_path, flaw):
    case_id, lesson = CAUGHT_BY[flaw]
    results = Engine(tmp_path, SEED, patterns=[case_id]).server_suite(fragile(flaw))
    result = next(r for r in results if r.case.id == case_id)  # a prefix also selects the cases under it
    assert result.outcome is Outcome.FAIL, f"{flaw} was not caught by {case_id}:\n{render(result)}"
    assert lesson in render(result), f"the failure does not teach '{lesson}':\n{render(result)}"


def test_a_robust_server_passes_every_robustness_case(tmp_path):
    """The control: the same program without a flaw passes every robustness case (and the short
    writes), so each catch above is the flaw's doing, not the case's."""
    results = Engine(tmp_path, SEED, patterns=ROBUST + ["server/short-writes"]).server_suite(fragile("none"))
    failed = [r for r in results if r.outcome is not Outcome.PASS]
    assert not failed, report(failed)


def test_grade_runs_a_robustness_case_on_a_students_server(tmp_path):
    """`grade --server CMD --cases robust/...`: the bounded case, its verdict, and the lesson."""
    def grade(flaw: str) -> subprocess.CompletedProcess:
        return cli("grade", "--server", fragile(flaw).run, "--capabilities", ",".join(EVERY_FLAG),
                   "--cases", "robust/slow-peer", "--seed", str(SEED), "--out", str(tmp_path / flaw))
    broken = grade("idle-from-start")
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "FAIL robust/slow-peer [MUST] your-server" in broken.stdout
    assert "an idle timeout counts time with nothing moving" in broken.stdout
    assert "replay: python3 -m conformance grade --server" in broken.stdout
    good = grade("none")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "PASS" in good.stdout and "FAIL" not in good.stdout


@pytest.mark.parametrize("flaw, case_id, lesson", [
    ("none", "robust/vanished-client", None), ("one-at-a-time", "robust/vanished-client", "a vanished peer"),
    ("none", "robust/slow-link", None), ("idle-from-start", "robust/slow-link", "a slow link is not an idle one"),
])
def test_the_network_s_own_faults_catch_their_flaw(tmp_path, flaw, case_id, lesson):
    """In the private network the command line gives a run: a client's host that vanishes, and a
    slow link (skipped with the reason where the kernel has no such network)."""
    run = cli("grade", "--server", fragile(flaw).run, "--capabilities", ",".join(EVERY_FLAG), "--cases", case_id,
              "--partners", "none", "--seed", str(SEED), "--out", str(tmp_path))
    if "SKIPPED" in run.stdout and "network" in run.stdout:
        pytest.skip(run.stdout.splitlines()[-4])
    if lesson is None:
        assert run.returncode == 0 and "PASS" in run.stdout, run.stdout + run.stderr
    else:
        assert run.returncode == 1 and f"FAIL {case_id}" in run.stdout and lesson in run.stdout, run.stdout


def test_robustness_command_writes_the_table(tmp_path):
    """`robustness` prints the table with its figures, and writes robustness.json, robustness.md
    and one HTML report holding the table."""
    run = cli("robustness", "--only", "cpp-async-echo-server", "--only", "julia-echo-server", "--cases",
              "robust/time-wait,robust/bad-input", "--seed", str(SEED), "--out", str(tmp_path))
    out = run.stdout
    assert run.returncode == 0, out + run.stderr
    table = json.loads((tmp_path / "robustness.json").read_text())
    assert table["form"] == "bounded" and table["seed"] == SEED
    assert [s["id"] for s in table["scenarios"]] == ["robust/time-wait", "robust/bad-input"]
    assert table["cells"]["robust/time-wait"]["cpp-async-echo-server"]["outcome"] == "PASS"
    julia = table["cells"]["robust/time-wait"].get("julia-echo-server")
    if julia and julia["outcome"] == "SKIPPED":
        assert julia["label"] == "SKIP" and julia["summary"]
    assert "TIME_WAIT sockets" in out and "robust/bad-input" in out
    assert "| `robust/time-wait` | PASS" in (tmp_path / "robustness.md").read_text()
    html = (tmp_path / "report.html").read_text()
    assert html.count("<h2>Robustness") == 1 and "TIME_WAIT sockets" in html


def load_one(tmp_path: Path, **fields):
    """One server in a manifest of its own, with `fields` over a good iterative server's."""
    impl = {"id": "demo-echo-server", "role": "server", "variant": "iterative", "summary": "a demo",
            "run": "srv {options} --host {host} --port {port}", "capabilities": ["half_close"]} | fields
    path = tmp_path / "reference" / "demo" / "echo-lab.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"language": "demo", "implementations": [impl]}))
    return load_manifest(path, tmp_path).implementations[0]


def test_any_server_may_document_the_faults_its_design_cannot_pass(tmp_path):
    impl = load_one(tmp_path, expected_failures={"robust/slow-loris*": "One client at a time."})
    assert impl.expected_failure("robust/slow-loris/idle-timeout") == "One client at a time."
    assert impl.expected_failure("server/stream/1mib") is None


@pytest.mark.parametrize("fields, message", [
    ({"expected_failures": {"server/stream/1mib": "x"}}, "only bad and naive variants list expected failures (a "
                                                         "server of any variant may list robustness cases, "
                                                         "robust/...)"),
    ({"role": "client", "variant": "blocking", "run": "cli {options} {host} {port}", "capabilities": [],
      "expected_failures": {"robust/flood": "x"}},
     "'robust/flood': only bad and naive variants list expected failures"),
    ({"expected_failures": {"robust/flood": " "}}, "the reason must be a non-empty string"),
    ({"capabilities": ["drain"], "run": "srv --host {host} --port {port}"},
     "missing placeholder {options} (needed to pass --drain-timeout SECONDS"),
    ({"capabilities": ["idle-timeout"]}, "unknown capability 'idle-timeout'"),
])
def test_robustness_manifest_mistakes_are_named(tmp_path, fields, message):
    with pytest.raises(ManifestError) as caught:
        load_one(tmp_path, **fields)
    assert message in str(caught.value)


def test_the_html_report_shows_the_robustness_table_it_is_given(tmp_path):
    """One writer, one data model: the robustness table is a section of the report it is given to."""
    impl = fragile("none")
    case = CASES["robust/time-wait"]
    result = Result(case, Outcome.PASS, impl.id, None, "passed",
                    figures=["bound port 1 over 1000 TIME_WAIT sockets"])
    table = robustness.robustness_table([result], [impl], [case], seed=SEED, full=False, command="robustness",
                                        started="now", seconds=1.0)
    html.write(Report("matrix", SEED, "matrix", "now", 1.0, [], []), tmp_path / "report.html",
               robustness_table=table)
    page = (tmp_path / "report.html").read_text()
    assert "<h2>Robustness" in page and "bound port 1 over 1000 TIME_WAIT sockets" in page
    assert "fragile-none" in page and "<td class='PASS'" in page
