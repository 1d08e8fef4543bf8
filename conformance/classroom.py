"""A class at a glance: `python3 -m conformance class RESULTS...` reads the results.json files
that `grade --results-json` (or the Gradescope kit) wrote, one per student, and shows students x
cases, the score distribution, and the class's failures grouped by signature:

    drops the tail after half-close (2 students: cy, ed)
        [drops-tail] server/bytes/single, server/stream/1mib, ...

A signature is a stable id for *how* a case failed, derived from the verdict the harness already
wrote (the case, the outcome, the summary line and explain.py's byte comparison). The Gradescope
writer stores it in each test's extra_data and report.json beside each result, so the summary
reads ids and never a printout meant for students.
"""

from __future__ import annotations

import json
import re
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path

from conformance.outcomes import Outcome

# id -> what it means, as an instructor would say it (lab-guides/instructor.md explains each).
SIGNATURES = {
    "no-ready-line": "never announces `listening on HOST:PORT` (or exits at start)",
    "server-exits": "a client's session ends the whole server",
    "rst-instead-of-fin": "closes with RST instead of FIN",
    "waits-for-newline": "echoes only after a newline",
    "drops-tail": "drops the tail after half-close",
    "stops-echoing": "stops echoing partway (holds bytes back, or stops after a fixed amount)",
    "changes-line-ends": "rewrites line ends",
    "decodes-text": "decodes the bytes as text (non-ASCII bytes change)",
    "changes-bytes": "changes the bytes it echoes",
    "extra-bytes": "sends bytes nobody sent (a banner, a prompt, an added newline)",
    "no-fin": "never closes after the client's half-close",
    "not-concurrent": "serves one client at a time",
    "not-dual-stack": "not reachable over both IPv4 and IPv6 on ::",
    "stdout-noise": "prints more than the readiness line on stdout",
    "bad-sigterm": "does not exit 0 on SIGTERM",
    "refused-exit-0": "exits 0 on refused connection",
    "wrong-exit-status": "wrong exit status",
    "error-message": "error message is not one stderr line naming the address",
    "wrong-transcript": "prints a wrong transcript",
    "sends-wrong-bytes": "sends the server something other than the lines",
    "bye-not-honoured": "does not end the session on BYE",
    "raw-deadlock": "--raw writes everything before reading (deadlocks)",
    "raw-broken": "--raw does not copy the bytes both ways",
    "hangs": "hangs",
    "harness-error": "the harness could not run the case",
    "not-graded": "could not be graded (no echo-lab.json, a rejected manifest, a failed build)",
}
ROW = re.compile(r"^\s*([0-9a-f]{8})  ((?:[0-9a-f]{2} )*[0-9a-f]{2})")  # a hex dump row of explain.window
TAIL = 4096  # missing at most this much at the end, then FIN: the tail was dropped
NUMBER = re.compile(r"(\d+) bytes")
OFFSET = re.compile(r"offset (\d+) \(0x[0-9a-f]+\)(?:: expected 0x([0-9a-f]{2}), received 0x([0-9a-f]{2}))?")


# --- one failure's signature ---------------------------------------------------------------

def signature(case_id: str, outcome: str, summary: str, details: list[str]) -> str | None:
    """The signature id of a result (None for one that passed or was not graded)."""
    if outcome not in (Outcome.FAIL.value, Outcome.NON_STRICT.value, Outcome.ERROR.value):
        return None
    text = "\n".join([summary, *details])
    stalled = outcome == Outcome.ERROR.value
    if "the harness failed" in summary or "the harness could not" in summary:
        return "harness-error"
    if case_id == "server/launch/ready" or "the server did not start" in summary:
        return "no-ready-line"
    if "the server exited (status" in text and case_id.startswith("server/"):
        return "server-exits"
    if "(RST)" in summary:
        return "rst-instead-of-fin"
    if case_id.startswith("server/"):
        return _server_signature(case_id, summary, details, stalled)
    if case_id.startswith(("client/", "pair/")):
        return _client_signature(case_id, summary, details, stalled)
    return f"case:{case_id}"  # a case these rules do not know (a fault case): grouped by its id


