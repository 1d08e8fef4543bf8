"""The error-handling styles page, lab-guides/error-styles.md: for each fault of the matrix, the
few lines of each careful program that meet it, quoted from a marked region of its source
(`// guide:errors-FAULT begin` ... `end`, or `#` comments), beside the matrix's cells for that
program and for the naive program of its language; then one paragraph per language on how
its errors reach the code that decides.

Data in, Markdown out: the page is a function of lab-guides/error-matrix.json and the sources,
nothing else, so it changes only when a quoted region or a recorded cell does.

    python3 -m conformance.errormatrix.styles           rewrite the page
    python3 -m conformance.errormatrix.styles --check   exit 1 when the page is stale

`python3 -m conformance errors --write` (`make errors`) rewrites it too, after the matrix.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from conformance.errormatrix import page

PAGE = Path("lab-guides") / "error-styles.md"
TITLE = "# Error-handling styles"
MARKER = re.compile(r"^\s*(?://|#)\s*guide:(?P<region>[\w.-]+)\s+(?P<edge>begin|end)\s*$")


class MissingRegion(Exception):
    """A source the page quotes has no such region, or its markers do not pair up."""


def region(source: Path, name: str) -> list[str]:
    """The lines between `guide:NAME begin` and `guide:NAME end`, without the marker lines of
    any region, with their common indentation and blank lines at either end removed."""
    lines = source.read_text(encoding="utf-8").splitlines()
    found = ((n, MARKER.match(text)) for n, text in enumerate(lines))
    edges = [(n, m["edge"]) for n, m in found if m and m["region"] == name]
    if [edge for _, edge in edges] != ["begin", "end"]:
        raise MissingRegion(f"{source}: region {name!r} is not one begin and one end marker")
    body = [line.rstrip() for line in lines[edges[0][0] + 1:edges[1][0]] if not MARKER.match(line)]
    while body and not body[0]:
        body.pop(0)
    while body and not body[-1]:
        body.pop()
    cut = min((len(line) - len(line.lstrip(" \t")) for line in body if line), default=0)
    return [line[cut:] for line in body]


@dataclass(frozen=True)
class Fault:
    key: str  # the region is errors-KEY
    title: str
    scenarios: tuple[str, ...]  # scenario ids of the matrix
    summary: str


FAULTS = (
    Fault("refused", "Nobody listens: connection refused", ("client/refused", "client/unreachable"),
          "`connect` fails at once: the server's host answers the SYN with a reset (refused), or the network "
          "answers with ICMP host unreachable. Nothing has been sent; the client can only say so and exit 1."),
    Fault("unknown-host", "The name does not resolve", ("client/unknown-host",),
          "The resolver fails before a single packet goes to the server, so the error comes from "
          "`getaddrinfo` (or the runtime's own resolver), not from a socket."),
    Fault("reset", "A reset mid-session", ("client/network-reset", "server/reset"),
          "An RST arrives on an open connection: the next read or write fails (`ECONNRESET`, then `EPIPE`). "
          "It ends that session; a client reports it and exits 1, a server reports it and serves the next "
          "client."),
    Fault("peer-closes", "The peer closes early", ("client/killed", "client/half-close"),
          "The server's FIN arrives before the whole echo: a read returns end of stream (0 bytes) early. That "
          "is not an error code, so a program that checks only for errors misses it and prints a short echo."),
    Fault("port-in-use", "The port is taken", ("server/port-in-use",),
          "`bind` fails with `EADDRINUSE`: the server cannot serve anyone, so it says so and exits 1, before "
          "it claims to listen."),
    Fault("host-vanishes", "The server's host vanishes", ("client/host-vanishes",),
          "No FIN, no RST: every packet of the connection is dropped. Nothing fails; the read just waits while "
          "the kernel retransmits the unacknowledged line. Only a timeout (or TCP keepalive, on an idle "
          "connection) would end the wait; no careful client sets a timeout, and the lines quoted are where "
          "each one waits."),
    Fault("timeout", "A silent client: what bounds its hold", ("server/client-vanishes",),
          "The server hears nothing from a vanished client, not even a FIN. A server that serves clients at "
          "the same time loses one session to it and serves the next client; a server that serves one client "
          "at a time is held. The matrix runs every server without options, so no timeout is on."),
)

# (language key in the matrix, its name, the fence's info string)
LANGUAGES = (("cpp", "C++", "cpp"), ("java", "Java", "java"), ("go", "Go", "go"), ("python", "Python", "python"),
             ("rust", "Rust", "rust"), ("node", "Node.js", "js"), ("julia", "Julia", "julia"))


@dataclass(frozen=True)
class Quote:
    program: str  # the careful program whose cells are shown
    path: str  # the source holding the region errors-FAULT
    note: str = ""


def _quotes(client: tuple[str, dict[str, str]], server: tuple[str, dict[str, str]],
            overrides: dict[str, list[Quote]] | None = None) -> dict[str, list[Quote]]:
    """For each fault, the quotes of a language: its client's regions for client faults, its
    server's for server faults, both for a fault with scenarios of both roles."""
    roles = {"client": client, "server": server}
    quotes = dict(overrides or {})
    for fault in FAULTS:
        if fault.key in quotes:
            continue
        quotes[fault.key] = [Quote(roles[role][0], roles[role][1][fault.key])
                             for role in ("client", "server") if any(s.startswith(role + "/") for s in fault.scenarios)]
    return quotes


