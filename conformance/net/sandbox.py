"""Run a program nobody reviewed under bubblewrap (Debian's `bwrap`, Flatpak's sandbox).

The program sees the whole filesystem read-only except its own folder (writable) and a private
/tmp; the paths given to hide (other submissions, the grader's output and weights) are covered
by empty read-only directories (a file by an unreadable one); it has no capabilities, even when
bwrap runs as the namespace's root; it keeps the caller's network, which inside the private
namespace of `namespace.py` is a loopback of its own, so it still talks to the harness over
127.0.0.1 and ::1.

    argv = sandbox.wrap(["./server", "--port", "2000"], writable=folder, cwd=folder,
                        hide=[submissions_root, out_dir])

bwrap always forks: the pid of the process it starts is bwrap's, and the program is below it in
the same process group, where the harness's /proc probes find it (`program_pid` too).

By default the program also gets a pid namespace of its own (`private_pids`). Without one it
can name every process of the same user, the harness included, reach their files through
/proc/<pid>/root and /proc/<pid>/cwd, hidden paths included, and (where Yama does not forbid
it) ptrace them; with one it sees only its own processes, while the harness still sees it from
outside under its ordinary pid, in its process group, with its /proc entries readable.
`private_pids=False` gives the layout without it.

The program inherits the caller's environment variables: keep secrets out of them."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

_checked: dict[tuple[str, int], str | None] = {}


def why_unavailable() -> str | None:
    """None when bwrap is installed and can build a sandbox here, else why not, in one line."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bubblewrap (bwrap) is not installed (scripts/bootstrap installs it)"
    key = (_netns(), os.getuid())
    if key not in _checked:
        _checked[key] = _try(bwrap)
    return _checked[key]


def wrap(argv: list[str], *, writable: Path, cwd: Path, hide: list[Path] | tuple = (),
         private_pids: bool = True) -> list[str]:
    """The bwrap command line that runs `argv` in the sandbox, in directory `cwd`."""
    if not argv:
        raise ValueError("nothing to run")
    writable = Path(writable).resolve()
    if not writable.is_dir():
        raise ValueError(f"{writable}: the program's own folder must be an existing directory")
    cwd = Path(cwd).resolve()
    # Run as the namespace's root, bwrap would hand its capabilities on to the program, which
    # could then remount / writable, lift the covers off hidden paths or rewrite the fault rules.
    line = [shutil.which("bwrap") or "bwrap", "--die-with-parent", "--cap-drop", "ALL"]
    if private_pids:
        line.append("--unshare-pid")
    line += ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    # Each mount covers what is below it, so the shallower goes first: the own folder under a
    # hidden one (or under /tmp) is bound again on top, a hidden folder inside the own one
    # stays hidden. At equal depth the own folder comes last and wins.
    mounts: list[tuple[int, int, list[str]]] = [(1, 0, ["--tmpfs", "/tmp"])]
    sealed: list[str] = []  # made read-only last, once the mount points inside them exist
    for path in hide:
        path = Path(path).resolve()
        if path == writable:
            continue
        if path.is_dir():
            mounts.append((len(path.parts), 0, ["--tmpfs", str(path)]))
            sealed.append(str(path))
        elif path.exists():
            mounts.append((len(path.parts), 0, ["--ro-bind", "/dev/null", str(path)]))
    mounts.append((len(writable.parts), 1, ["--bind", str(writable), str(writable)]))
    for _, _, args in sorted(mounts, key=lambda m: (m[0], m[1])):
        line += args
    for path in sealed:
        line += ["--remount-ro", path]
    return line + ["--chdir", str(cwd), "--", *argv]


def program_pid(bwrap_pid: int) -> int | None:
    """The pid (as the caller sees it) of the program bwrap started: the first process below
    bwrap that is no longer bwrap (with `private_pids` there is bwrap's pid-1 reaper between
    them). None until the program is running, and after it ended."""
    pid = bwrap_pid
    for _ in range(3):
        children = _children(pid)
        if not children:
            return None
        pid = min(children)
        if command_name(pid) != "bwrap":
            return pid
    return None


def command_name(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return found


def _netns() -> str:
    try:
        return os.readlink("/proc/self/ns/net")
    except OSError:
        return ""


def _try(bwrap: str) -> str | None:
    probe = Path("/")
    argv = wrap(["true"], writable=probe, cwd=probe)
    argv[argv.index("--bind") : argv.index("--bind") + 3] = []  # the probe needs no own folder
    try:
        done = subprocess.run(argv, capture_output=True, timeout=10, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"bwrap cannot run: {e}"
    if done.returncode != 0:
        said = done.stderr.decode(errors="replace").strip().splitlines()
        last = said[-1] if said else f"exit {done.returncode}"
        return f"bwrap cannot build a sandbox here: {last}"
    return None
