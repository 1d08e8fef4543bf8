"""The error-handling matrix as data (lab-guides/error-matrix.json, what `make errors` commits),
and the views rendered from it: the Markdown page (lab-guides/error-matrix.md), the HTML section
of the report, and the cell-by-cell comparison of two runs that `make test` uses.

Rows are grouped by language (the careful programs first, then the bad and the naive ones), so
a reader compares languages in one glance; a cell is known by its scenario and its program.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

from conformance.errormatrix.scenarios import EXIT_BOUND, SCENARIOS, Cell
from conformance.manifest import Implementation

DATA = Path("lab-guides") / "error-matrix.json"
PAGE = Path("lab-guides") / "error-matrix.md"
TITLE = "# Error-handling matrix"
CROSS = "✗"
ROLES = (("client", "Clients"), ("server", "Servers"))
KINDS = ("careful", "bad", "naive")
COMPARED = ("ended", "crash", "notes", "ok", "stderr", "stdout", "skipped")


def kind(impl: Implementation) -> str:
    return impl.variant if impl.variant in KINDS else "careful"


def build(impls: list[Implementation], cells: dict[tuple[str, str], Cell]) -> dict:
    """The matrix as data; `cells` maps (scenario id, program id) to what was seen."""
    return {
        "tool": "echo-lab errors",
        "exit_bound": EXIT_BOUND,
        "scenarios": [{"id": s.id, "role": s.role, "title": s.title, "description": s.description,
                       "expect": s.expect} for s in SCENARIOS],
        "programs": [{"id": i.id, "language": i.language, "role": i.role, "variant": i.variant, "kind": kind(i),
                      "available": i.available, "reason": i.reason} for i in ordered(impls)],
        "cells": {s.id: {i.id: cells[(s.id, i.id)].to_json() for i in impls if i.role == s.role
                         and (s.id, i.id) in cells} for s in SCENARIOS},
    }


def ordered(impls):
    """By language, then careful, bad, naive, then as the manifests list them."""
    index = {i.id: n for n, i in enumerate(impls)}
    return sorted(impls, key=lambda i: (i.language, KINDS.index(kind(i)), index[i.id]))


def load(path: Path) -> dict | None:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def dump(data: dict) -> str:
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


# --- the page -------------------------------------------------------------------------------------

def verdict(cell: dict) -> str:
    """The short cell: how it ended, a crash, the facts, and a cross where the contract is broken;
    for a program whose behaviour varies from run to run (a race inside it), each way seen."""
    if cell.get("skipped"):
        return "SKIPPED"
    parts = [cell["ended"]] if cell.get("ended") else []
    if cell.get("crash") and cell.get("ended", "").startswith("exit"):
        parts.append("trace")
    parts += cell.get("notes", [])
    text = ", ".join(parts) + ("" if cell.get("ok") else f" {CROSS}")
    others = [verdict(other) for other in cell.get("varies", [])]
    return text + (f"; or, varying from run to run: {'; '.join(others)}" if others else "")


def facts(cell: dict) -> dict:
    return {k: cell.get(k) for k in COMPARED}


def merge_runs(runs: list[dict]) -> dict:
    """One matrix from repeated runs: a cell whose facts differ between runs keeps the first run's
    and lists the other ways seen under `varies`, so a program with a race of its own is shown
    as it is rather than as one of its outcomes."""
    merged = json.loads(json.dumps(runs[0]))
    for scenario, row in merged["cells"].items():
        for program, cell in row.items():
            seen = [facts(cell)]
            for other in runs[1:]:
                candidate = other["cells"].get(scenario, {}).get(program)
                if candidate is not None and facts(candidate) not in seen:
                    seen.append(facts(candidate))
            if len(seen) > 1:
                cell["varies"] = [{k: v for k, v in f.items() if v not in (None, "", [], False) or k in ("ended", "ok")}
                                  for f in seen[1:]]
    return merged


def code(text: str) -> str:
    text = text.replace("`", "'").replace("|", "\\|")
    return f"`{text}`"


def said(cell: dict) -> str:
    """The detail cell: the first line on stderr, and a bad client's notice on stdout."""
    if cell.get("skipped"):
        return "SKIPPED"
    text = code(cell["stderr"]) if cell.get("stderr") else "(nothing)"
    if cell.get("stdout"):
        text += f"; on stdout: {code(cell['stdout'])}"
    return text


def program_name(program: dict) -> str:
    return f"`{program['id']}`" + (f" ({program['kind']})" if program["kind"] != "careful" else "")