_CPP_SOCKET = "cpp/echolab/socket.cpp"
_CPP_CLIENT_IO = "cpp/echolab/client_io.cpp"
_CPP_SESSION = "cpp/echolab/session.cpp"
QUOTES: dict[str, dict[str, list[Quote]]] = {
    "cpp": _quotes(
        ("cpp-echo-client", {"refused": _CPP_SOCKET, "unknown-host": _CPP_SOCKET, "reset": _CPP_SOCKET,
                             "peer-closes": _CPP_CLIENT_IO, "host-vanishes": _CPP_CLIENT_IO}),
        ("cpp-echo-server", {"reset": _CPP_SESSION, "port-in-use": _CPP_SOCKET, "timeout": _CPP_SESSION}),
        {"timeout": [Quote("cpp-echo-server", _CPP_SESSION,
                           "The iterative server's `--idle-timeout SECONDS` would close the silent session; the "
                           "matrix runs it without, as it runs every program.")]}),
    "java": _quotes(
        ("java-echo-client", dict.fromkeys(("refused", "unknown-host", "reset", "peer-closes", "host-vanishes"),
                                           "reference/java/EchoClient.java")),
        ("java-echo-server", dict.fromkeys(("reset", "port-in-use"), "reference/java/EchoServer.java")),
        {"timeout": [Quote("java-multi-echo-server", "reference/java/MultiEchoServer.java")]}),
    "go": _quotes(
        ("go-echo-client", dict.fromkeys(("refused", "unknown-host", "reset", "peer-closes", "host-vanishes"),
                                         "reference/go/cmd/echo_client/main.go")),
        ("go-echo-server", dict.fromkeys(("reset", "port-in-use", "timeout"), "reference/go/cmd/echo_server/main.go"))),
    "python": _quotes(
        ("python-echo-client", dict.fromkeys(("refused", "unknown-host", "reset", "peer-closes", "host-vanishes"),
                                             "reference/python/echo_client.py")),
        ("python-echo-server", {"reset": "reference/python/echo_server.py",
                                "port-in-use": "reference/python/lab_cli.py"}),
        {"timeout": [Quote("python-multi-echo-server", "reference/python/multi_echo_server.py")]}),
    "rust": _quotes(
        ("rust-echo-client", dict.fromkeys(("refused", "unknown-host", "reset", "peer-closes", "host-vanishes"),
                                           "reference/rust/src/bin/echo_client.rs")),
        ("rust-echo-server", dict.fromkeys(("reset", "port-in-use", "timeout"),
                                           "reference/rust/src/bin/echo_server.rs"))),
    "node": _quotes(
        ("node-echo-client", dict.fromkeys(("refused", "unknown-host", "reset", "peer-closes", "host-vanishes"),
                                           "reference/node/echo_client.js")),
        ("node-echo-server", dict.fromkeys(("reset", "port-in-use", "timeout"), "reference/node/echo_server.js"))),
    "julia": _quotes(
        ("julia-echo-client", dict.fromkeys(("refused", "unknown-host", "reset", "peer-closes", "host-vanishes"),
                                            "reference/julia/EchoClient.jl")),
        ("julia-echo-server", dict.fromkeys(("reset", "port-in-use", "timeout"), "reference/julia/EchoServer.jl"))),
}

