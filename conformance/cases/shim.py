"""The short-count and EINTR shim (cpp/tools/short_io_shim.cpp, an LD_PRELOAD library over
libc): where it is, which programs it can reach, and the environment that turns it on for a
program's sockets."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from conformance.manifest import Implementation, default_root

NAME = "libshort_io_shim.so"


def find_shim() -> Path:
    """$ECHO_LAB_SHIM, else the build of the lab the harness is part of (build/lib/), else beside
    the harness (lib/, where the Gradescope kit's setup.sh and the Classroom workflow compile it):
    the first that exists, else the build's path."""
    lab = Path(__file__).resolve().parents[2]
    candidates = [Path(os.environ["ECHO_LAB_SHIM"])] if os.environ.get("ECHO_LAB_SHIM") else []
    candidates += [lab / "build" / "lib" / NAME, lab / "lib" / NAME, default_root() / "build" / "lib" / NAME]
    return next((c for c in candidates if c.is_file()), candidates[0])


SHIM = find_shim()


def shim_cannot_reach(program: Implementation) -> str | None:
    """Why an LD_PRELOAD shim over libc cannot reach this program's socket I/O, or None."""
    if program.language == "go":
        return "Go's runtime makes its system calls directly, not through libc: an LD_PRELOAD shim never sees them"
    executable = program.command("127.0.0.1", 0, ())[0]
    path = shutil.which(executable, path=str(program.directory) + os.pathsep + os.environ.get("PATH", ""))
    try:
        with open(path or executable, "rb") as f:
            head = f.read(1 << 16)
    except OSError:
        return None
    if b"Go build ID:" in head:
        return "a Go program: its runtime makes system calls directly, not through libc"
    return None


def shim_env(seed: int) -> dict[str, str]:
    """The shim on the program's sockets only: a pipe to the harness is not the network, and a
    runtime's buffered stdout is not what the case is about."""
    return {"LD_PRELOAD": str(SHIM), "ECHO_LAB_SHIM_SEED": str(seed), "ECHO_LAB_SHIM_EINTR": "20",
            "ECHO_LAB_SHIM_SHORT": "60", "ECHO_LAB_SHIM_ONLY": "sockets"}
