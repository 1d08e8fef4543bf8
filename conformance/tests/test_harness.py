"""The harness's own parts: the failure window, the case registry, expected failures in
manifests, the blame rule, weights files and folding repeated runs."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conformance.cases import CASES, MUST, SHOULD, select
from conformance.engine import Result
from conformance.explain import compare, window
from conformance.manifest import ManifestError, discover, scan
from conformance.observation import Observation
from conformance.outcomes import Outcome
from conformance.report import Report, junit
from conformance.commands.repeat import merge
from conformance.report.model import blame
from conformance.weights import WeightsError, load_weights


# --- the window with the caret ---------------------------------------------------------------

def caret_points_at(lines: list[str], offset: int) -> None:
    """The caret line's ^^ sits under the hex of byte `offset` in the row above it, and its ^
    under the byte's character."""
    for index, line in enumerate(lines):
        if "^^" in line:
            row = lines[index - 1]
            start = row.index(f"{offset - offset % 16:08x}") + 10
            column = offset % 16
            assert line.index("^^") == start + 3 * column, "\n".join(lines)
            assert line.rindex("^") == start + 47 + 3 + column, "\n".join(lines)


@pytest.mark.parametrize("offset", [0, 1, 15, 16, 17, 255, 4096, 70000])
def test_caret_under_the_first_difference(offset):
    expected = bytes(i % 251 for i in range(offset + 40))
    received = expected[:offset] + b"\xee" + expected[offset + 1:]
    lines = compare(expected, received)
    assert f"first difference at offset {offset} (0x{offset:x})" in "\n".join(lines)
    caret_points_at(lines, offset)


def test_caret_where_the_missing_bytes_start():
    lines = compare(b"x" * 100, b"x" * 37)
    assert "the 63 bytes from offset 37 (0x25) never came" in lines[2]
    caret_points_at(lines, 37)
    assert any("(end of data)" in line for line in lines)


def test_extra_bytes_and_lines():
    lines = compare(b"Echoed: 'a'\n", b"Echoed: 'a'\nEchoed: 'b'\n", lines=True)
    text = "\n".join(lines)
    assert "12 unexpected extra bytes from offset 12" in text
    assert "in line 2 of the expected output" in text and "received line: b\"Echoed: 'b'\\n\"" in text


def test_window_is_labelled_once():
    rows = window("received", bytes(64), 20)
    assert rows[0].startswith("  received  00000000") and rows[1].startswith("            00000010")


# --- the cases -------------------------------------------------------------------------------

def test_every_case_names_its_rule():
    for case in CASES.values():
        assert case.level in (MUST, SHOULD) and case.weight > 0
        assert case.rule.sentence and case.rule.source and case.summary, case.id
        assert case.role in ("server", "client", "pair", "robust") and case.id.count("/") >= 1


def test_the_issue_s_cases_exist():
    for case_id in ["server/bytes/single", "server/bytes/all-256", "server/bytes/nul", "server/bytes/crlf",
                    "server/bytes/lone-cr", "server/bytes/utf-8", "server/session/connect-close",
                    "server/stream/1mib", "server/writes/one-byte", "server/writes/random-chunks",
                    "server/sequential/100-clients", "server/reset/mid-stream",
                    "server/concurrent/interleaved-5", "server/concurrent/idle-client", "server/bye",
                    "server/dual-stack/ipv4", "server/dual-stack/ipv6", "client/transcript/100-lines",
                    "client/transcript/one-byte-segments", "client/bye/plain", "client/end-of-input",
                    "client/errors/refused", "client/errors/server-vanishes", "client/raw/8mib",
                    "pair/line", "pair/raw", "server/echo/before-fin", "server/echo/no-newline",
                    "server/stream/tail-at-volume", "server/short-writes", "client/short-writes",
                    "client/errors/bad-arguments"]:
        assert case_id in CASES


def test_select_by_glob_and_prefix():
    under = [c.id for c in CASES.values() if c.id.startswith("server/bytes/")]
    assert [c.id for c in select(["server/bytes"])] == under
    assert {c.id for c in select(["*/bye*"])} == {"client/bye/plain", "client/bye/cr", "server/bye"}
    assert {c.role for c in select(None, "pair")} == {"pair"}


# --- expected failures in manifests ----------------------------------------------------------

def server_entry(**overrides) -> dict:
    entry = {"id": "demo-bad-echo-server", "role": "server", "variant": "iterative", "summary": "a demo",
             "run": "sh {dir}/server.sh {options} --host {host} --port {port}", "capabilities": []}
    return entry | overrides


def write_manifest(root, where: str, impls: list[dict]) -> None:
    path = root / where / "echo-lab.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"language": "demo", "requires": ["sh"], "implementations": impls}))


def test_expected_failures_are_read(tmp_path):
    write_manifest(tmp_path, "reference/demo", [server_entry(
        variant="bad", flaws=["line based"],
        expected_failures={"server/bytes/*": "line based", "pair/line": "charset"})])
    (impl,) = discover(tmp_path)
    assert impl.expected_failure("server/bytes/single") == "line based"
    assert impl.expected_failure("pair/line") == "charset"
    assert impl.expected_failure("server/stream/1mib") is None