# How an error reaches the code that decides, and what the compiler or runtime insists on. What
# happens when it is forgotten is not written here: the page takes it from the naive rows.
MECHANISMS = {
    "cpp": "**return codes and `errno`.** A system call returns -1 and leaves the reason in `errno`; nothing "
           "makes the caller look. The lab's C++ turns each failure into an `Error` exception at the call "
           "(`connect`, `read`, `bind`), catches it where a session or the program ends, and sends with "
           "`MSG_NOSIGNAL` so that a vanished peer is an `EPIPE` error instead of a SIGPIPE. The compiler forces "
           "nothing: an unchecked result is at most a warning for the few functions marked to return a value "
           "that must be used.",
    "java": "**checked exceptions.** Every socket call declares `IOException`, and the compiler refuses a "
            "caller that neither catches it nor declares it in turn. That makes the place where a failure stops "
            "visible, not right: `main` may declare `throws IOException`, and then the runtime catches it, "
            "prints the stack trace and exits 1.",
    "go": "**errors are values.** Each call returns an `error` beside its result and the caller tests "
          "`err != nil` on the spot. The compiler insists only that a declared variable is used; the error can be "
          "assigned to `_`, and then the other result (a nil connection or listener) is used as if it were good.",
    "python": "**exceptions.** Every socket failure is an `OSError` subclass (`ConnectionRefusedError`, "
              "`ConnectionResetError`, `socket.gaierror`), raised at the call and caught once, where a session or "
              "the program ends. Nothing is checked before the program runs: an exception nobody catches "
              "prints a traceback and ends the program with exit status 1.",
    "rust": "**`Result`.** A fallible call returns `Result<T, io::Error>`: the value cannot be reached without "
            "deciding what an `Err` means, and an unused `Result` draws a compiler warning. `?` passes the error "
            "up; `unwrap` and `expect` turn it into a panic, which prints `panicked at` with the file and line and "
            "exits 101.",
    "node": "**`'error'` events.** A socket or server reports a failure as an `'error'` event, after the call "
            "that caused it has returned. An emitter with no `'error'` listener throws the error instead, and "
            "with nobody to catch it the process prints the stack (starting `node:events`) and exits 1. "
            "Nothing checks for a listener before the program runs.",
    "julia": "**exceptions, tested by type.** `try`/`catch` as in Python, nothing checked before the program runs; "
             "a careful handler tests `e isa Base.IOError` and rethrows the rest. An exception nobody catches "
             "prints `ERROR:` and a stack trace and exits 1; one inside a task is lost unless something "
             "(`errormonitor`) reports it.",
}


def _cell(data: dict, scenario: str, program: str) -> str:
    cell = data["cells"].get(scenario, {}).get(program, {"skipped": "not run"})
    text = page.verdict(cell)
    said = page.said(cell)
    return text if said in ("SKIPPED", "(nothing)") else f"{text}; stderr: {said}"


def _naive(data: dict, language: str, role: str) -> dict | None:
    return next((p for p in data["programs"] if p["language"] == language and p["role"] == role
                 and p["kind"] == "naive"), None)


def _careful_languages(data: dict) -> list[tuple[str, str, str]]:
    have = {p["language"] for p in data["programs"] if p["kind"] == "careful"}
    return [language for language in LANGUAGES if language[0] in have]


def _forgotten(data: dict, language: str) -> list[str]:
    """What the naive rows of a language show: a line for each cell that breaks the contract."""
    lines = []
    titles = {s["id"]: s["title"] for s in data["scenarios"]}
    for role in ("client", "server"):
        naive = _naive(data, language, role)
        if naive is None:
            continue
        scenarios = [s["id"] for s in data["scenarios"] if s["role"] == role]
        broken = [s for s in scenarios if not data["cells"].get(s, {}).get(naive["id"], {"ok": True}).get("ok")]
        lines.append(f"- `{naive['id']}` breaks the contract in {len(broken)} of its {len(scenarios)} scenarios"
                     + (":" if broken else "."))
        lines += [f"  - {titles[s]}: {_cell(data, s, naive['id'])}" for s in broken]
    return lines


