"""What every run shares: its seed, its output directory, its clock."""

from __future__ import annotations

import random
import shutil
from datetime import datetime, timezone
from fnmatch import fnmatchcase
from pathlib import Path

PROG = "python3 -m conformance"


def matches_id(impl_id: str, pattern: str) -> bool:
    return fnmatchcase(impl_id, pattern)


def fresh_dir(path: Path) -> Path:
    """An output directory emptied of an earlier run's logs (only if a run of ours made it)."""
    path = Path(path).resolve()
    if path.is_dir() and ((path / "report.json").exists() or not any(path.iterdir())):
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    return path


def new_seed() -> int:
    return random.SystemRandom().randrange(1, 1 << 31)


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