def _server_signature(case_id: str, summary: str, details: list[str], stalled: bool) -> str:
    if case_id == "server/launch/stdout":
        return "stdout-noise"
    if case_id == "server/launch/sigterm":
        return "bad-sigterm"
    if case_id.startswith("server/dual-stack/") and "cannot connect" in summary:
        return "not-dual-stack"
    if case_id.startswith("server/concurrent/") and stalled and not summary.startswith("client 1:"):
        return "not-concurrent"  # the first client was served; a later one waited
    if "should have closed" in summary or "unexpected extra bytes" in "\n".join(details):
        return "extra-bytes"
    if stalled and "to close the connection" in summary:
        return "no-fin"
    compared = _comparison(details)
    if compared:
        expected, received, offset, wanted, got = compared
        if got is not None:  # a byte differs
            if {wanted, got} & {0x0D, 0x0A}:
                return "changes-line-ends"
            if wanted >= 0x80 or got in (0x3F, 0xEF, 0xBD, 0xBF):
                return "decodes-text"
            return "changes-bytes"
        if received < expected:  # a prefix came back, then FIN or silence
            if received and _stopped_at_line_end(details, offset):
                return "waits-for-newline"
            if not stalled and expected - received <= TAIL:
                return "drops-tail"
            return "stops-echoing"
    return "hangs" if stalled else "changes-bytes"


def _client_signature(case_id: str, summary: str, details: list[str], stalled: bool) -> str:
    if case_id.startswith("client/raw/"):
        return "raw-deadlock" if stalled else "raw-broken"
    if stalled:
        return "hangs"
    if case_id.endswith("-message"):
        return "error-message"
    status = re.match(r"exit status (-?\d+), the contract wants (\d+)", summary)
    if status:
        return "refused-exit-0" if case_id == "client/errors/refused" and status.group(1) == "0" \
            else "wrong-exit-status"
    if case_id.startswith("client/bye/"):
        return "bye-not-honoured"
    if "did not receive" in summary:
        return "sends-wrong-bytes"
    return "wrong-transcript"


def _comparison(details: list[str]) -> tuple[int, int, int, int | None, int | None] | None:
    """From explain.compare's lines: expected and received lengths, the first differing offset,
    and the two bytes there when one differs (None, None when one side is a prefix)."""
    lengths = {}
    for line in details:
        for side in ("expected", "received"):
            if line.startswith(f"{side}: ") and line.endswith(" bytes") and side not in lengths:
                found = NUMBER.search(line)
                if found:
                    lengths[side] = int(found.group(1))
    where = next((OFFSET.search(line) for line in details if "offset" in line and OFFSET.search(line)), None)
    if len(lengths) < 2 or where is None:
        return None
    wanted, got = where.group(2), where.group(3)
    return (lengths["expected"], lengths["received"], int(where.group(1)),
            int(wanted, 16) if wanted else None, int(got, 16) if got else None)


def _stopped_at_line_end(details: list[str], offset: int) -> bool:
    """Whether the echo stopped right after a newline and the bytes shown after that point hold
    none: what a server that echoes whole lines only leaves."""
    shown: dict[int, int] = {}
    in_expected = False
    for line in details:
        stripped = line.strip()
        if stripped.startswith("expected  "):
            in_expected = True
        elif stripped.startswith("received  "):
            in_expected = False
        if not in_expected:
            continue
        row = ROW.match(line.replace("expected", "        ", 1))
        if row:
            start = int(row.group(1), 16)
            for i, byte in enumerate(row.group(2).split()):
                shown[start + i] = int(byte, 16)
    if not shown or offset not in shown:
        return False
    after_newline = offset == 0 or shown.get(offset - 1) == 0x0A
    rest = [b for at, b in shown.items() if at >= offset]
    return after_newline and 0x0A not in rest


# --- the class -------------------------------------------------------------------------------

