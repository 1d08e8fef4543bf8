"""A program given on the command line instead of by a manifest: `grade --server 'CMD'`."""

from __future__ import annotations

import re
from pathlib import Path

from conformance.manifest import CAPABILITIES, Implementation, ManifestError, check_run, default_root

NAME_RE = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


def from_command(role: str, command: str, capabilities: list[str], name: str | None = None,
                 root: Path | None = None) -> Implementation:
    """An Implementation for `command` (a template with {host} and {port}, and {options} for a
    raw client) run in the current directory; ManifestError names every problem."""
    name = name or f"your-{role}"
    problems = []
    check_run(command, capabilities, problems.append)
    for cap in capabilities:
        if cap not in CAPABILITIES:
            problems.append(f"unknown capability {cap!r} (known: {', '.join(sorted(CAPABILITIES))})")
        elif CAPABILITIES[cap] != role:
            problems.append(f"{cap!r} is a {CAPABILITIES[cap]} capability, but this is a {role}")
    if not NAME_RE.fullmatch(name):
        problems.append(f"--name {name!r}: use lower case letters, digits and dashes")
    if problems:
        raise ManifestError([f"--{role}: {p}" for p in problems])
    return Implementation(
        id=name, language="any", role=role, variant="student", summary="the program being graded",
        capabilities=tuple(capabilities), flaws=(), directory=Path.cwd(), available=True, reason=None,
        run=command, manifest=Path("(command line)"), root=Path(root) if root else default_root())
