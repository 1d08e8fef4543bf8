"""The robustness table: scenarios as rows, servers as columns, one verdict a cell; under it,
for every cell, what was measured and, when it did not pass, why. Built as data from a run's
robust/* results (robustness.json), and rendered as text (the terminal), Markdown
(robustness.md) and a section of the HTML report.

    table = robustness_table(results, servers, cases, seed=42, full=False, ...)
    print(text(table))
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from conformance.engine import Result, relative
from conformance.outcomes import Outcome

LABELS = {
    Outcome.PASS: "PASS",
    Outcome.FAIL: "FAIL",
    Outcome.NON_STRICT: "NON-STRICT",
    Outcome.EXPECTED_FAIL: "XFAIL",
    Outcome.UNSUPPORTED: "UNSUP",
    Outcome.SKIPPED: "SKIP",
    Outcome.ERROR: "ERROR",
}
LEGEND = ("PASS survived   FAIL broke a criterion   XFAIL failed as its manifest says, for the reason "
          "given   UNSUP the case needs a flag or a capability the server lacks   SKIP not available here   "
          "ERROR a timeout or the harness")


def robustness_table(results: list[Result], servers: list, cases: list, *, seed: int, full: bool,
                     command: str, started: str, seconds: float) -> dict:
    """The table as plain data (what robustness.json holds)."""
    cells: dict[str, dict[str, dict]] = {c.id: {} for c in cases}
    for r in results:
        if r.case.id in cells:
            cells[r.case.id][r.server] = {
                "outcome": r.outcome.value, "label": LABELS[r.outcome], "summary": r.summary,
                "expected": r.expected.split(": ", 1)[1] if r.expected else None, "figures": list(r.figures),
                "details": r.details if r.outcome is not Outcome.PASS else [], "seconds": round(r.seconds, 2),
                "replay": r.replay, "logs": relative(r.logdir) if r.logdir else None}
    return {
        "tool": "echo-lab robustness", "form": "full" if full else "bounded", "seed": seed, "command": command,
        "started": started, "seconds": round(seconds, 1),
        "servers": [{"id": s.id, "variant": s.variant, "available": s.available, "reason": s.reason,
                     "capabilities": list(s.capabilities)} for s in servers],
        "scenarios": [{"id": c.id, "summary": c.summary, "sentence": c.rule.sentence,
                       "requires": [cap for _, cap in c.requires]} for c in cases],
        "cells": cells,
    }


def unexpected(table: dict) -> list[tuple[str, str, dict]]:
    return [(case, server, cell) for case, row in table["cells"].items() for server, cell in row.items()
            if cell["outcome"] in (Outcome.FAIL.value, Outcome.ERROR.value)]


def _reason(cell: dict) -> str:
    if cell["outcome"] == Outcome.PASS.value:
        return ""
    return cell["expected"] or cell["summary"]


def notes(table: dict) -> list[tuple[str, list[tuple[str, str, str, str]]]]:
    """Per scenario: (server, label, reason, figures) for every cell that has something to say."""
    out = []
    for scenario in table["scenarios"]:
        rows = []
        for server in table["servers"]:
            cell = table["cells"][scenario["id"]].get(server["id"])
            if cell and (cell["figures"] or cell["outcome"] != Outcome.PASS.value):
                rows.append((server["id"], cell["label"], _reason(cell), "; ".join(cell["figures"])))
        out.append((scenario["id"], rows))
    return out


def text(table: dict, paths: dict[str, str] | None = None) -> str:
    servers = [s["id"] for s in table["servers"]]
    header = (f"Echo Lab robustness table ({table['form']} form): seed {table['seed']} "
              f"(repeat with --seed {table['seed']})")
    lines = [header, "", "Scenarios (rows) x servers (columns):"]
    lines += [f"  S{i + 1:<3} {s}" for i, s in enumerate(servers)]
    width = max(len(s["id"]) for s in table["scenarios"]) if table["scenarios"] else 10
    columns = [f"S{i + 1}" for i in range(len(servers))]
    lines.append("  " + " " * width + "  " + " ".join(c.ljust(5) for c in columns))
    for scenario in table["scenarios"]:
        row = table["cells"][scenario["id"]]
        marks = [row[s]["label"] if s in row else "" for s in servers]
        lines.append("  " + scenario["id"].ljust(width) + "  " + " ".join(m.ljust(5) for m in marks))
    lines += ["", LEGEND, ""]
    for scenario, rows in notes(table):
        if rows:
            lines.append(scenario)
            for server, label, reason, figures in rows:
                said = "; ".join(part for part in (reason, figures) if part)
                lines.append(f"  {label:<5} {server}: {said}")
    bad = unexpected(table)
    if bad:
        lines += ["", f"Unexpected failures ({len(bad)}):"]
        for case, server, cell in bad:
            lines.append(f"{cell['outcome']} {case} {server}")
            lines += ["  " + line for line in cell["details"] or [cell["summary"]]]
            if cell["replay"]:
                lines.append(f"  replay: {cell['replay']}")
            if cell["logs"]:
                lines.append(f"  logs:   {cell['logs']}")
    counts: dict[str, int] = {}
    for row in table["cells"].values():
        for cell in row.values():
            counts[cell["label"]] = counts.get(cell["label"], 0) + 1
    lines += ["", f"{sum(counts.values())} results in {table['seconds']:.1f} s: "
              + ", ".join(f"{n} {label}" for label, n in sorted(counts.items()))]
    lines += [f"{name}: {relative(Path(path))}" for name, path in (paths or {}).items()]
    return "\n".join(lines)


def markdown(table: dict) -> str:
    servers = [s["id"] for s in table["servers"]]
    lines = [f"# Echo Lab robustness table ({table['form']} form)", "",
             f"Seed {table['seed']}; `{table['command']}`; {table['started']}; {table['seconds']:.1f} s.", "",
             "| scenario | " + " | ".join(f"`{s}`" for s in servers) + " |",
             "| --- | " + " | ".join("---" for _ in servers) + " |"]
    for scenario in table["scenarios"]:
        row = table["cells"][scenario["id"]]
        lines.append(f"| `{scenario['id']}` | " + " | ".join(row[s]["label"] if s in row else "" for s in servers)
                     + " |")
    lines += ["", LEGEND, ""]
    for scenario, rows in notes(table):
        if rows:
            lines += [f"## `{scenario}`", ""]
            lines += [f"- **{label}** `{server}`: " + "; ".join(p for p in (reason, figures) if p)
                      for server, label, reason, figures in rows]
            lines.append("")
    return "\n".join(lines).replace("\r", "")


def html_section(table: dict) -> str:
    """The table as a section of the HTML report."""
    servers = [s["id"] for s in table["servers"]]
    head = "".join(f"<th>{escape(s)}</th>" for s in servers)
    rows = []
    for scenario in table["scenarios"]:
        row = table["cells"][scenario["id"]]
        cells = []
        for s in servers:
            cell = row.get(s)
            if cell is None:
                cells.append("<td></td>")
                continue
            title = escape("; ".join(p for p in (_reason(cell), "; ".join(cell["figures"])) if p))
            cells.append(f"<td class='{cell['outcome']}' title='{title}'>{cell['label']}</td>")
        rows.append(f"<tr><th class='row' title='{escape(scenario['summary'])}'>{escape(scenario['id'])}</th>"
                    f"{''.join(cells)}</tr>")
    items = []
    for scenario, found in notes(table):
        if found:
            entries = "".join(f"<li><b>{label}</b> {escape(server)}: "
                              f"{escape('; '.join(p for p in (reason, figures) if p))}</li>"
                              for server, label, reason, figures in found)
            items.append(f"<h3><code>{escape(scenario)}</code></h3><ul>{entries}</ul>")
    return (f"<h2>Robustness ({escape(table['form'])} form, seed {table['seed']})</h2>"
            f"<p>Scenarios (rows) x servers (columns). {escape(LEGEND)}</p>"
            f"<table><tr><th></th>{head}</tr>{''.join(rows)}</table>{''.join(items)}")