def markdown(data: dict, root: Path) -> str:
    """The page, from the matrix as data and the sources under `root`."""
    scenarios = {s["id"]: s for s in data["scenarios"]}
    languages = _careful_languages(data)
    out = [TITLE, "",
           "<!-- Generated by conformance/errormatrix/styles.py (python3 -m conformance.errormatrix.styles; "
           "python3 -m conformance errors --write rewrites it too) from lab-guides/error-matrix.json and the "
           "`guide:errors-*` regions of the sources. Do not edit: conformance/tests/test_error_styles.py fails "
           "when it is stale. -->", "",
           "The same faults as [the error-handling matrix](error-matrix.md), seen from the code: for each fault, "
           "the lines of each careful program that meet it, with the matrix's cells for that program and for the "
           "naive program of the same language (the program as tutorials write it, with no error handling). "
           f"A cell reads as in the matrix: how the program ended, `hang` when it had not exited, {page.CROSS} "
           "where the contract is broken, and the first line on stderr. The last section says how each "
           "language delivers an error, and what its naive programs do where the handling is missing.", ""]
    out += [f"- [{fault.title}](#{_anchor(fault.title)})" for fault in FAULTS]
    out += ["- [The languages](#the-languages)", ""]
    for fault in FAULTS:
        out += [f"## {fault.title}", "", fault.summary, ""]
        out += [f"- **{scenarios[s]['title']}** ({scenarios[s]['role']}): {scenarios[s]['description']}"
                for s in fault.scenarios if s in scenarios]
        out.append("")
        for key, name, fence in languages:
            out += [f"### {name}", ""]
            for quote in QUOTES[key][fault.key]:
                program = next((p for p in data["programs"] if p["id"] == quote.program), None)
                if program is None:
                    raise MissingRegion(f"the matrix has no program {quote.program}")
                lines = region(root / quote.path, f"errors-{fault.key}")
                out += [f"`{quote.program}`, from [{quote.path}](../{quote.path}):", "",
                        f"```{fence}", *lines, "```", ""]
                if quote.note:
                    out += [quote.note, ""]
                naive = _naive(data, key, program["role"])
                rows = [[scenarios[s]["title"], _cell(data, s, quote.program)]
                        + ([_cell(data, s, naive["id"])] if naive else [])
                        for s in fault.scenarios if s in scenarios and scenarios[s]["role"] == program["role"]]
                out += page.table(["scenario", f"`{quote.program}`"] + ([f"`{naive['id']}` (naive)"] if naive else []),
                                  rows)
                out.append("")
    out += ["## The languages", ""]
    for key, name, _ in languages:
        out += [f"**{name}: {MECHANISMS[key].lstrip('*')}", ""]
        forgotten = _forgotten(data, key)
        if forgotten:
            out += ["Where the handling is left out, the naive rows show what happens:", "", *forgotten, ""]
    return "\n".join(out).rstrip("\n") + "\n"


def _anchor(heading: str) -> str:
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def render(root: Path) -> str:
    """The page from the committed matrix and the sources under `root`."""
    data = page.load(Path(root) / page.DATA)
    if data is None:
        raise MissingRegion(f"cannot read {Path(root) / page.DATA}")
    return markdown(data, Path(root))


def stale(root: Path) -> bool:
    """Whether the committed page differs from what the generator gives."""
    try:
        committed = (Path(root) / PAGE).read_text(encoding="utf-8")
    except OSError:
        return True
    return committed != render(root)


def main(argv: list[str] | None = None) -> int:
    from conformance.manifest import default_root

    parser = argparse.ArgumentParser(prog="python3 -m conformance.errormatrix.styles",
                                     description=f"write {PAGE} from {page.DATA} and the sources")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when the page is stale")
    parser.add_argument("--root", type=Path, default=None, help="the repository root")
    args = parser.parse_args(argv)
    root = args.root or default_root()
    try:
        if args.check:
            if stale(root):
                print(f"{PAGE} is stale: run python3 -m conformance.errormatrix.styles", file=sys.stderr)
                return 1
            return 0
        (root / PAGE).write_text(render(root), encoding="utf-8")
    except MissingRegion as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    print(f"wrote {PAGE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
