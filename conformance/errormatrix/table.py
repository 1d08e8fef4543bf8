"""The error matrix as Markdown (lab-guides/error-matrix.md), read back cell by cell so that a
committed table can be compared with a fresh run, and shown as HTML in the report.

Every table's first column names a program by its id in backticks; a cell is known by the
section it sits in, the program and the column, e.g. ("Clients", "go-echo-client",
"unknown host"). That key is what a difference names.
"""

from __future__ import annotations

import re
from html import escape
from pathlib import Path

from conformance.errormatrix.faults import EXIT_BOUND, FAULTS, Fault, Observation, faults_for
from conformance.manifest import Implementation

TITLE = "# Error-handling matrix"
CROSS = "✗"
ROLES = (("client", "Clients"), ("server", "Servers"))


# --- writing ----------------------------------------------------------------------------------

def verdict(obs: Observation) -> str:
    """The short cell: how it ended, a crash, the facts, and a cross where the contract is broken."""
    if obs.skipped:
        return "SKIPPED"
    parts = [obs.ended] if obs.ended else []
    if obs.crash and obs.ended.startswith("exit"):
        parts.append("trace")
    parts += obs.notes
    return ", ".join(parts) + ("" if obs.ok else f" {CROSS}")


def code(text: str) -> str:
    text = text.replace("`", "'").replace("|", "\\|")
    return f"`{text}`"


def said(obs: Observation) -> str:
    """The detail cell: the first line on stderr, and a bad client's notice on stdout."""
    if obs.skipped:
        return "SKIPPED"
    text = code(obs.stderr) if obs.stderr else "(nothing)"
    if obs.stdout:
        text += f"; on stdout: {code(obs.stdout)}"
    return text


def row_name(impl: Implementation) -> str:
    return f"`{impl.id}`" + (" (bad)" if impl.variant == "bad" else "")


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def render(impls: list[Implementation], results: dict[tuple[str, str], Observation]) -> str:
    """The whole page; `results` maps (fault key with role, impl id) to what was seen, see key()."""
    out = [TITLE, "",
           "<!-- Generated from real runs by `make errors` (python3 -m conformance errors --write "
           "lab-guides/error-matrix.md). Do not edit: `make test` fails when the programs no longer "
           "behave as written here. -->", "",
           "Every program of the lab, run on loopback through the faults a network program meets. A cell "
           "says how the program ended (`exit N`, `killed by SIGxxx`, or `hang` when it had not "
           f"exited {EXIT_BOUND:.0f} s after its cue), `trace` when it printed a stack trace or an "
           f"uncaught exception, and the facts observed; {CROSS} marks a cell where the program does not do "
           "what [the contract](../conformance/CONTRACT.md) asks (programs marked (bad) break it on "
           "purpose). Below each table, the first line each program wrote on stderr, with ports, "
           "pids, temporary paths and addresses other than loopback replaced by `PORT`, `PID`, `TMP` "
           "and `ADDR`.", ""]
    for role, heading in ROLES:
        members = [i for i in impls if i.role == role]
        faults = faults_for(role)
        if not members:
            continue
        out += [f"### {heading}", ""]
        out += [f"- **{f.title}**: {describe(f)} Asked for: {f.expect}." for f in faults]
        out.append("")
        rows = [[row_name(i)] + [verdict(results[key(f, i)]) for f in faults] for i in members]
        out += table([role] + [f.title for f in faults], rows)
        skipped = [i for i in members if not i.available]
        if skipped:
            out.append("")
            out += [f"SKIPPED `{i.id}`: {i.reason}." for i in skipped]
        out.append("")
        for f in faults:
            out += [f"<details><summary>{heading}, {f.title}: first line on stderr</summary>", ""]
            out += table([role, "stderr"], [[row_name(i), said(results[key(f, i)])] for i in members])
            out += ["", "</details>", ""]
    return "\n".join(out).rstrip("\n") + "\n"


def key(fault: Fault, impl: Implementation) -> tuple[str, str]:
    return (f"{fault.role}/{fault.key}", impl.id)


DESCRIPTIONS = {
    "client/refused": "nothing listens on the port (connection refused).",
    "client/unknown-host": "the host is `no-such-host.invalid`, a name that never resolves.",
    "client/killed": "the server echoes the first line and is then killed with SIGKILL; the client "
                     "sends a second line and its input ends.",
    "client/half-close": "the server echoes the first line and shuts down its sending side (FIN) but "
                         "keeps reading; the client sends a second line and its input ends.",
    "client/stdin-eof": "the client sends one line and its input ends without `BYE`; the server "
                        "is healthy.",
    "server/port-in-use": "another socket already listens on the address and port.",
    "server/reset": "a client sends two lines, and once their echo is back, closes with "
                    "`SO_LINGER` 0 (a reset) without reading it; then a next client sends a line.",
    "server/half-close": "a client sends 72 KiB of lines and a last line without a newline, shuts "
                         "down its sending side, and reads to the end; then a next client sends a line.",
}


