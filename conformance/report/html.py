"""The HTML report: the pair matrix and the case grids, every mark a link to a page for that
result with its printout, the wire log and each program's output as a hex dump."""

from __future__ import annotations

from html import escape
from pathlib import Path

from conformance.engine import Result, render
from conformance.errormatrix.table import html_section as error_matrix_section
from conformance.explain import hexdump
from conformance.manifest import default_root
from conformance.outcomes import Outcome, worst
from conformance.report import faults
from conformance.report.model import Report
from conformance.report.terminal import LEGEND, mark

STYLE = """body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:2px 6px;text-align:center;font-family:monospace}
th.row{text-align:left}pre{background:#f6f6f6;padding:.6em;overflow-x:auto}
.PASS{background:#c8f0c8}.FAIL,.ERROR{background:#f4b4b4}.NON-STRICT{background:#f8e0a0}
.EXPECTED-FAIL{background:#dde4f8}.UNSUPPORTED,.SKIPPED{background:#eee;color:#888}a{color:inherit}"""


def page(title: str, body: str) -> str:
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
            f"<style>{STYLE}</style></head><body>{body}</body></html>\n")


def link(result: Result, pages: dict[int, str], text: str | None = None) -> str:
    label = escape(text or mark(result.outcome))
    name = pages.get(id(result))
    title = escape(f"{result.case.id} {result.subject}: {result.outcome.value}")
    return f"<a href='{name}' title='{title}'>{label}</a>" if name else f"<span title='{title}'>{label}</span>"


def matrix(report: Report, pages: dict[int, str]) -> str:
    servers, clients = report.ids("server"), report.ids("client")
    if not (servers and clients and report.pair_cases()):
        return ""
    head = "".join(f"<th>{escape(s)}</th>" for s in servers)
    rows = []
    for c in clients:
        cells = []
        for s in servers:
            results = report.cell(c, s)
            marks = "".join(link(r, pages) for r in results)
            cells.append(f"<td class='{worst(r.outcome for r in results).value}'>{marks}</td>")
        rows.append(f"<tr><th class='row'>{escape(c)}</th>{''.join(cells)}</tr>")
    names = ", ".join(escape(c.id) for c in report.pair_cases())
    return (f"<h2>Pairs</h2><p>Clients (rows) x servers (columns); each cell shows {names}.</p>"
            f"<table><tr><th></th>{head}</tr>{''.join(rows)}</table>")


def case_table(report: Report, role: str, pages: dict[int, str]) -> str:
    cases = [c for c in report.cases if c.role == role]
    ids = report.ids(role)
    if not cases or not ids:
        return ""
    head = "".join(f"<th title='{escape(c.id)}'>{i + 1}</th>" for i, c in enumerate(cases))
    rows = []
    for impl in ids:
        by_case = {r.case.id: r for r in report.own(impl)}
        cells = "".join(f"<td class='{by_case[c.id].outcome.value}'>{link(by_case[c.id], pages)}</td>"
                        if c.id in by_case else "<td></td>" for c in cases)
        rows.append(f"<tr><th class='row'>{escape(impl)}</th>{cells}</tr>")
    legend = "".join(f"<li>{i + 1}: <code>{escape(c.id)}</code> [{c.level}] {escape(c.summary)}</li>"
                     for i, c in enumerate(cases))
    return (f"<h2>{role.capitalize()} cases</h2><table><tr><th></th>{head}</tr>{''.join(rows)}</table>"
            f"<ol style='list-style:none'>{legend}</ol>")


def result_page(result: Result) -> str:
    parts = [f"<h1 class='{result.outcome.value}'>{escape(result.outcome.value)} {escape(result.case.id)}</h1>",
             f"<p><b>{escape(result.subject)}</b> &middot; {result.case.level} &middot; weight "
             f"{result.case.weight:g}</p>",
             f"<blockquote>{escape(result.case.rule.sentence)}<br><i>{escape(result.case.rule.source)}</i>"
             f"</blockquote>", f"<pre>{escape(render(result))}</pre>"]
    if result.logdir and result.logdir.is_dir():
        wire = result.logdir / "wire.log"
        if wire.is_file():
            parts.append(f"<h2>Wire log</h2><pre>{escape(wire.read_text(encoding='utf-8'))}</pre>")
        for path in sorted(result.logdir.iterdir()):
            if path.suffix in (".stdout", ".stderr"):
                parts.append(f"<h2>{escape(path.name)} ({path.stat().st_size} bytes)</h2>"
                             f"<pre>{escape(hexdump(path.read_bytes()))}</pre>")
            elif path.suffix == ".command":
                parts.append(f"<h2>{escape(path.name)}</h2><pre>{escape(path.read_text(encoding='utf-8'))}</pre>")
    return page(f"{result.outcome.value} {result.case.id} {result.subject}", "".join(parts) +
                "<p><a href='../report.html'>back to the report</a></p>")


def write(report: Report, path: Path) -> None:
    """Write `path` and one page per result that ran under `path`'s sibling directory html/."""
    folder = path.parent / "html"
    folder.mkdir(parents=True, exist_ok=True)
    pages = {}
    for number, result in enumerate(report.results, 1):
        if result.outcome.counted:
            name = f"{number}.html"
            (folder / name).write_text(result_page(result), encoding="utf-8")
            pages[id(result)] = f"html/{name}"
    counts = report.counts()
    summary = ", ".join(f"{counts[o]} {o.value}" for o in Outcome if counts[o])
    skipped = "".join(f"<li>{escape(i.id)}: {escape(i.reason or '')}</li>" for i in report.implementations
                      if not i.available)
    unexpected = "".join(f"<li>{link(r, pages, f'{r.outcome.value} {r.case.id} {r.subject}')}: "
                         f"{escape(r.summary)}</li>" for r in report.unexpected())
    body = (f"<h1>Echo Lab conformance ({escape(report.mode)})</h1>"
            f"<p>seed {report.seed} &middot; {report.seconds:.1f} s &middot; {escape(summary)}</p>"
            f"<p><code>{escape(report.command)}</code></p><p>{escape(LEGEND)}</p>"
            + (f"<h2>Unexpected failures</h2><ul>{unexpected}</ul>" if unexpected else "")
            + matrix(report, pages) + case_table(report, "server", pages) + case_table(report, "client", pages)
            + (f"<h2>Skipped</h2><ul>{skipped}</ul>" if skipped else "")
            # the lab's committed error-handling matrix (make errors), which make test keeps true
            + (error_matrix_section(default_root() / "lab-guides" / "error-matrix.md")
               if report.mode == "matrix" else ""))
    table = faults.load(path.parent / "faults.json")  # a fault run's table, when there is one
    if table:
        body += faults.html_section(table)
    path.write_text(page("Echo Lab conformance", body), encoding="utf-8")
