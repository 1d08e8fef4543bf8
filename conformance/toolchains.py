"""The lab's private toolchains (a Julia from Debian's archive that scripts/bootstrap unpacks
under build/toolchains/ when the machine has none), put last on the PATH the harness searches
and gives its programs: a toolchain installed on the machine later wins. They belong to the
lab the harness is part of, whatever folder a graded program comes from."""

from __future__ import annotations

import os
from pathlib import Path

LAB = Path(__file__).resolve().parent.parent


def bin_dir() -> Path:
    return LAB / "build" / "toolchains" / "bin"


def search_path() -> str:
    """$PATH with the lab's toolchains behind it."""
    return os.pathsep.join(filter(None, [os.environ.get("PATH", os.defpath), str(bin_dir())]))
