"""What every run shares: its seed, its output directory, its clock."""

from __future__ import annotations

import fcntl
import itertools
import random
import shutil
from datetime import datetime, timezone
from fnmatch import fnmatchcase
from pathlib import Path

PROG = "python3 -m conformance"


def matches_id(impl_id: str, pattern: str) -> bool:
    return fnmatchcase(impl_id, pattern)


_locks: list = []  # held until the process ends: the directories this run writes in


def fresh_dir(path: Path) -> Path:
    """An output directory emptied of an earlier run's logs (only if a run of ours made it).
    While another run still writes in it (two grades of `your-server` at once), this run takes
    `PATH-2`, `PATH-3`, ... instead: each directory is locked (flock on a `.NAME.lock` beside
    it) for as long as the run that owns it lives."""
    path = Path(path).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    for n in itertools.count(1):
        candidate = path if n == 1 else path.with_name(f"{path.name}-{n}")
        lock = open(candidate.parent / f".{candidate.name}.lock", "w")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            continue
        _locks.append(lock)
        path = candidate
        break
    if path.is_dir() and ((path / "report.json").exists() or not any(path.iterdir())):
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    return path


def new_seed() -> int:
    return random.SystemRandom().randrange(1, 1 << 31)


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
