"""The instructor kit as an instructor would use it: the Gradescope autograder run in a simulated
/autograder layout (the zip unpacked, setup.sh, run_autograder, results.json), the class summary
over a handful of submissions, and the GitHub Classroom workflow's commands.

The sample submissions are the self-test's flawed server (programs/echo_server.py, one flaw
each) with a manifest written here, and the hand-written ones under submissions/."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.cli import parser
from conformance.commands.autograde import possible
from conformance.commands.classroom import GRADER
from conformance.diagnose import DIAGNOSES
from conformance.manifest import default_root, load_manifest
from conformance.stages import BY_ID as STAGES
from conformance.weights import Weights, load_weights

ROOT = default_root()
TESTS = Path(__file__).resolve().parent
KIT = ROOT / "conformance" / "kit"
GRADESCOPE = KIT / "gradescope"
WORKFLOW = KIT / "github-classroom" / "echo-lab.yml"
WEIGHTS = load_weights(GRADESCOPE / "weights.json")
SERVER_POINTS = possible("server", WEIGHTS)
VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}
TOP_KEYS = {"score", "execution_time", "output", "output_format", "visibility", "stdout_visibility", "tests",
            "leaderboard", "extra_data"}
TEST_KEYS = {"name", "number", "score", "max_score", "status", "output", "output_format", "tags", "visibility",
             "extra_data"}
TIMEOUT = 240


def flawed_server(dest: Path, flaw: str) -> Path:
    """A submission: the self-test's server with one flaw, and the manifest a student would write."""
    dest.mkdir(parents=True)
    shutil.copy(TESTS / "programs" / "echo_server.py", dest / "echo_server.py")
    manifest = {"language": "python", "requires": ["python3"], "implementations": [{
        "id": f"python-{flaw}-server", "role": "server", "variant": "multi", "summary": "a thread per connection",
        "run": f"python3 -B {{dir}}/echo_server.py --flaw {flaw} {{options}} --host {{host}} --port {{port}}",
        "capabilities": ["concurrent", "half_close", "graceful_stop"]}]}
    (dest / "echo-lab.json").write_text(json.dumps(manifest, indent=2))
    return dest


