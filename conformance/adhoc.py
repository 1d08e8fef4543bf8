"""A program given on the command line instead of by a manifest (`grade --server 'CMD'`), and
the capabilities a program is held to when nobody says otherwise: the whole contract a careful
program meets."""

from __future__ import annotations

import re
from pathlib import Path

from conformance.manifest import CAPABILITIES, Implementation, ManifestError, check_run, default_root

NAME_RE = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
# What a careful echo server does (every byte, half-close then FIN, clients at the same time,
# SIGTERM): a grade without --capabilities holds a server to all of it.
CONTRACT = {"server": ("concurrent", "half_close", "graceful_stop"), "client": ()}
# The contract's options: graded only when declared, and named in the score line when not.
OPTIONAL = {"server": ("bye",), "client": ("raw",)}


def from_command(role: str, command: str, capabilities: list[str] | None, name: str | None = None,
                 root: Path | None = None, fixed_port: int = 2000) -> Implementation:
    """An Implementation for `command` (a template, usually with {host} and {port}, and
    {options} for a raw client) run in the current directory, in the sandbox; ManifestError
    names every problem. `capabilities` None: the whole contract. A template without {port}
    listens on (or connects to) `fixed_port`."""
    name = name or f"your-{role}"
    capabilities = list(CONTRACT[role]) if capabilities is None else capabilities
    problems = []
    check_run(command, capabilities, problems.append, as_written=True)
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
        run=command, manifest=Path("(command line)"), root=Path(root) if root else default_root(),
        untrusted=True, fixed_port=fixed_port)
