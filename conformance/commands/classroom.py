"""A class at a glance: `python3 -m conformance class RESULTS...` reads the results.json files
that `grade --results-json` or `autograde` (the Gradescope and Classroom kits) wrote, one per
student, and shows students x cases, each score as a percentage of what that student could earn,
and the class's failures grouped by diagnosis:

    your server echoes only after the client's FIN (2 students: cy, ed)
        [echoes-after-eof] server/echo/before-fin, server/stream/1mib, ...

The diagnosis of each failure is read from the data the grader stored (each test's extra_data),
never from a printout meant for students. `--html DIR` writes a class page linking every
student's own report; `--csv FILE` a spreadsheet.
"""

from __future__ import annotations

import csv
import json
import os
import statistics
import sys
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from conformance.diagnose import DIAGNOSES

GRADER = {"not-graded": "could not be graded (no echo-lab.json, a rejected manifest, a failed build)",
          "harness-error": "the harness could not run the case"}


@dataclass
class Student:
    name: str
    path: str
    score: float
    possible: float
    results: dict[str, str] = field(default_factory=dict)  # test name -> outcome
    diagnoses: dict[str, list[str]] = field(default_factory=dict)  # diagnosis id -> its tests
    note: str = ""  # what stopped the program being graded, when nothing ran
    report: str | None = None  # the student's HTML report, when there is one beside the results

    @property
    def percent(self) -> float | None:
        return round(100 * self.score / self.possible, 1) if self.possible else None


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


def mapping(value) -> dict:
    """extra_data as written by someone else's grader may be anything: only a dict is read."""
    return value if isinstance(value, dict) else {}


def report_beside(path: Path) -> str | None:
    for candidate in (path.parent / "report.html", path.parent / "echo-lab" / "report.html",
                      path.with_suffix(".html")):
        if candidate.is_file():
            return str(candidate)
    return None


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
                          sum(float(t.get("max_score") or 0) for t in tests), note=meta.get("problem", ""),
                          report=str((path.parent / meta["report"]).resolve()) if meta.get("report")
                          else report_beside(path))
    except (TypeError, ValueError):
        raise ResultsError(f"{path}: a score or max_score is not a number") from None
    for test in tests:
        extra = mapping(test.get("extra_data"))
        test_name = extra.get("test") or str(test.get("name", "?")).split(": ", 1)[0]
        outcome = extra.get("outcome") or ("PASS" if test.get("status") == "passed" else "FAIL")
        student.results[test_name] = outcome
        why = extra.get("diagnosis") or (None if outcome in ("PASS", "EXPECTED-FAIL") else f"case:{test_name}")
        if why:
            student.diagnoses.setdefault(why, []).append(test_name)
    return student


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


def label(why: str) -> str:
    if why.startswith("case:"):
        return f"fails {why[5:]}"
    return DIAGNOSES[why].summary if why in DIAGNOSES else GRADER.get(why, why)


def summary(students: list[Student]) -> dict:
    """Everything the views show, as plain data (the --json output)."""
    tests = list(dict.fromkeys(t for s in students for t in s.results))
    groups: dict[str, dict] = {}
    for s in students:
        for why, where in s.diagnoses.items():
            group = groups.setdefault(why, {"diagnosis": why, "label": label(why), "students": [], "tests": []})
            group["students"].append(s.name)
            group["tests"] += [t for t in where if t not in group["tests"]]
    ordered = sorted(groups.values(), key=lambda g: (-len(g["students"]), g["diagnosis"]))
    percents = [s.percent or 0.0 for s in students]
    return {
        "students": [{"name": s.name, "file": s.path, "score": s.score, "possible": s.possible,
                      "percent": s.percent, "results": s.results, "diagnoses": sorted(s.diagnoses),
                      "note": s.note, "report": s.report} for s in students],
        "tests": tests,
        "distribution": {"count": len(percents), "min": min(percents), "max": max(percents),
                         "mean": round(statistics.fmean(percents), 1), "median": statistics.median(percents),
                         "histogram": histogram(percents)},
        "diagnoses": ordered,
    }


def histogram(percents: list[float], bins: int = 5) -> list[dict]:
    """Counts of percentages in equal bins (the last bin includes 100%)."""
    width = 100 / bins
    counts = [0] * bins
    for value in percents:
        counts[min(bins - 1, max(0, int(value / width)))] += 1
    return [{"from": round(i * width), "to": round((i + 1) * width), "count": counts[i]} for i in range(bins)]


MARK = {"PASS": ".", "FAIL": "F", "NON-STRICT": "n", "ERROR": "E", "EXPECTED-FAIL": "x"}


def score_text(s: dict) -> str:
    percent = f"{s['percent']:g}%" if s["percent"] is not None else "-"
    return f"{percent} ({s['score']:g}/{s['possible']:g})"


