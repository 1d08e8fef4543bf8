"""The HTML report, written from one data model (report/model.py): the score and the diagnosis
first when a program was graded, then the pair matrix and the case grids with every mark a link
to a page for that result (its printout, its packet ladder, the wire log and each program's
output), the robustness table and the error-handling matrix when the run has them.

What a student may not see stays out: a case whose visibility is hidden is not shown, and a
case graded with `details: false` shows its verdict and sentence only (no bytes, no logs).
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from conformance.engine import Result, render
from conformance.explain import hexdump
from conformance.outcomes import Outcome, worst
from conformance.report import robustness
from conformance.report.model import Report
from conformance.report.scores import score_line, scored
from conformance.report.terminal import LEGEND, mark
from conformance.weights import Weights

STYLE = """body{font-family:sans-serif;margin:1.5em;max-width:80em}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:2px 6px;text-align:center;font-family:monospace}
th.row{text-align:left}pre{background:#f6f6f6;padding:.6em;white-space:pre-wrap;overflow-wrap:anywhere}
.PASS{background:#c8f0c8}.FAIL,.ERROR{background:#f4b4b4}.NON-STRICT{background:#f8e0a0}
.EXPECTED-FAIL{background:#dde4f8}.UNSUPPORTED,.SKIPPED{background:#eee;color:#888}a{color:inherit}
.diagnosis{border-left:4px solid #c33;padding:.3em .8em;background:#fff4f4}"""


def page(title: str, body: str) -> str:
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
            f"<style>{STYLE}</style></head><body>{body}</body></html>\n")


class Pages:
    """Which results get a page of their own, and how much of each a reader may see."""

    def __init__(self, report: Report, weights: Weights | None):
        self.report = report
        self.weights = weights
        self.names: dict[int, str] = {}

    def grading(self, result: Result):
        return self.weights.for_case(result.case) if self.weights else None

    def hidden(self, result: Result) -> bool:
        grading = self.grading(result)
        return grading is not None and grading.visibility == "hidden"

    def details(self, result: Result) -> bool:
        grading = self.grading(result)
        return grading is None or grading.details

    def link(self, result: Result, text: str | None = None) -> str:
        label = escape(text or mark(result.outcome))
        name = self.names.get(id(result))
        title = escape(f"{result.case.id} {result.subject}: {result.outcome.value}")
        return f"<a href='{name}' title='{title}'>{label}</a>" if name else f"<span title='{title}'>{label}</span>"


def matrix(report: Report, pages: Pages) -> str:
    servers, clients = report.ids("server"), report.ids("client")
    if not (servers and clients and report.pair_cases() and any(report.cell(c, s) for c in clients for s in servers)):
        return ""
    head = "".join(f"<th>{escape(s)}</th>" for s in servers)
    rows = []
    for c in clients:
        cells = []
        for s in servers:
            results = [r for r in report.cell(c, s) if not pages.hidden(r)]
            marks = "".join(pages.link(r) for r in results)
            cells.append(f"<td class='{worst(r.outcome for r in results).value}'>{marks}</td>")
        rows.append(f"<tr><th class='row'>{escape(c)}</th>{''.join(cells)}</tr>")
    names = ", ".join(escape(c.id) for c in report.pair_cases())
    return (f"<h2>Pairs</h2><p>Clients (rows) x servers (columns); each cell shows {names}.</p>"
            f"<table><tr><th></th>{head}</tr>{''.join(rows)}</table>")


def case_table(report: Report, role: str, pages: Pages) -> str:
    cases = [c for c in report.cases if c.role == role
             and any(r.case.id == c.id and not pages.hidden(r) for r in report.results)]
    ids = report.ids("server" if role == "robust" else role)
    if not cases or not ids:
        return ""
    head = "".join(f"<th title='{escape(c.id)}'>{i + 1}</th>" for i, c in enumerate(cases))
    rows = []
    for impl in ids:
        by_case = {r.case.id: r for r in report.own(impl)}
        cells = "".join(f"<td class='{by_case[c.id].outcome.value}'>{pages.link(by_case[c.id])}</td>"
                        if c.id in by_case else "<td></td>" for c in cases)
        rows.append(f"<tr><th class='row'>{escape(impl)}</th>{cells}</tr>")
    legend = "".join(f"<li>{i + 1}: <code>{escape(c.id)}</code> [{c.level}] {escape(c.summary)}</li>"
                     for i, c in enumerate(cases))
    title = {"server": "Server cases", "client": "Client cases", "robust": "Robustness cases"}[role]
    return (f"<h2>{title}</h2><table><tr><th></th>{head}</tr>{''.join(rows)}</table>"
            f"<ol style='list-style:none'>{legend}</ol>")


def grade_head(report: Report, weights: Weights) -> str:
    """For a graded program: who, the score, what was not attempted, and the diagnosis."""
    rows = [row for row in scored(report, weights) if row.grading.visibility != "hidden"]
    target = next((i for i in report.implementations if i.id == report.target), None)
    who = report.student or report.target
    parts = [f"<h1>Echo Lab: {escape(who or '')}</h1>", f"<p><b>{escape(score_line(rows, target))}</b></p>"]
    for found in report.diagnoses_of(report.target):
        marked = f" {len(found.cases)} failing case(s) follow from it." if found.cases else ""
        parts.append(f"<div class='diagnosis'><p><b>{escape(found.diagnosis.summary)}</b> "
                     f"(<code>{escape(found.id)}</code>).{escape(marked)}</p>"
                     f"<p>Write this first: {escape(found.diagnosis.fix)}.</p></div>")
    hidden = sum(1 for r in report.results if weights.for_case(r.case).visibility == "hidden")
    if hidden:
        parts.append(f"<p>{hidden} more case(s) are graded and not shown here.</p>")
    return "".join(parts)


def result_page(result: Result, pages: Pages) -> str:
    parts = [f"<h1 class='{result.outcome.value}'>{escape(result.outcome.value)} {escape(result.case.id)}</h1>",
             f"<p><b>{escape(result.subject)}</b> &middot; {result.case.level} &middot; weight "
             f"{result.case.weight:g}</p>",
             f"<blockquote>{escape(result.case.rule.sentence)}<br><i>{escape(result.case.rule.source)}</i>"
             f"</blockquote>", f"<pre>{escape(render(result, details=pages.details(result)))}</pre>"]
    if pages.details(result) and result.logdir and result.logdir.is_dir():
        ladder = result.logdir / "ladder.html"
        if ladder.is_file():
            parts.append(f"<h2>Packets</h2>{ladder.read_text(encoding='utf-8')}")
        wire = result.logdir / "wire.log"
        if wire.is_file():
            parts.append(f"<h2>Wire log</h2><pre>{escape(wire.read_text(encoding='utf-8'))}</pre>")
        for path in sorted(result.logdir.iterdir()):
            if path.suffix == ".stdout":
                parts.append(f"<h2>{escape(path.name)} ({path.stat().st_size} bytes)</h2>"
                             f"<pre>{escape(hexdump(path.read_bytes()))}</pre>")
            elif path.suffix == ".stderr":
                text = path.read_bytes().decode("utf-8", errors="replace")
                parts.append(f"<h2>{escape(path.name)} ({path.stat().st_size} bytes)</h2>"
                             f"<pre>{escape(text[-20000:]) or '(empty)'}</pre>")
            elif path.suffix == ".command":
                parts.append(f"<h2>{escape(path.name)}</h2><pre>{escape(path.read_text(encoding='utf-8'))}</pre>")
    return page(f"{result.outcome.value} {result.case.id} {result.subject}", "".join(parts) +
                "<p><a href='../report.html'>back to the report</a></p>")


def write(report: Report, path: Path, weights: Weights | None = None, robustness_table: dict | None = None,
          error_matrix: str = "") -> None:
    """Write `path`, and one page per result that ran under `path`'s sibling directory html/.
    `weights` (a grade's) limit what is shown; `error_matrix` is an HTML section to add."""
    folder = path.parent / "html"
    folder.mkdir(parents=True, exist_ok=True)
    pages = Pages(report, weights)
    for number, result in enumerate(report.results, 1):
        if result.outcome.counted and not pages.hidden(result):
            name = f"{number}.html"
            (folder / name).write_text(result_page(result, pages), encoding="utf-8")
            pages.names[id(result)] = f"html/{name}"
    counts = report.counts()
    summary = ", ".join(f"{counts[o]} {o.value}" for o in Outcome if counts[o])
    skipped = "".join(f"<li>{escape(i.id)}: {escape(i.reason or '')}</li>" for i in report.implementations
                      if not i.available)
    unexpected = "".join(f"<li>{pages.link(r, f'{r.outcome.value} {r.case.id} {r.subject}')}: "
                         f"{escape(r.summary)}</li>" for r in report.unexpected() if not pages.hidden(r))
    head = (grade_head(report, weights or Weights()) if report.target else
            f"<h1>Echo Lab conformance ({escape(report.mode)})</h1>")
    body = (head + f"<p>seed {report.seed} &middot; {report.seconds:.1f} s &middot; {escape(summary)}</p>"
            f"<p><code>{escape(report.command)}</code></p><p>{escape(LEGEND)}</p>"
            + (f"<h2>Unexpected failures</h2><ul>{unexpected}</ul>" if unexpected else "")
            + matrix(report, pages) + case_table(report, "server", pages) + case_table(report, "client", pages)
            + (robustness.html_section(robustness_table) if robustness_table else
               case_table(report, "robust", pages))
            + (f"<h2>Skipped</h2><ul>{skipped}</ul>" if skipped else "")
            + error_matrix)
    path.write_text(page("Echo Lab conformance", body), encoding="utf-8")
