"""`python3 -m conformance` as instructors and students run it: list, cases, matrix and grade,
with the files they write (Gradescope results.json, JUnit XML, HTML, report.json)."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conformance.manifest import default_root, scan

ROOT = default_root()
PROGRAMS = Path(__file__).resolve().parent / "programs"
SERVER_CAPS = "concurrent,half_close,graceful_stop"
AVAILABLE = {impl.id for impl in scan().implementations if impl.available}
TEST_KEYS = {"name", "number", "score", "max_score", "status", "output", "output_format", "tags", "visibility",
             "extra_data"}
VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}


def cli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "conformance", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


def student_server(flaw: str = "none") -> str:
    return f"{sys.executable} -B {PROGRAMS / 'echo_server.py'} --flaw {flaw} --host {{host}} --port {{port}}"


def grade(tmp_path: Path, flaw: str, *extra: str) -> tuple[subprocess.CompletedProcess, dict]:
    results = tmp_path / "results.json"
    run = cli("grade", "--server", student_server(flaw), "--capabilities", SERVER_CAPS, "--out",
              str(tmp_path / "out"), "--results-json", str(results), "--junit", str(tmp_path / "junit.xml"),
              "--html", str(tmp_path / "report.html"), *extra)
    return run, json.loads(results.read_text())


def check_gradescope(data: dict) -> None:
    """The fields and values of Gradescope's results.json specification."""
    assert set(data) <= {"score", "execution_time", "output", "output_format", "visibility",
                         "stdout_visibility", "tests", "leaderboard", "extra_data"}
    assert isinstance(data["score"], (int, float)) and isinstance(data["execution_time"], int)
    assert data["output_format"] == "text" and data["visibility"] in VISIBILITIES
    assert data["stdout_visibility"] in VISIBILITIES
    for test in data["tests"]:
        assert set(test) == TEST_KEYS
        assert test["status"] in ("passed", "failed") and test["visibility"] in VISIBILITIES
        assert isinstance(test["score"], (int, float)) and isinstance(test["max_score"], (int, float))
        assert 0 <= test["score"] <= test["max_score"] and test["output_format"] == "text"
        assert isinstance(test["name"], str) and isinstance(test["output"], str) and isinstance(test["number"], str)
    assert data["score"] == pytest.approx(sum(t["score"] for t in data["tests"]))


def test_list_json_describes_every_implementation():
    run = cli("list", "--json")
    assert run.returncode == 0, run.stderr
    entries = json.loads(run.stdout)
    assert {e["id"] for e in entries} == {i.id for i in scan().implementations}
    for entry in entries:
        assert {"id", "language", "role", "variant", "available", "reason", "run", "capabilities"} <= set(entry)
        assert entry["available"] == (entry["reason"] is None)
    julia = [e for e in entries if e["language"] == "julia"]
    if julia and not julia[0]["available"]:
        assert julia[0]["reason"] == "julia not found on PATH"


def test_cases_lists_each_sentence():
    run = cli("cases", "--json", "--cases", "server/bytes")
    cases = json.loads(run.stdout)
    assert cases and all(c["id"].startswith("server/bytes/") and c["sentence"] and c["level"] in ("MUST", "SHOULD")
                         for c in cases)


def test_grade_a_correct_server(tmp_path):
    partners = ["--partners", "python-echo-client"] if "python-echo-client" in AVAILABLE else ["--partners", "none"]
    run, data = grade(tmp_path, "none", "--cases", "server/bytes,server/stream,server/bye,pair", "--seed", "42",
                      *partners)
    assert run.returncode == 0, run.stdout + run.stderr
    check_gradescope(data)
    assert all(t["status"] == "passed" for t in data["tests"])
    assert "not attempted: bye (1 case, 1 point)" in data["output"]  # not declared: named, not graded
    suites = ET.parse(tmp_path / "junit.xml").getroot()
    assert suites.tag == "testsuites" and suites.find("testsuite").get("failures") == "0"
    assert (tmp_path / "report.html").read_text().count("html/") >= len(data["tests"])


def test_grade_a_broken_server_twice_with_one_seed(tmp_path):
    first, data1 = grade(tmp_path / "1", "swap-case", "--cases", "server/bytes", "--seed", "7")
    second, data2 = grade(tmp_path / "2", "swap-case", "--cases", "server/bytes", "--seed", "7")
    assert first.returncode == second.returncode == 1  # a MUST failed
    check_gradescope(data1)
    same = [(t["name"], t["status"], t["score"], t["output"].splitlines()[0]) for t in data1["tests"]]
    assert same == [(t["name"], t["status"], t["score"], t["output"].splitlines()[0]) for t in data2["tests"]]
    failed = [t for t in data1["tests"] if t["status"] == "failed"]
    assert failed and "first difference at offset" in failed[0]["output"]
    assert "--seed 7" in failed[0]["output"]
    junit = ET.parse(tmp_path / "1" / "junit.xml").getroot()
    assert junit.find(".//failure") is not None
    assert "seed 7" in first.stdout and "^^" in first.stdout