def text(data: dict, markdown: bool = False) -> str:
    students, tests, dist = data["students"], data["tests"], data["distribution"]
    out = []
    head = (f"{dist['count']} student{'s' if dist['count'] != 1 else ''}; scores as a percentage of what each "
            f"could earn: min {dist['min']:g}%, median {dist['median']:g}%, mean {dist['mean']:g}%, "
            f"max {dist['max']:g}%")
    bars = [f"{b['from']:>3}% - {b['to']:<4}% {'#' * b['count']} {b['count']}" for b in dist["histogram"]]
    if markdown:
        out += ["# Echo Lab: class summary", "", head, "", "```", *bars, "```", "", "## Common failures", ""]
    else:
        out += ["Echo Lab class summary", head, "", "Score distribution", *("  " + b for b in bars), "",
                "Common failures (by diagnosis, most students first)"]
    for group in data["diagnoses"]:
        names = ", ".join(group["students"])
        count = len(group["students"])
        line = f"{group['label']} ({count} student{'s' if count != 1 else ''}: {names})"
        where = ", ".join(group["tests"])
        if markdown:
            out.append(f"- **{line}**  \n  `{group['diagnosis']}` in {where}")
        else:
            out += [f"  {line}", f"      [{group['diagnosis']}] {where}"]
    if not data["diagnoses"]:
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
            out.append(f"| {s['name']} | {score_text(s)} | {marks} |")
        out += ["", "`.` passed, `F` failed, `n` a SHOULD broken, `E` the harness's error; blank: not graded"]
    else:
        width = max([len(s["name"]) for s in students] + [7])
        numbers = [str(i + 1) for i in range(len(tests))]
        out.append("  " + "student".ljust(width) + "  score            " + " ".join(numbers))
        for s in students:
            marks = " ".join(MARK.get(s["results"].get(t, ""), " ").ljust(len(n)) for t, n in zip(tests, numbers))
            out.append(f"  {s['name'].ljust(width)}  {score_text(s):<16} {marks}")
        out.append("  . passed   F failed   n a SHOULD broken   E the harness's error   blank: not graded")
    return "\n".join(out)


def write_csv(data: dict, path: Path) -> None:
    """One row per student: name, percent, score, possible, diagnoses, note, then every test."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["student", "percent", "score", "possible", "diagnoses", "not graded", *data["tests"]])
        for s in data["students"]:
            out.writerow([s["name"], s["percent"], s["score"], s["possible"], " ".join(s["diagnoses"]),
                          s["note"], *(s["results"].get(t, "") for t in data["tests"])])


def write_html(data: dict, folder: Path) -> Path:
    """The class page: the distribution, the failures by diagnosis, and a row per student linking
    to that student's own report (a student who could not be graded is listed with the reason)."""
    folder.mkdir(parents=True, exist_ok=True)
    page = folder / "class.html"
    rows = []
    for s in data["students"]:
        name = escape(s["name"])
        if s["report"]:
            name = f"<a href='{escape(os.path.relpath(s['report'], folder))}'>{name}</a>"
        marks = "".join(f"<td class='{escape(s['results'].get(t, ''))}'>{MARK.get(s['results'].get(t, ''), '')}</td>"
                        for t in data["tests"])
        why = escape(s["note"] or ", ".join(s["diagnoses"]))
        rows.append(f"<tr><th class='row'>{name}</th><td>{escape(score_text(s))}</td><td>{why}</td>{marks}</tr>")
    head = "".join(f"<th title='{escape(t)}'>{i + 1}</th>" for i, t in enumerate(data["tests"]))
    groups = "".join(f"<li><b>{escape(g['label'])}</b> (<code>{escape(g['diagnosis'])}</code>): "
                     f"{len(g['students'])} students: {escape(', '.join(g['students']))}</li>"
                     for g in data["diagnoses"]) or "<li>none: every graded case passed</li>"
    legend = "".join(f"<li>{i + 1}: <code>{escape(t)}</code></li>" for i, t in enumerate(data["tests"]))
    dist = data["distribution"]
    body = (f"<h1>Echo Lab: class summary</h1><p>{dist['count']} students; median {dist['median']:g}%, "
            f"mean {dist['mean']:g}% of what each could earn</p><h2>Common failures</h2><ul>{groups}</ul>"
            f"<h2>Students</h2><table><tr><th>student</th><th>score</th><th>diagnoses</th>{head}</tr>"
            f"{''.join(rows)}</table><ol style='list-style:none'>{legend}</ol>")
    from conformance.report.html import page as html_page  # the report's own page frame and style
    page.write_text(html_page("Echo Lab: class summary", body), encoding="utf-8")
    return page


def class_command(args) -> int:
    try:
        data = summary(load_class(args.results))
    except ResultsError as e:
        print(f"python3 -m conformance class: {e}", file=sys.stderr)
        return 2
    if args.csv:
        write_csv(data, args.csv)
    if args.html:
        print(f"class page: {write_html(data, args.html)}", file=sys.stderr)
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        print(text(data, markdown=args.markdown))
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser("class", help="a class's results.json files: students x cases, scores as percentages, "
                       "failures grouped by diagnosis")
    p.add_argument("results", nargs="+", type=Path, metavar="RESULTS",
                   help="results.json files, or directories searched for them (one per student)")
    view = p.add_mutually_exclusive_group()
    view.add_argument("--markdown", action="store_true", help="Markdown instead of terminal text")
    view.add_argument("--json", action="store_true", help="the summary as JSON")
    p.add_argument("--csv", type=Path, metavar="FILE", help="also write one row per student as CSV")
    p.add_argument("--html", type=Path, metavar="DIR", help="also write DIR/class.html, linking every "
                   "student's report")
    p.set_defaults(run=class_command)
