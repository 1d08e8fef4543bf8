#!/usr/bin/env python3
"""Fail when the C++ sources include each other in a loop.

    check_includes.py ROOT [DIR ...]   check the modules under ROOT/DIR (default: echolab)
    check_includes.py --self-test      prove the check catches a loop and passes a tree without

A module is a header and its source together (echolab/stop.hpp and echolab/stop.cpp): a loop
through a .cpp is a layering loop all the same, as when stop.cpp included program.hpp for
report() while program.hpp included stop.hpp. Only `#include "..."` lines count, resolved
against ROOT, and a file including its own module's header is no edge.

On success prints the modules in layers, each using only the layers above it; exit status 0.
On a loop prints it ("include loop: a -> b -> a") and exits 1.
"""

from __future__ import annotations

import io
import re
import sys
import tempfile
from pathlib import Path

INCLUDE = re.compile(r'^\s*#\s*include\s+"(?P<path>[^"]+)"', re.MULTILINE)
SUFFIXES = (".hpp", ".cpp")


def modules(root: Path, dirs: list[str]) -> dict[str, set[str]]:
    """Each module under dirs, with the modules its files include (inside root)."""
    graph: dict[str, set[str]] = {}
    for directory in dirs:
        for path in sorted((root / directory).rglob("*")):
            if path.suffix not in SUFFIXES:
                continue
            name = str(path.relative_to(root).with_suffix(""))
            uses = graph.setdefault(name, set())
            for match in INCLUDE.finditer(path.read_text(encoding="utf-8")):
                target = Path(match["path"])
                if (root / target).exists() and str(target.with_suffix("")) != name:
                    uses.add(str(target.with_suffix("")))
    return graph


def find_loop(graph: dict[str, set[str]]) -> list[str] | None:
    """A loop of modules (its first one repeated at the end), or None."""
    state: dict[str, str] = {}  # "open" while on the current path, "done" after
    path: list[str] = []

    def visit(name: str) -> list[str] | None:
        state[name] = "open"
        path.append(name)
        for used in sorted(graph.get(name, ())):
            if state.get(used) == "open":
                return path[path.index(used):] + [used]
            if used not in state and (loop := visit(used)):
                return loop
        path.pop()
        state[name] = "done"
        return None

    for name in sorted(graph):
        if name not in state and (loop := visit(name)):
            return loop
    return None


def layers(graph: dict[str, set[str]]) -> list[list[str]]:
    """The modules of an acyclic graph, in layers: each uses only modules of earlier layers."""
    placed: dict[str, int] = {}

    def depth(name: str) -> int:
        if name not in placed:
            placed[name] = 1 + max((depth(used) for used in graph.get(name, ())), default=-1)
        return placed[name]

    result: list[list[str]] = []
    for name in sorted(graph):
        level = depth(name)
        while len(result) <= level:
            result.append([])
        result[level].append(name)
    return result


def check(root: Path, dirs: list[str], out=sys.stdout) -> int:
    graph = modules(root, dirs)
    if not graph:
        print(f"no .hpp or .cpp files under {', '.join(dirs)} in {root}", file=out)
        return 1
    loop = find_loop(graph)
    if loop:
        print("include loop: " + " -> ".join(loop), file=out)
        return 1
    print(f"no include loop among {len(graph)} modules; in layers, each using only those above:",
          file=out)
    for level, names in enumerate(layers(graph)):
        print(f"  {level}: {' '.join(names)}", file=out)
    return 0


def self_test() -> int:
    """The check must pass a layered tree and catch a loop that goes through a .cpp."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "lib").mkdir()
        files = {
            "lib/a.hpp": '#include "lib/b.hpp"\n',
            "lib/b.hpp": "#include <vector>\n",
            "lib/b.cpp": '#include "lib/b.hpp"\n',
        }
        for name, text in files.items():
            (root / name).write_text(text, encoding="utf-8")
        if check(root, ["lib"], out=io.StringIO()) != 0:
            print("self-test: a tree without a loop was reported as looping")
            return 1
        (root / "lib/b.cpp").write_text('#include "lib/b.hpp"\n#include "lib/a.hpp"\n')
        report = io.StringIO()
        if check(root, ["lib"], out=report) != 1 or "include loop: lib/" not in report.getvalue():
            print("self-test: b.cpp -> a.hpp -> b.hpp, a loop through a .cpp, was not caught")
            return 1
    print("self-test: passed a layered tree and caught a loop through a .cpp")
    return 0


def main(argv: list[str]) -> int:
    if argv == ["--self-test"]:
        return self_test()
    if not argv or argv[0].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2
    return check(Path(argv[0]), argv[1:] or ["echolab"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
