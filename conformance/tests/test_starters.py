"""Every starter of the staged lab, as a student meets it: `new` copies it, the unmodified copy
fails its stage with a message that says what to write first, and the copy with the solution
applied (conformance/tests/solutions/<stage>/<language>.patch, the lines it changes in the
starter) passes the stage. A language
whose toolchain is missing here is skipped with the reason, never passed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conformance.manifest import default_root, load_manifest
from conformance.stages import LANGUAGES, STAGES, starter

ROOT = default_root()
SOLUTIONS = Path(__file__).resolve().parent / "solutions"
PAIRS = [(s.id, lang) for s in STAGES for lang in LANGUAGES]
TIMEOUT = 600


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "conformance", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=TIMEOUT)


def test_every_stage_has_a_starter_and_a_solution_in_every_language():
    missing = [f"{stage}/{lang}" for stage, lang in PAIRS
               if not (starter(ROOT, next(s for s in STAGES if s.id == stage), lang) / "echo-lab.json").is_file()
               or not (SOLUTIONS / stage / f"{lang}.patch").is_file()]
    assert not missing, f"no starter or no solution for: {', '.join(missing)}"


@pytest.mark.parametrize("stage, language", PAIRS, ids=[f"{s}-{lang}" for s, lang in PAIRS])
def test_a_starter_fails_its_stage_until_it_is_written(stage, language, tmp_path):
    source = starter(ROOT, next(s for s in STAGES if s.id == stage), language)
    manifest = load_manifest(source / "echo-lab.json", source, student=True)
    if manifest.missing:
        pytest.skip(f"{manifest.missing} not found on PATH")
    work = tmp_path / "my-program"
    made = cli("new", stage, language, str(work))
    assert made.returncode == 0 and f"check {stage} {work}" in made.stdout, made.stdout + made.stderr

    unmodified = cli("check", stage, str(work), "--fail-fast", "--out", str(tmp_path / "unmodified"))
    assert unmodified.returncode == 1, f"the unmodified {language} starter passes {stage}:\n{unmodified.stdout}"
    assert "Write this first:" in unmodified.stdout, unmodified.stdout + unmodified.stderr

    with open(SOLUTIONS / stage / f"{language}.patch", "rb") as solution:
        applied = subprocess.run(["patch", "-p1", "-d", str(work)], stdin=solution, capture_output=True, timeout=30)
    assert applied.returncode == 0, f"the solution no longer applies to the starter:\n{applied.stdout.decode()}"
    solved = cli("check", stage, str(work), "--out", str(tmp_path / "solved"))
    assert solved.returncode == 0 and f"Stage {stage} passed." in solved.stdout, solved.stdout + solved.stderr