def sample(dest: Path, name: str) -> Path:
    shutil.copytree(TESTS / "submissions" / name, dest, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def check_results(data: dict) -> None:
    """Gradescope's results.json specification, and a score that is the sum of the tests'."""
    assert set(data) <= TOP_KEYS and {"score", "output", "tests"} <= set(data)
    assert isinstance(data["score"], (int, float)) and isinstance(data["execution_time"], int)
    assert data.get("visibility", "visible") in VISIBILITIES
    assert data["tests"], "a results.json without tests shows the student nothing"
    for test in data["tests"]:
        assert set(test) <= TEST_KEYS and {"name", "score", "max_score", "status", "output"} <= set(test)
        assert test["status"] in ("passed", "failed") and test["visibility"] in VISIBILITIES
        assert 0 <= test["score"] <= test["max_score"]
        assert isinstance(test["output"], str) and isinstance(test["number"], str)
    assert data["score"] == pytest.approx(sum(t["score"] for t in data["tests"]))


# --- Gradescope ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("zip") / "autograder.zip"
    run = subprocess.run([sys.executable, str(GRADESCOPE / "make-zip"), str(out)], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    return out


class Autograder:
    """/autograder under a temporary directory: the zip unpacked into source/, setup.sh run
    (without apt-get), then run_autograder once per submission."""

    def __init__(self, root: Path, archive: Path):
        self.root = root
        source = root / "source"
        source.mkdir(parents=True)
        shutil.unpack_archive(archive, source, "zip")
        assert {"setup.sh", "run_autograder", "weights.json", "conformance"} <= {p.name for p in source.iterdir()}
        setup = subprocess.run(["bash", str(source / "setup.sh")], env=self.env(ECHO_LAB_SKIP_INSTALL="1"),
                               capture_output=True, text=True, timeout=60)
        assert setup.returncode == 0, setup.stdout + setup.stderr
        assert "runs the harness" in setup.stdout

    def env(self, **extra: str) -> dict:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ECHO_LAB_ROOT")}
        return dict(env, AUTOGRADER_ROOT=str(self.root), **extra)

    def run(self, submission: Path, metadata: dict | None = None, **env: str) -> tuple[dict, str]:
        shutil.rmtree(self.root / "submission", ignore_errors=True)
        shutil.rmtree(self.root / "results", ignore_errors=True)
        shutil.copytree(submission, self.root / "submission")
        if metadata:
            (self.root / "submission_metadata.json").write_text(json.dumps(metadata))
        run = subprocess.run([str(self.root / "source" / "run_autograder")], cwd=self.root, env=self.env(**env),
                             capture_output=True, text=True, timeout=TIMEOUT)
        assert run.returncode == 0, run.stdout + run.stderr
        data = json.loads((self.root / "results" / "results.json").read_text())
        check_results(data)
        return data, run.stdout


@pytest.fixture
def autograder(tmp_path, autograder_zip) -> Autograder:
    return Autograder(tmp_path / "autograder", autograder_zip)


def by_case(data: dict) -> dict[str, dict]:
    return {t["extra_data"]["case"]: t for t in data["tests"]}


def test_gradescope_grades_a_correct_and_a_truncating_server(tmp_path, autograder):
    good, _ = autograder.run(flawed_server(tmp_path / "good", "none"), metadata={"users": [{"name": "Ana"}]})
    assert all(t["status"] == "passed" for t in good["tests"]), good["output"]
    assert good["score"] == SERVER_POINTS == sum(t["max_score"] for t in good["tests"])
    assert good["extra_data"]["echo_lab"]["students"] == ["Ana"]
    tests = by_case(good)
    assert tests["server/launch/sigterm"]["visibility"] == "hidden" and tests["server/launch/sigterm"]["max_score"] == 0
    assert tests["server/reset/mid-stream"]["visibility"] == "after_due_date"
    assert tests["server/stream/1mib"]["max_score"] == 4  # the kit's weights, not the case's default 3
    assert (autograder.root / "results" / "echo-lab" / "python-none-server" / "junit.xml").is_file()

    broken, _ = autograder.run(flawed_server(tmp_path / "broken", "truncate-4096"))
    failed = {case: t for case, t in by_case(broken).items() if t["status"] == "failed"}
    assert set(failed) == {"server/stream/1mib", "server/stream/tail-at-volume", "server/writes/random-chunks",
                           "server/short-writes"}, broken["output"]
    assert broken["score"] == good["score"] - sum(t["max_score"] for t in failed.values())
    assert {t["extra_data"]["diagnosis"] for t in failed.values()} == {"drops-tail"}
    assert broken["output"].startswith("What is wrong, most likely: your server loses the tail")
    assert "the 1044480 bytes from offset 4096 (0x1000) never came" in failed["server/stream/1mib"]["output"]
    # details: false in the kit's weights: the verdict and the sentence, not the bytes
    assert "expected:" not in failed["server/writes/random-chunks"]["output"]
    assert "Half-close" in failed["server/stream/1mib"]["output"]


def test_gradescope_without_a_manifest_scores_0_and_says_what_to_write(tmp_path, autograder):
    data, _ = autograder.run(sample(tmp_path / "s", "no-manifest"))
    assert data["score"] == 0
    (test,) = data["tests"]
    assert test["status"] == "failed" and test["visibility"] == "visible" and test["max_score"] == SERVER_POINTS
    for words in ("No echo-lab.json", "echo_server.py", '"run"', "{host}", "{port}"):
        assert words in test["output"] and words in data["output"]


def test_gradescope_build_failure_scores_0_with_the_compilers_message(tmp_path, autograder):
    data, stdout = autograder.run(sample(tmp_path / "s", "build-fails"))
    assert data["score"] == 0
    (test,) = data["tests"]
    assert test["status"] == "failed" and test["visibility"] == "visible"
    if shutil.which("cc"):
        assert "The build failed (exit status" in test["output"]
        assert "echo_server.c:5" in test["output"]  # the line of the missing semicolon
        assert "cc -o" in stdout  # the instructor's log shows the command
    else:
        assert "requires 'cc'" in test["output"]


# --- the autograde command's other refusals (no layout needed) ---------------------------------

def autograde(tmp_path: Path, submission: Path, *extra: str) -> tuple[subprocess.CompletedProcess, dict]:
    results = tmp_path / "results.json"
    run = subprocess.run([sys.executable, "-m", "conformance", "autograde", str(submission), "--results-json",
                          str(results), "--out", str(tmp_path / "out"), *extra], cwd=ROOT, capture_output=True,
                         text=True, timeout=TIMEOUT)
    data = json.loads(results.read_text())
    check_results(data)
    return run, data


def test_autograde_names_every_problem_of_a_manifest(tmp_path):
    submission = tmp_path / "s"
    submission.mkdir()
    (submission / "echo-lab.json").write_text(json.dumps({"language": "python", "implementations": [{
        "id": "echo-server", "role": "server", "variant": "multi", "summary": "x",
        "run": "python3 s.py --host {host} --port {prot}"}]}))
    run, data = autograde(tmp_path, submission)
    assert run.returncode == 2 and data["score"] == 0
    output = data["tests"][0]["output"]
    assert "must start with the language: 'python-'" in output and "unknown placeholder {prot}" in output


def test_autograde_a_client_only_submission_for_a_server_assignment(tmp_path):
    run, data = autograde(tmp_path, sample(tmp_path / "s", "quiet-client"), "--roles", "server")
    assert run.returncode == 2 and data["score"] == 0
    assert 'has no server' in data["output"] and '"role": "server"' in data["output"]


def test_autograde_finds_the_manifest_in_a_zipped_folder(tmp_path):
    flawed_server(tmp_path / "s" / "my-lab", "none")
    run, data = autograde(tmp_path, tmp_path / "s", "--cases", "server/bytes/single")
    assert run.returncode == 0, run.stdout + run.stderr
    assert [t["extra_data"]["case"] for t in data["tests"]] == ["server/bytes/single"]


def test_a_stage_as_the_assignment_grades_that_stage_alone(tmp_path, autograder):
    """--stage (and ECHO_LAB_STAGE in the Gradescope kit): only the stage's cases, out of the
    stage's points; a server that serves one client at a time passes echo-server and fails
    multi-server."""
    stage = STAGES["echo-server"]
    weights = Weights(stage=stage.id)
    one_client = tmp_path / "one"
    one_client.mkdir()
    shutil.copy(TESTS / "students" / "one_at_a_time.py", one_client / "server.py")
    program = {"id": "python-iterative-server", "role": "server", "variant": "iterative", "summary": "one at a time",
               "run": "python3 -B {dir}/server.py {options} --host {host} --port {port}"}
    manifest = {"language": "python", "requires": ["python3"], "implementations": [program]}
    (one_client / "echo-lab.json").write_text(json.dumps(manifest))
    run, data = autograde(tmp_path / "a", one_client, "--stage", "echo-server")
    cases = {t["extra_data"]["case"] for t in data["tests"]}
    assert run.returncode == 0 and data["score"] == possible("server", weights) > 0, data["output"]
    assert cases and all(any(c == p or c.startswith(p + "/") for p in stage.cases) for c in cases), cases
    run, data = autograde(tmp_path / "b", one_client, "--stage", "multi-server")
    assert run.returncode == 1 and data["score"] < possible("server", Weights(stage="multi-server"))
    assert {t["extra_data"]["case"].split("/")[1] for t in data["tests"]} == {"concurrent"}
    graded, _ = autograder.run(one_client, ECHO_LAB_STAGE="multi-server")
    assert {t["extra_data"]["case"] for t in graded["tests"]} == {t["extra_data"]["case"] for t in data["tests"]}
    weights_file = tmp_path / "w.json"
    weights_file.write_text('{"stage": "careful-server"}')
    run, data = autograde(tmp_path / "c", one_client, "--stage", "echo-server", "--weights", str(weights_file))
    assert run.returncode == 2 and "disagree" in data["output"] and data["score"] == 0


def test_autograde_with_broken_weights_still_writes_results(tmp_path):
    weights = tmp_path / "weights.json"
    weights.write_text('{"cases": {"server/*": {"weight": -1}}}')
    run, data = autograde(tmp_path, tmp_path, "--weights", str(weights))
    assert run.returncode == 2 and data["score"] == 0
    assert "weight: must be a number >= 0" in data["output"]


def running(marker: str) -> list[str]:
    """Command lines of live processes that contain `marker`."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            words = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if any(marker.encode() in w for w in words) and b"pytest" not in words[0:3]:
            found.append(b" ".join(words).decode(errors="replace"))
    return found


def test_autograde_stops_a_build_or_a_grade_that_overruns(tmp_path):
    submission = tmp_path / "s"
    submission.mkdir()
    (submission / "stuck.py").write_text("import time\ntime.sleep(60)\n")
    manifest = {"language": "python", "requires": ["python3"], "build": "sleep 97.531 & sleep 97.531",
                "implementations": [{"id": "python-stuck-server", "role": "server", "variant": "multi",
                                     "summary": "never ready",
                                     "run": "python3 {dir}/stuck.py {options} --host {host} --port {port}"}]}
    (submission / "echo-lab.json").write_text(json.dumps(manifest))
    run, data = autograde(tmp_path / "build", submission, "--build-timeout", "1")
    assert run.returncode == 2 and "did not finish within 1 s" in data["output"]
    assert not running("97.531"), "the build was left running"
    del manifest["build"]
    (submission / "echo-lab.json").write_text(json.dumps(manifest))
    run, data = autograde(tmp_path / "grade", submission, "--grade-timeout", "3")
    (test,) = data["tests"]
    assert run.returncode == 1 and "took longer than 3 s and was stopped" in test["output"]
    assert test["extra_data"]["diagnosis"] == "hangs" and test["max_score"] > 0 == data["score"]
    assert not running(str(submission / "stuck.py")), "the student's program was left running"


def test_autograde_rejects_an_unknown_role():
    run = subprocess.run([sys.executable, "-m", "conformance", "autograde", ".", "--results-json", "/dev/null",
                          "--roles", "sever"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "unknown role 'sever'" in run.stderr


def test_readme_manifest_examples_are_valid(tmp_path):
    """Every echo-lab.json the kit's README shows students passes the harness's own checks."""
    blocks = re.findall(r"```json\n(.*?)```", (GRADESCOPE / "README.md").read_text(), re.S)
    languages = set()
    for number, block in enumerate(blocks):
        where = tmp_path / str(number)
        where.mkdir()
        (where / "echo-lab.json").write_text(block)
        languages.add(load_manifest(where / "echo-lab.json", where).language)
    assert {"python", "c", "cpp", "java", "go", "rust", "node"} <= languages


# --- the class summary -----------------------------------------------------------------------

CLASS = {
    "ana": lambda d: flawed_server(d, "none"),
    "bo": lambda d: flawed_server(d, "truncate-4096"),
    "cy": lambda d: flawed_server(d, "drop-tail"),
    "di": lambda d: flawed_server(d, "reset-on-close"),
    "ed": lambda d: sample(d, "line-server"),
    "fay": lambda d: sample(d, "quiet-client"),
    "gil": lambda d: sample(d, "no-manifest"),
}


@pytest.fixture(scope="module")
def class_results(tmp_path_factory) -> Path:
    """One results.json per student, written by the same autograde the kit runs; the students
    are graded at the same time (most of the wait is broken servers' timeouts)."""
    top = tmp_path_factory.mktemp("class")
    running_grades = {}
    try:
        for name, make in CLASS.items():
            submission = make(top / "submissions" / name)
            running_grades[name] = subprocess.Popen(
                [sys.executable, "-m", "conformance", "autograde", str(submission), "--weights",
                 str(GRADESCOPE / "weights.json"), "--results-json", str(top / "results" / name / "results.json"),
                 "--out", str(top / "out" / name), "--seed", "20240601"],
                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for name, grade in running_grades.items():
            output, _ = grade.communicate(timeout=TIMEOUT)
            assert (top / "results" / name / "results.json").is_file(), output
    finally:
        for grade in running_grades.values():
            if grade.poll() is None:
                grade.terminate()
                grade.wait(10)
    return top / "results"


def class_summary(*args: str) -> subprocess.CompletedProcess:
    run = subprocess.run([sys.executable, "-m", "conformance", "class", *args], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    return run


def test_class_summary_groups_students_by_diagnosis(class_results):
    data = json.loads(class_summary(str(class_results), "--json").stdout)
    groups = {g["diagnosis"]: set(g["students"]) for g in data["diagnoses"]}
    assert groups["rst-instead-of-fin"] == {"di"}
    assert groups["waits-for-newline"] == {"ed"}
    assert groups["refused-exit-0"] == {"fay"}
    assert groups["not-graded"] == {"gil"}
    assert groups["drops-tail"] == {"bo"} and groups["holds-bytes"] == {"cy"}
    assert not any("ana" in students for students in groups.values())
    students = {s["name"]: s for s in data["students"]}
    assert set(students) == set(CLASS)
    assert students["ana"]["score"] == students["ana"]["possible"] == SERVER_POINTS
    assert students["ana"]["percent"] == 100
    assert students["fay"]["possible"] != SERVER_POINTS and students["fay"]["percent"] is not None
    assert students["bo"]["results"]["server/stream/1mib"] == "FAIL"
    assert students["bo"]["results"]["server/bytes/single"] == "PASS"
    dist = data["distribution"]
    assert dist["count"] == len(CLASS) and dist["max"] == 100 and dist["min"] == 0
    assert sum(b["count"] for b in dist["histogram"]) == len(CLASS)
    # the most common failure first
    sizes = [len(g["students"]) for g in data["diagnoses"]]
    assert sizes == sorted(sizes, reverse=True)


def test_class_summary_text_markdown_csv_and_html(class_results, tmp_path):
    text = class_summary(*(str(p) for p in sorted(class_results.glob("*/results.json")))).stdout
    assert "closes connections with RST instead of FIN" in text and "(1 student: di)" in text
    assert "your client exits 0 when it cannot connect (1 student: fay)" in text
    points = f"{SERVER_POINTS:g}"
    assert re.search(rf"^  ana\s+100% \({points}/{points}\)\s+\.", text, re.M), text
    markdown = class_summary(str(class_results), "--markdown").stdout
    assert markdown.startswith("# Echo Lab: class summary")
    assert "echoes whole lines only" in markdown and "(1 student: ed)**" in markdown
    assert re.search(rf"^\| bo \| \d+(\.\d)?% \(\d+/{points}\) \|", markdown, re.M), markdown
    class_summary(str(class_results), "--csv", str(tmp_path / "class.csv"), "--html", str(tmp_path / "page"))
    rows = (tmp_path / "class.csv").read_text().splitlines()
    assert rows[0].startswith("student,percent,score,possible,diagnoses") and len(rows) == len(CLASS) + 1
    page = (tmp_path / "page" / "class.html").read_text()
    for name in CLASS:
        assert f">{name}<" in page
    links = re.findall(r"href='([^']+)'", page)
    assert len(links) == len(CLASS), "every student, the ungraded one too, links to a report"
    for link in links:
        assert (tmp_path / "page" / link).resolve().is_file(), link


def test_class_summary_rejects_what_is_not_results(tmp_path):
    (tmp_path / "notes.json").write_text('{"hello": 1}')
    run = subprocess.run([sys.executable, "-m", "conformance", "class", str(tmp_path)], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "no results.json files" in run.stderr
    run = subprocess.run([sys.executable, "-m", "conformance", "class", str(tmp_path / "missing")], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "no such file or directory" in run.stderr


# --- GitHub Classroom ------------------------------------------------------------------------

def parse_yaml(text: str):
    """The block-style YAML subset the workflow is written in: mappings, lists of mappings,
    plain and quoted scalars, `|` blocks. Anything else fails the test."""
    assert "\t" not in text, "YAML forbids tabs for indentation"
    lines = [(len(raw) - len(raw.lstrip()), raw.strip(), raw) for raw in text.splitlines()
             if raw.strip() and not raw.strip().startswith("#")]

    def block(i: int, indent: int):
        if lines[i][1].startswith("- "):
            items = []
            while i < len(lines) and lines[i][0] == indent and lines[i][1].startswith("- "):
                lines[i] = (indent + 2, lines[i][1][2:], lines[i][2])
                item, i = block(i, indent + 2)
                items.append(item)
            return items, i
        mapping = {}
        while i < len(lines) and lines[i][0] == indent and not lines[i][1].startswith("- "):
            key, colon, rest = lines[i][1].partition(":")
            assert colon and key and key not in mapping, f"not a new key: {lines[i][2]!r}"
            rest, i = rest.strip(), i + 1
            if rest == "|":
                start = i
                while i < len(lines) and lines[i][0] > indent:
                    i += 1
                mapping[key] = "\n".join(raw[lines[start][0]:] for _, _, raw in lines[start:i]) + "\n"
            elif rest:
                mapping[key] = rest[1:-1] if rest[0] in "'\"" and rest[-1] == rest[0] else rest
            elif i < len(lines) and lines[i][0] > indent:
                mapping[key], i = block(i, lines[i][0])
            else:
                mapping[key] = None
        return mapping, i

    data, end = block(0, 0)
    assert end == len(lines), f"unparsed from line {lines[end][2]!r}"
    return data


def workflow_commands(script: str, env: dict[str, str]) -> list[list[str]]:
    """Each command of a step's script, its words as bash expands them with the workflow's
    variables (the ones the runner sets, like $GITHUB_STEP_SUMMARY, left as written)."""
    env = dict(env, GITHUB_STEP_SUMMARY="$GITHUB_STEP_SUMMARY", PATH=os.environ["PATH"])
    commands = []
    for line in script.replace("\\\n", " ").splitlines():
        if line.strip():
            words = subprocess.run(["bash", "-c", f"printf '%s\\0' {line}"], env=env, capture_output=True,
                                   text=True, timeout=10, check=True).stdout
            commands.append(words.split("\0")[:-1])
    return commands


def test_classroom_workflow_is_well_formed_and_its_commands_exist():
    flow = parse_yaml(WORKFLOW.read_text())
    assert set(flow["on"]) >= {"push"} and flow["jobs"]["grade"]["runs-on"] == "ubuntu-latest"
    steps = flow["jobs"]["grade"]["steps"]
    harness = next(s for s in steps if s.get("with", {}).get("path") == "echo-lab")
    assert harness["uses"].startswith("actions/checkout@")
    assert harness["with"]["sparse-checkout"].split() == ["conformance", "cpp/tools"]
    shim = next(s for s in steps if "short_io_shim" in s.get("run", ""))
    for word in shim["run"].split():
        if word.startswith("echo-lab/cpp/"):
            assert (ROOT / word.removeprefix("echo-lab/")).is_file(), f"{word} is not in the repository"
    assert any(s.get("with", {}).get("path") == "submission" for s in steps)
    grade = next(s for s in steps if "conformance autograde" in s.get("run", ""))
    assert grade["env"]["PYTHONPATH"] == "echo-lab"
    (command,) = workflow_commands(grade["run"], flow["env"])
    assert command[:3] == ["python3", "-m", "conformance"]
    args = parser().parse_args(command[3:])
    assert args.command == "autograde" and args.submission == Path("submission")
    assert args.roles == flow["env"]["ECHO_LAB_ROLES"].split(",") and args.stage is None
    (staged,) = workflow_commands(grade["run"], dict(flow["env"], ECHO_LAB_STAGE="careful-server", ECHO_LAB_ROLES=""))
    assert parser().parse_args(staged[3:]).stage == "careful-server" and "--roles" not in staged
    for word in command:
        if word.startswith("echo-lab/"):
            assert (ROOT / word.removeprefix("echo-lab/")).exists(), f"{word} is not in the repository"
    assert args.summary == Path("$GITHUB_STEP_SUMMARY")
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["if"] == "always()" and upload["with"]["path"].rstrip("/") == str(args.out)


def test_classroom_workflow_grade_step_runs(tmp_path):
    """The Grade step's script, run as the runner would: the score lands in the job summary and
    the reports in the artifact's directory."""
    flow = parse_yaml(WORKFLOW.read_text())
    grade = next(s for s in flow["jobs"]["grade"]["steps"] if "conformance autograde" in s.get("run", ""))
    flawed_server(tmp_path / "submission", "none")
    (tmp_path / "echo-lab").symlink_to(ROOT)
    summary = tmp_path / "summary.md"
    env = {k: v for k, v in os.environ.items() if k != "ECHO_LAB_ROOT"}
    env.update(flow["env"], **grade["env"], GITHUB_STEP_SUMMARY=str(summary))
    run = subprocess.run(["bash", "-e", "-c", grade["run"]], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=TIMEOUT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert summary.read_text().startswith(f"## Echo Lab: {SERVER_POINTS:g} of {SERVER_POINTS:g} points")
    report = tmp_path / "echo-lab-report"
    check_results(json.loads((report / "results.json").read_text()))
    assert (report / "python-none-server" / "junit.xml").is_file()
    assert (report / "python-none-server" / "report.html").is_file()


# --- the instructor guide --------------------------------------------------------------------

def test_instructor_guide_matches_the_kit():
    """The guide's worked example is the kit's weights file, with the points it gives, and its
    table explains every diagnosis the summary can show."""
    guide = (ROOT / "lab-guides" / "instructor.md").read_text()
    shown = re.search(r"```json\n(.*?)```", guide, re.S).group(1)
    assert json.loads(shown) == json.loads((GRADESCOPE / "weights.json").read_text())
    server, client = possible("server", WEIGHTS), possible("client", WEIGHTS)
    assert f"can earn {server:g} points" in guide and f"A client can earn {client:g}" in guide
    documented = set(re.findall(r"^\| `([a-z0-9-]+)` \|", guide, re.M))
    assert documented == set(DIAGNOSES) | set(GRADER)