@dataclass
class Student:
    name: str
    path: str
    score: float
    possible: float
    results: dict[str, str] = field(default_factory=dict)  # test name -> outcome
    signatures: dict[str, list[str]] = field(default_factory=dict)  # signature -> its tests
    note: str = ""  # what stopped the program being graded, when nothing ran


class ResultsError(Exception):
    pass


def find_results(paths: list[Path]) -> list[Path]:
    """Every results file named or found under a named directory (*.json, recursively)."""
    found = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*.json") if p.is_file())
        elif path.is_file():
            found.append(path)
        else:
            raise ResultsError(f"{path}: no such file or directory")
    return found


def load_student(path: Path) -> Student | None:
    """One student's results.json; None for a JSON file that is not one (a report.json, say)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ResultsError(f"{path}: cannot read: {e}") from None
    if not isinstance(data, dict) or not isinstance(data.get("tests", []), list) or "score" not in data:
        return None
    meta = mapping(mapping(data.get("extra_data")).get("echo_lab"))
    name = ", ".join(meta.get("students") or []) or (path.parent.name if path.stem == "results" else path.stem)
    tests = [t for t in data.get("tests", []) if isinstance(t, dict)]
    try:
        student = Student(name, str(path), float(data["score"] or 0),
                          sum(float(t.get("max_score") or 0) for t in tests), note=meta.get("problem", ""))
    except (TypeError, ValueError):
        raise ResultsError(f"{path}: a score or max_score is not a number") from None
    for test in tests:
        extra = mapping(test.get("extra_data"))
        name = extra.get("test") or str(test.get("name", "?")).split(": ", 1)[0]
        outcome = extra.get("outcome") or ("PASS" if test.get("status") == "passed" else "FAIL")
        student.results[name] = outcome
        sig = extra.get("signature") or (None if outcome == "PASS" else f"case:{name}")
        if sig:
            student.signatures.setdefault(sig, []).append(name)
    return student


def mapping(value) -> dict:
    """extra_data as written by someone else's grader may be anything: only a dict is read."""
    return value if isinstance(value, dict) else {}


def load_class(paths: list[Path]) -> list[Student]:
    students = [s for s in (load_student(p) for p in find_results(paths)) if s is not None]
    if not students:
        raise ResultsError("no results.json files among " + ", ".join(str(p) for p in paths))
    seen: dict[str, int] = {}
    for s in students:  # two files with one name: keep both, told apart
        seen[s.name] = seen.get(s.name, 0) + 1
        if seen[s.name] > 1:
            s.name = f"{s.name} ({seen[s.name]})"
    return sorted(students, key=lambda s: s.name)


def label(sig: str) -> str:
    if sig.startswith("case:"):
        return f"fails {sig[5:]}"
    return SIGNATURES.get(sig, sig)


def summary(students: list[Student]) -> dict:
    """Everything the views show, as plain data (the --json output)."""
    tests = list(dict.fromkeys(t for s in students for t in s.results))
    groups: dict[str, dict] = {}
    for s in students:
        for sig, where in s.signatures.items():
            group = groups.setdefault(sig, {"signature": sig, "label": label(sig), "students": [], "tests": []})
            group["students"].append(s.name)
            group["tests"] += [t for t in where if t not in group["tests"]]
    ordered = sorted(groups.values(), key=lambda g: (-len(g["students"]), g["signature"]))
    scores = [s.score for s in students]
    possible = max((s.possible for s in students), default=0)
    return {
        "students": [{"name": s.name, "file": s.path, "score": s.score, "possible": s.possible,
                      "results": s.results, "signatures": sorted(s.signatures), "note": s.note}
                     for s in students],
        "tests": tests,
        "distribution": {"count": len(scores), "possible": possible, "min": min(scores), "max": max(scores),
                         "mean": round(statistics.fmean(scores), 2), "median": statistics.median(scores),
                         "histogram": histogram(scores, possible)},
        "signatures": ordered,
    }


def histogram(scores: list[float], possible: float, bins: int = 5) -> list[dict]:
    """Counts of scores in equal bins of the possible points (the last bin includes full marks)."""
    if possible <= 0:
        return [{"from": 0, "to": 0, "count": len(scores)}]
    width = possible / bins
    counts = [0] * bins
    for score in scores:
        counts[min(bins - 1, max(0, int(score / width)))] += 1
    return [{"from": round(i * width, 2), "to": round((i + 1) * width, 2), "count": counts[i]} for i in range(bins)]