def test_grade_repeat_reports_the_pass_rate(tmp_path):
    run, data = grade(tmp_path, "none", "--cases", "server/bytes/single", "--repeat", "2", "--seed", "3",
                      "--partners", "none")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "passed 2/2" in run.stdout


def test_grade_rejects_a_bad_template_or_capability(tmp_path):
    run = cli("grade", "--server", "./my_server --host {host} --port {prot}", "--out", str(tmp_path))
    assert run.returncode == 2 and "unknown placeholder {prot}" in run.stderr
    run = cli("grade", "--server", student_server(), "--capabilities", "teleport", "--out", str(tmp_path))
    assert run.returncode == 2 and "unknown capability 'teleport'" in run.stderr


def test_a_narrowed_grade_says_what_it_left_out(tmp_path):
    """Without --capabilities a server is held to the whole contract; narrowed, the score line
    names what was not attempted and what it was worth."""
    whole, data = grade(tmp_path / "whole", "none", "--cases", "server/concurrent,server/bytes/single",
                        "--partners", "none")
    assert whole.returncode == 0, whole.stdout + whole.stderr
    run = cli("grade", "--server", student_server(), "--cases", "server/concurrent,server/bytes/single",
              "--partners", "none", "--out", str(tmp_path / "default"))
    assert run.returncode == 0 and "held to: concurrent, half_close, graceful_stop (the whole contract" in run.stderr
    assert "score 4 of 4 (100%)" in run.stdout
    narrowed = cli("grade", "--server", student_server(), "--capabilities", "half_close", "--cases",
                   "server/concurrent,server/bytes/single", "--partners", "none", "--out", str(tmp_path / "narrow"))
    assert "score 1 of 1 (100%); not attempted: concurrent (2 cases, 3 points)" in narrowed.stdout, narrowed.stdout


def test_what_a_student_may_not_see_stays_out_of_the_html(tmp_path):
    weights = tmp_path / "weights.json"
    weights.write_text(json.dumps({"cases": {"server/bytes/all-256": {"details": False}},
                                   "hidden": ["server/bytes/nul"]}))
    run, data = grade(tmp_path, "swap-case", "--cases", "server/bytes", "--partners", "none", "--weights",
                      str(weights), "--student", "Ana Lee")
    assert run.returncode == 1
    report = (tmp_path / "report.html").read_text()
    assert "Echo Lab: Ana Lee" in report and "score " in report and "server/bytes/nul" not in report
    pages = {p.name: p.read_text() for p in (tmp_path / "html").glob("*.html")}
    hidden_bytes = [name for name, text in pages.items() if "server/bytes/all-256" in text and "expected:" in text]
    assert not hidden_bytes, "a details: false case shows its bytes"
    assert not any("server/bytes/nul" in text for text in pages.values()), "a hidden case has a page"
    shown = next(text for text in pages.values() if "server/bytes/single" in text)
    assert "expected:" in shown and "first difference" in shown


@pytest.mark.skipif(not {"cpp-echo-server", "cpp-echo-client", "cpp-bad-echo-client"} <= AVAILABLE,
                    reason="the C++ programs are not built (run make)")
def test_matrix_of_a_few_programs(tmp_path):
    run = cli("matrix", "--only", "cpp-echo-server", "--only", "cpp-echo-client", "--only", "cpp-bad-echo-client",
              "--cases", "server/bytes/single,client/errors/refused,pair", "--seed", "11", "--out", str(tmp_path))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "seed 11" in run.stdout and "Pairs: clients (rows) x servers (columns)" in run.stdout
    report = json.loads((tmp_path / "report.json").read_text())
    cells = report["matrix"]["cells"]
    assert cells["cpp-echo-client"]["cpp-echo-server"] == {"pair/line": "PASS", "pair/raw": "PASS"}
    assert cells["cpp-bad-echo-client"]["cpp-echo-server"] == {"pair/line": "PASS", "pair/raw": "UNSUPPORTED"}
    refused = [r for r in report["results"] if r["case"] == "client/errors/refused"]
    assert {r["subject"]: r["outcome"] for r in refused} == {
        "cpp-echo-client": "PASS", "cpp-bad-echo-client": "EXPECTED-FAIL"}
    ET.parse(tmp_path / "junit.xml")
