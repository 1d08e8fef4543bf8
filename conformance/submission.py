"""A student's folder with an echo-lab.json: found (at the top or a few folders down, as
students zip them), read as a student's manifest, built, its programs checked; and what went
wrong, in words for the student, when any of that fails. Shared by `autograde` and `check`."""

from __future__ import annotations

import os
from pathlib import Path

from conformance import process, toolchains
from conformance.manifest import MANIFEST_NAME, Implementation, ManifestError, load_manifest

SKIP_DIRS = {"__MACOSX", "node_modules", "target", "build", "__pycache__", "venv", ".venv"}
MAX_DEPTH = 3  # students zip a folder: submission/<folder>/echo-lab.json is common
OUTPUT_LINES = 40  # of a failed build, shown to the student
MANIFEST_HELP = (
    "Put a file named echo-lab.json at the top of your submission. It tells the autograder how to "
    "build and run your program, for example for a Python server:\n\n"
    "{\n"
    '  "language": "python",\n'
    '  "requires": ["python3"],\n'
    '  "implementations": [{\n'
    '    "id": "python-echo-server", "role": "server", "variant": "multi",\n'
    '    "summary": "a thread per connection",\n'
    '    "run": "python3 {dir}/echo_server.py {options} --host {host} --port {port}",\n'
    '    "capabilities": ["concurrent", "half_close", "graceful_stop"]\n'
    "  }]\n"
    "}\n\n"
    "Examples for every language are in the course's autograder README; the fields are described "
    "in conformance/MANIFESTS.md.")


class Problem(Exception):
    """Why the submission cannot be graded, in words for the student."""

    def __init__(self, title: str, message: str):
        super().__init__(message)
        self.title = title
        self.message = message


def prepare(submission: Path, roles: list[str], build_timeout: float = 600.0) -> tuple[Path, list[Implementation]]:
    """Find the submission's echo-lab.json, read it, build what it says, check the artifacts:
    its directory and the programs of the `roles` asked for (every program when none)."""
    manifest_path = find_manifest(submission)
    where = manifest_path.parent
    manifest = read_manifest(manifest_path)
    if manifest.missing:
        raise Problem("toolchain", f"echo-lab.json requires {manifest.missing!r}, which this autograder does "
                      f"not have. Use one of the languages your course allows (or ask your instructor to "
                      f"add {manifest.missing} to setup.sh).")
    chosen = [i for i in manifest.implementations if not roles or i.role in roles]
    if not chosen:
        raise Problem("echo-lab.json", f"echo-lab.json has no {' or '.join(roles)}: this assignment "
                      f"grades a {' and a '.join(roles)}. Add one to \"implementations\" with "
                      f"\"role\": \"{roles[0]}\".")
    if manifest.build:
        build(manifest.build_command(), where, build_timeout)
        manifest = read_manifest(manifest_path)
        chosen = [i for i in manifest.implementations if i.id in {c.id for c in chosen}]
    for impl in chosen:
        missing = [a for a in impl.artifacts if not a.exists()]
        if missing:
            raise Problem("build", f"{impl.id}: the build finished but {relative(missing[0], where)} is not "
                          f"there. Check that the \"build\" command writes the file that \"artifacts\" names.")
    return where, chosen


def find_manifest(submission: Path) -> Path:
    if not submission.is_dir():
        raise Problem("submission", f"There is no submission directory at {submission}.")
    level = [submission]
    for _ in range(MAX_DEPTH + 1):
        found = sorted(d / MANIFEST_NAME for d in level if (d / MANIFEST_NAME).is_file())
        if len(found) > 1:
            raise Problem("echo-lab.json", "More than one echo-lab.json, at the same depth: "
                          + ", ".join(relative(p, submission) for p in found)
                          + ". Submit one, at the top of your submission.")
        if found:
            return found[0]
        level = [c for d in level for c in sorted(d.iterdir()) if c.is_dir() and not c.is_symlink()
                 and c.name not in SKIP_DIRS and not c.name.startswith(".")]
    files = sorted(relative(p, submission) for p in submission.rglob("*") if p.is_file()
                   and not any(part in SKIP_DIRS or part.startswith(".") for part in p.relative_to(submission).parts))
    seen = ", ".join(files[:12]) + (f" and {len(files) - 12} more" if len(files) > 12 else "") if files else "nothing"
    raise Problem("echo-lab.json", f"No echo-lab.json in your submission (it holds: {seen}), so the "
                  f"autograder cannot know how to run your program.\n\n{MANIFEST_HELP}")


def read_manifest(path: Path):
    try:
        return load_manifest(path, path.parent, student=True)
    except ManifestError as e:
        raise Problem("echo-lab.json", "echo-lab.json has problems; fix each of these:\n"
                      + "\n".join(f"  - {m}" for m in e.messages) + "\n\n" + MANIFEST_HELP) from None


def build(command: str, where: Path, timeout: float) -> None:
    """Run the manifest's build in its folder; Problem, with the compiler's last lines, when it
    fails or overruns. The build gets the harness's whole environment (a compiler's caches and
    settings are not what is graded), with the lab's toolchains on PATH."""
    print(f"building: {command}", flush=True)
    env = dict(os.environ, PATH=toolchains.search_path())
    done = process.run(["sh", "-c", command], where, timeout=timeout, env=env)
    output = (done.stdout + done.stderr).decode("utf-8", errors="replace")
    print(output, flush=True)
    if done.killed:
        raise Problem("build", f"The build ({command}) did not finish within {timeout:.0f} s.")
    if done.returncode != 0:
        lines = output.rstrip().splitlines()
        shown = "\n".join(lines[-OUTPUT_LINES:]) or "(it printed nothing)"
        cut = f"(the last {OUTPUT_LINES} of {len(lines)} lines)\n" if len(lines) > OUTPUT_LINES else ""
        raise Problem("build", f"The build failed (exit status {done.returncode}), so nothing could be "
                      f"graded.\ncommand: {command}\n{cut}{shown}\n\nBuild it the same way on your machine, "
                      f"fix the first error above, and submit again.")


def relative(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)