MARK = {"PASS": ".", "FAIL": "F", "NON-STRICT": "n", "ERROR": "E", "EXPECTED-FAIL": "x"}


def text(data: dict, markdown: bool = False) -> str:
    students, tests, dist = data["students"], data["tests"], data["distribution"]
    out = []
    head = (f"{dist['count']} student{'s' if dist['count'] != 1 else ''}; score out of {dist['possible']:g}: min {dist['min']:g}, median "
            f"{dist['median']:g}, mean {dist['mean']:g}, max {dist['max']:g}")
    bars = [f"{b['from']:>6g} - {b['to']:<6g} {'#' * b['count']} {b['count']}" for b in dist["histogram"]]
    if markdown:
        out += ["# Echo Lab: class summary", "", head, "", "```", *bars, "```", "", "## Common failures", ""]
    else:
        out += ["Echo Lab class summary", head, "", "Score distribution", *("  " + b for b in bars), "",
                "Common failures (by signature, most students first)"]
    for group in data["signatures"]:
        names = ", ".join(group["students"])
        count = len(group["students"])
        line = f"{group['label']} ({count} student{'s' if count != 1 else ''}: {names})"
        where = ", ".join(group["tests"])
        if markdown:
            out.append(f"- **{line}**  \n  `{group['signature']}` in {where}")
        else:
            out += [f"  {line}", f"      [{group['signature']}] {where}"]
    if not data["signatures"]:
        out.append("- none" if markdown else "  none: every graded case passed")
    noted = [s for s in students if s["note"]]
    if noted:
        out += ["", "## Not graded" if markdown else "Not graded"]
        out += [f"- {s['name']}: {s['note']}" if markdown else f"  {s['name']}: {s['note']}" for s in noted]
    out += ["", "## Students x cases" if markdown else "Students (rows) x cases (columns)"]
    out += [f"{'- ' if markdown else '  '}{i + 1}: {t}" for i, t in enumerate(tests)]
    if markdown:
        out += ["", "| student | score | " + " | ".join(str(i + 1) for i in range(len(tests))) + " |",
                "| --- | --- |" + " --- |" * len(tests)]
        for s in students:
            marks = " | ".join(MARK.get(s["results"].get(t, ""), " ") for t in tests)
            out.append(f"| {s['name']} | {s['score']:g}/{s['possible']:g} | {marks} |")
        out += ["", "`.` passed, `F` failed, `n` a SHOULD broken, `E` timeout or error; blank: not graded"]
    else:
        width = max([len(s["name"]) for s in students] + [7])
        numbers = [str(i + 1) for i in range(len(tests))]
        out.append("  " + "student".ljust(width) + "  score     " + " ".join(numbers))
        for s in students:
            marks = " ".join(MARK.get(s["results"].get(t, ""), " ").ljust(len(n)) for t, n in zip(tests, numbers))
            score = f"{s['score']:g}/{s['possible']:g}"
            out.append(f"  {s['name'].ljust(width)}  {score:<9} {marks}")
        out.append("  . passed   F failed   n a SHOULD broken   E timeout or error   blank: not graded")
    return "\n".join(out)


def class_command(args) -> int:
    try:
        data = summary(load_class(args.results))
    except ResultsError as e:
        print(f"python3 -m conformance class: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        print(text(data, markdown=args.markdown))
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser("class", help="a class's results.json files: students x cases, the score distribution, "
                       "failures grouped by signature")
    p.add_argument("results", nargs="+", type=Path, metavar="RESULTS",
                   help="results.json files, or directories searched for them (one per student)")
    view = p.add_mutually_exclusive_group()
    view.add_argument("--markdown", action="store_true", help="Markdown instead of terminal text")
    view.add_argument("--json", action="store_true", help="the summary as JSON")
    p.set_defaults(run=class_command)