def describe(fault: Fault) -> str:
    return DESCRIPTIONS[f"{fault.role}/{fault.key}"]


# --- reading back -----------------------------------------------------------------------------

_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*$")
_SUMMARY = re.compile(r"<summary>(.*?)</summary>")
_ID = re.compile(r"`([a-z0-9-]+)`")
_SPLIT = re.compile(r"(?<!\\)\|")


def cells(text: str) -> dict[tuple[str, str, str], str]:
    """Every table cell of a page: (section, program id, column) -> the cell's text."""
    found: dict[tuple[str, str, str], str] = {}
    section = ""
    header: list[str] | None = None
    lines = text.splitlines()
    for number, line in enumerate(lines):
        heading, summary = _HEADING.match(line), _SUMMARY.search(line)
        if heading or summary:
            section = (heading or summary).group(1)
            header = None
            continue
        if not line.startswith("|"):
            header = None
            continue
        row = [c.strip() for c in _SPLIT.split(line.strip())[1:-1]]
        if header is None:
            following = lines[number + 1] if number + 1 < len(lines) else ""
            if re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", following.strip()):
                header = row
            continue
        if all(re.fullmatch(r":?-+:?", c) for c in row):
            continue
        name = _ID.search(row[0])
        if name:
            for column, value in zip(header[1:], row[1:]):
                found[(section, name.group(1), column)] = value
    return found


def differences(committed: str, fresh: str, ids: set[str] | None = None) -> list[str]:
    """Each cell whose text differs between two pages, named by section, program and column;
    `ids` limits the comparison to those programs."""
    old, new = cells(committed), cells(fresh)
    keys = sorted(set(old) | set(new))
    found = []
    for k in keys:
        if ids is not None and k[1] not in ids:
            continue
        if old.get(k) != new.get(k):
            section, impl, column = k
            found.append(f"{section} / {impl} / {column}: committed {old.get(k, '(no such cell)')!r}, "
                         f"now {new.get(k, '(no such cell)')!r}")
    return found


# --- HTML ---------------------------------------------------------------------------------------

_INLINE = re.compile(r"`([^`]*)`|\[([^\]]+)\]\(([^)]+)\)|\*\*([^*]+)\*\*")


def inline(text: str) -> str:
    def one(m: re.Match) -> str:
        if m.group(1) is not None:
            return f"<code>{escape(m.group(1).replace(chr(92) + '|', '|'))}</code>"
        if m.group(2) is not None:
            return escape(m.group(2))  # links are relative to the guide, not to the report
        return f"<b>{escape(m.group(4))}</b>"
    parts, last = [], 0
    for m in _INLINE.finditer(text):
        parts.append(escape(text[last:m.start()]))
        parts.append(one(m))
        last = m.end()
    parts.append(escape(text[last:]))
    return "".join(parts)


def to_html(text: str) -> str:
    """The page as HTML, for the report: its headings, lists, paragraphs and tables."""
    out: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("<!--") or not line.strip() or line == TITLE or line == "</details>":
            out.append("</details>" if line == "</details>" else "")
        elif _SUMMARY.search(line):
            out.append(f"<details><summary>{inline(_SUMMARY.search(line).group(1))}</summary>")
        elif _HEADING.match(line):
            out.append(f"<h3>{inline(_HEADING.match(line).group(1))}</h3>")
        elif line.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                rows.append([c.strip() for c in _SPLIT.split(lines[i].strip())[1:-1]])
                i += 1
            head, body = rows[0], [r for r in rows[2:]]
            html = "<tr>" + "".join(f"<th>{inline(c)}</th>" for c in head) + "</tr>"
            for r in body:
                tds = "".join(f"<td class='{'FAIL' if CROSS in c else ''}'>{inline(c)}</td>" for c in r[1:])
                html += f"<tr><th class='row'>{inline(r[0])}</th>{tds}</tr>"
            out.append(f"<table>{html}</table>")
            continue
        elif line.startswith("- "):
            items = []
            while i < len(lines) and lines[i].startswith("- "):
                items.append(f"<li>{inline(lines[i][2:])}</li>")
                i += 1
            out.append(f"<ul>{''.join(items)}</ul>")
            continue
        else:
            out.append(f"<p>{inline(line)}</p>")
        i += 1
    return "".join(out)


def html_section(path: Path) -> str:
    """The committed matrix as a report section, or nothing when there is none."""
    if not path.is_file():
        return ""
    return "<h2>Error-handling matrix</h2>" + to_html(path.read_text(encoding="utf-8"))


__all__ = ["FAULTS", "cells", "differences", "html_section", "key", "render", "to_html"]