def rows_of(data: dict, role: str) -> list[tuple[str, dict]]:
    """(language shown on the first row of its group, program) for the role's programs."""
    rows, last = [], None
    for program in data["programs"]:
        if program["role"] != role:
            continue
        rows.append((program["language"] if program["language"] != last else "", program))
        last = program["language"]
    return rows


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def markdown(data: dict) -> str:
    out = [TITLE, "",
           "<!-- Generated from real runs by `make errors` (python3 -m conformance errors --write), from "
           "lab-guides/error-matrix.json. Do not edit: `make test` fails when the programs no longer behave "
           "as recorded there. -->", "",
           "Every program of the lab, run on loopback through the failures a network program meets, grouped "
           "by language: the careful programs first, then the deliberately bad and naive ones. A cell says how "
           "the program ended (`exit N`, `killed by SIGxxx`, or `hang` when it had not exited "
           f"{data['exit_bound']:.0f} s after its cue), `trace` when it printed a stack trace or an uncaught "
           f"exception, and the facts observed; {CROSS} marks a cell where the program does not do what "
           "[the contract](../conformance/CONTRACT.md) asks (the bad and naive programs break it on purpose). "
           "Below each table, the first line each program wrote on stderr, with ports, pids, temporary paths "
           "and addresses other than loopback replaced by `PORT`, `PID`, `TMP` and `ADDR`.", ""]
    for role, heading in ROLES:
        scenarios = [s for s in data["scenarios"] if s["role"] == role]
        rows = rows_of(data, role)
        if not rows:
            continue
        out += [f"### {heading}", ""]
        out += [f"- **{s['title']}**: {s['description']} Asked for: {s['expect']}." for s in scenarios]
        out.append("")
        out += table(["language", role] + [s["title"] for s in scenarios],
                     [[language, program_name(p)] + [verdict(data["cells"][s["id"]].get(p["id"], {"skipped": "?"}))
                                                     for s in scenarios] for language, p in rows])
        skipped = [p for _, p in rows if not p["available"]]
        if skipped:
            out.append("")
            out += [f"SKIPPED `{p['id']}`: {p['reason']}." for p in skipped]
        out.append("")
        for s in scenarios:
            out += [f"<details><summary>{heading}, {s['title']}: first line on stderr</summary>", ""]
            out += table(
                ["language", role, "stderr"],
                [[language, program_name(p), said(data["cells"][s["id"]].get(p["id"], {"skipped": "?"}))]
                 for language, p in rows])
            out += ["", "</details>", ""]
    return "\n".join(out).rstrip("\n") + "\n"


def html_section(data: dict) -> str:
    """The matrix as a section of the HTML report, from the same data."""
    parts = ["<h2>Error-handling matrix</h2>"]
    for role, heading in ROLES:
        scenarios = [s for s in data["scenarios"] if s["role"] == role]
        rows = rows_of(data, role)
        if not rows:
            continue
        head = "".join(f"<th title='{escape(s['description'])}'>{escape(s['title'])}</th>" for s in scenarios)
        body = []
        for language, p in rows:
            cells = []
            for s in scenarios:
                cell = data["cells"][s["id"]].get(p["id"], {"skipped": "?"})
                css = "SKIPPED" if cell.get("skipped") else ("PASS" if cell.get("ok") else
                                                             "EXPECTED-FAIL" if p["kind"] != "careful" else "FAIL")
                cells.append(f"<td class='{css}' title='{escape(said(cell))}'>{escape(verdict(cell))}</td>")
            name = escape(p["id"]) + (f" ({p['kind']})" if p["kind"] != "careful" else "")
            body.append(f"<tr><th class='row'>{escape(language)}</th><th class='row'>{name}</th>{''.join(cells)}</tr>")
        parts.append(f"<h3>{heading}</h3><table><tr><th>language</th><th>{role}</th>{head}</tr>"
                     f"{''.join(body)}</table>")
    return "".join(parts)


def committed_html(root: Path) -> str:
    data = load(Path(root) / DATA)
    return html_section(data) if data else ""


# --- comparing two runs -----------------------------------------------------------------------------

def differences(old: dict | None, new: dict, ids: set[str] | None = None) -> list[str]:
    """Each cell whose facts differ between two runs, named by scenario and program; `ids`
    limits the comparison to those programs."""
    old = old or {"cells": {}, "scenarios": []}
    titles = {s["id"]: s["title"] for s in new["scenarios"] + old.get("scenarios", [])}
    found = []
    for scenario in sorted(set(old["cells"]) | set(new["cells"])):
        before, after = old["cells"].get(scenario, {}), new["cells"].get(scenario, {})
        for program in sorted(set(before) | set(after)):
            if ids is not None and program not in ids:
                continue
            a = facts(before[program]) if program in before else None
            b = facts(after[program]) if program in after else None
            known = [a] + [facts(v) for v in before.get(program, {}).get("varies", [])] if a else []
            if b not in known and a != b:
                found.append(f"{titles.get(scenario, scenario)} / {program}: committed "
                             f"{verdict(before[program]) + ' ' + said(before[program]) if a else '(no such cell)'}, "
                             f"now {verdict(after[program]) + ' ' + said(after[program]) if b else '(no such cell)'}")
    return found