@pytest.mark.parametrize("override, message", [
    ({"expected_failures": {"server/x": "r"}}, "only bad and naive variants list expected failures"),
    ({"variant": "bad", "flaws": ["f"], "expected_failures": {"client/x": "r"}},
     "'client/x' is not a case-id glob starting with 'server/' or 'pair/'"),
    ({"variant": "bad", "flaws": ["f"], "expected_failures": {"server/x": ""}}, "the reason must be a non-empty"),
    ({"variant": "bad", "flaws": ["f"], "expected_failures": ["server/x"]}, "must be a non-empty object"),
])
def test_malformed_expected_failures(tmp_path, override, message):
    write_manifest(tmp_path, "reference/demo", [server_entry(**override)])
    with pytest.raises(ManifestError) as info:
        discover(tmp_path)
    assert message in str(info.value)


def test_repository_expected_failures_name_real_cases():
    """Every glob in the lab's manifests selects at least one case, so none is a typo."""
    for impl in scan().implementations:
        for pattern, reason in impl.expected_failures:
            assert select([pattern]), f"{impl.id}: {pattern!r} matches no case"
            assert (impl.deliberate or pattern.startswith("robust/")) and reason


# --- blame and repeats -----------------------------------------------------------------------

def pair_result(client: str, server: str, outcome: Outcome, case_id: str = "pair/line") -> Result:
    return Result(CASES[case_id], outcome, server, client, outcome.value)


def test_blame_falls_on_the_program_that_fails_with_everyone():
    results = [pair_result("bad-client", s, Outcome.FAIL) for s in ("s1", "s2", "s3")]
    results += [pair_result("good-client", s, Outcome.PASS) for s in ("s1", "s2", "s3")]
    results.append(pair_result("good-client", "s4", Outcome.UNSUPPORTED))
    found = blame(results)
    assert [(b.impl, b.case, b.partners) for b in found] == [("bad-client", "pair/line", 3)]


def test_no_blame_with_a_single_partner():
    assert blame([pair_result("c", "s", Outcome.FAIL)]) == []


def test_repeats_fold_into_a_pass_rate():
    runs = [[pair_result("c", "s", Outcome.PASS)], [pair_result("c", "s", Outcome.FAIL)],
            [pair_result("c", "s", Outcome.PASS)]]
    runs[1][0].seed = 8
    (merged,) = merge(runs)
    assert (merged.outcome, merged.passes, merged.runs, merged.seed) == (Outcome.FAIL, 2, 3, 8)
    assert merged.unstable and merged.verdicts == ["PASS", "FAIL", "PASS"]
    (steady,) = merge([[pair_result("c", "s", Outcome.PASS)] for _ in range(3)])
    assert not steady.unstable


# --- weights ---------------------------------------------------------------------------------

def test_weights_visibility_and_hidden(tmp_path):
    path = tmp_path / "weights.json"
    path.write_text(json.dumps({
        "capabilities": ["concurrent"],
        "cases": {"server/stream/*": {"weight": 5, "visibility": "after_due_date"},
                  "server/bytes/*": {"details": False}},
        "hidden": ["server/reset/*"]}))
    weights = load_weights(path)
    assert weights.for_case(CASES["server/stream/1mib"]).weight == 5
    assert weights.for_case(CASES["server/stream/1mib"]).visibility == "after_due_date"
    assert weights.for_case(CASES["server/bytes/nul"]).details is False
    assert weights.for_case(CASES["server/reset/mid-stream"]).visibility == "hidden"
    assert weights.for_case(CASES["server/bye"]).weight == CASES["server/bye"].weight
    assert weights.capabilities == ["concurrent"]


def test_weights_problems_are_named(tmp_path):
    path = tmp_path / "weights.json"
    path.write_text(json.dumps({"cases": {"server/*": {"weight": -1, "visibilty": "x"}}, "extra": 1,
                                "capabilities": ["teleport"]}))
    with pytest.raises(WeightsError) as info:
        load_weights(path)
    message = str(info.value)
    assert "extra: unknown field" in message and "server/*.weight: must be a number >= 0" in message
    assert "server/*.visibilty: unknown field" in message and "unknown capability 'teleport'" in message


def test_the_example_weights_file_loads():
    weights = load_weights(Path(__file__).resolve().parent.parent / "weights.example.json")
    assert weights.for_case(CASES["server/writes/random-chunks"]).visibility == "hidden"


def test_junit_stays_valid_xml_whatever_the_bytes():
    result = Result(CASES["server/bytes/nul"], Outcome.FAIL, "demo-server", None, "NUL \x00 and \x1b[31m",
                    Observation("NUL \x00 and \x1b[31m", notes=("stderr: \x00\x07\ufffe",)))
    report = Report("grade", 1, "cmd", "now", 0.1, [], [result], target="demo-server")
    text = ET.tostring(junit.tree(report).getroot(), encoding="unicode")
    failure = ET.fromstring(text).find(".//failure")
    assert "\\x00" in failure.get("message") and "\\x00\\x07" in failure.text
