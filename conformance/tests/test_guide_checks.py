r"""Every exercise check in the lab guides gives what its guide says.

A guide marks an exercise's check with a tag on the line before an `sh` code block, which is
the command, shown to the student as the command to type:

    <!-- check -->
    ```sh
    python3 -m conformance grade --server '...' --cases server/reset
    ```
    <!-- expect: exit 1; contains "FAIL              0/2  server/reset/mid-stream" -->

The expect tag on the line after the block (HTML comments: GitHub does not render them) says
what that command must give. A check whose command the student need not see may instead carry
it in the tag, `<!-- check: COMMAND -->`, with its expect tag on the next line.

Clauses are separated by `;` or new lines, values are quoted as in a shell:

    exit N          the exit status (without an expect tag, a check must exit 0)
    contains "T"    T occurs in the output (stdout and stderr as a terminal shows them), runs of
                    spaces counted as one
    lacks "T"       T does not occur in it
    matches "RE"    the Python regular expression RE matches somewhere in the output, for figures
                    that vary from run to run (`Rust std threads: [\d,]{5,} echoes/s`)
    output below    the next fenced code block in the guide is the output, line by line
                    (a line `...` stands for any number of lines)
    shown           the ```sh block right before the check tag is the check command itself
    setup "CMD"     run CMD first, as the student did earlier in the exercise; CMD must be a
                    line of a code block above the check, so the two cannot drift apart
    needs PROGRAM   skip, with the reason, when PROGRAM is not on PATH; a check that runs
                    `julia`, `java` or `node`, or a `.jl` file, needs that program without saying so
    timeout N       seconds before the check is killed (default 120)

Outputs are compared after ports, seeds and times are normalized (`:40213` and `:2000` both read
`:PORT`, `seed 862` reads `seed N`, `in 0.4 s` reads `in T s`): nothing else may differ.

A `python3 -m conformance grade` check must also grade something: one whose --cases select
nothing, or only cases the program does not support, fails (a renamed case cannot pass quietly).

Each check runs with `sh -c` from the repository root on a built tree (`make build peers`), in
guide order, as a student would type it, in a process group of its own that is killed when it
ends or times out; a failure names the guide, the line and the difference.
"""

from __future__ import annotations

import difflib
import os
import re
import shlex
import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conformance.process import kill_group

ROOT = Path(__file__).resolve().parents[2]
GUIDES = sorted((ROOT / "lab-guides").glob("*.md"))
DEFAULT_TIMEOUT = 120.0

CHECK = re.compile(r"^<!--\s*check(?::\s*(?P<command>.+?))?\s*-->\s*$")
EXPECT_START = re.compile(r"^<!--\s*expect:(?P<rest>.*)$")
FENCE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})(?P<info>.*)$")


class TagError(Exception):
    """A check or expect tag that cannot be understood."""


@dataclass
class Check:
    guide: Path
    line: int                    # 1-based line of the check tag
    command: str
    exit: int = 0
    contains: list[str] = field(default_factory=list)
    lacks: list[str] = field(default_factory=list)
    matches: list[str] = field(default_factory=list)
    output: list[str] | None = None   # the expected output block's lines
    output_line: int = 0              # where that block starts
    setup: list[str] = field(default_factory=list)
    needs: list[str] = field(default_factory=list)
    timeout: float = DEFAULT_TIMEOUT

    @property
    def where(self) -> str:
        try:
            name = self.guide.relative_to(ROOT)
        except ValueError:
            name = self.guide
        return f"{name}:{self.line}"


# --- reading the tags --------------------------------------------------------------------------

def fenced_blocks(lines: list[str]) -> list[tuple[int, int, str]]:
    """(first content line, closing fence line, info string) of every fenced block, 0-based."""
    blocks, i = [], 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        fence = opening["fence"]
        close = i + 1
        while close < len(lines) and not closes(lines[close], fence):
            close += 1
        blocks.append((i + 1, close, opening["info"].strip()))
        i = close + 1
    return blocks


def closes(line: str, fence: str) -> bool:
    text = line.strip()
    return len(text) >= len(fence) and text == fence[0] * len(text)


def clauses(text: str, where: str) -> list[list[str]]:
    """The clauses of an expect tag's body, each split into words like a shell would."""
    out = []
    for line in text.splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";")
        lexer.whitespace_split = True
        try:
            words = list(lexer)
        except ValueError as e:
            raise TagError(f"{where}: expect: {e}") from None
        clause: list[str] = []
        for word in words + [";"]:
            if word == ";":
                if clause:
                    out.append(clause)
                clause = []
            else:
                clause.append(word)
    return out


def read_checks(guide: Path) -> list[Check]:
    """Every check of one guide, in order, with its expectations. Raises TagError."""
    lines = guide.read_text(encoding="utf-8").splitlines()
    blocks = fenced_blocks(lines)
    inside = {n for start, end, _ in blocks for n in range(start - 1, end + 1)}
    checks = []
    for number, text in enumerate(lines):
        tag = CHECK.match(text)
        if number in inside or not tag:
            continue
        check = Check(guide, number + 1, tag["command"] or "")
        where = check.where
        after = number + 1
        if tag["command"] is None:  # the visible form: the next block is the command
            block = next((b for b in blocks if b[0] == number + 2), None)
            if block is None or block[2] != "sh":
                raise TagError(f"{where}: <!-- check --> must be followed at once by an ```sh block, the command")
            start, end, _ = block
            # lines ending in a backslash continue; other lines are commands of their own
            check.command = "\n".join(lines[start:end]).replace("\\\n", " ")
            after = end + 1
        expect = EXPECT_START.match(lines[after]) if after < len(lines) else None
        if expect:
            body, end = [expect["rest"]], after
            while "-->" not in body[-1]:
                end += 1
                if end >= len(lines):
                    raise TagError(f"{where}: the expect tag is never closed with -->")
                body.append(lines[end])
            body[-1] = body[-1][:body[-1].index("-->")]
            for clause in clauses("\n".join(body), where):
                apply(check, clause, lines, blocks, number, end, where)
        check.needs += [p for p in implied_needs(check.command) if p not in check.needs]
        checks.append(check)
    return checks


RUNTIME = re.compile(r"(?:^|[\s'\"(;&|])(julia|java|node)(?=\s)")


def implied_needs(command: str) -> list[str]:
    """The interpreters a command runs (julia, java, node), so that a machine without one skips
    the check with the reason instead of failing it."""
    needs = list(dict.fromkeys(RUNTIME.findall(command)))
    if re.search(r"\.jl\b", command) and "julia" not in needs:
        needs.append("julia")
    return needs


def apply(check: Check, clause: list[str], lines, blocks, tag_at: int, expect_end: int, where: str) -> None:
    key, values = clause[0], clause[1:]

    def one() -> str:
        if len(values) != 1:
            raise TagError(f"{where}: expect: {key} takes one value, got {values}")
        return values[0]

    if key == "exit":
        if not one().isdigit():
            raise TagError(f"{where}: expect: exit takes a number, got {values[0]!r}")
        check.exit = int(values[0])
    elif key == "contains":
        check.contains.append(one())
    elif key == "lacks":
        check.lacks.append(one())
    elif key == "matches":
        try:
            re.compile(one())
        except re.error as e:
            raise TagError(f"{where}: expect: matches {values[0]!r}: {e}") from None
        check.matches.append(values[0])
    elif key == "needs":
        check.needs.append(one())
    elif key == "timeout":
        check.timeout = float(one())
    elif key == "setup":
        command = one()
        above = [lines[n].strip() for start, end, _ in blocks if end < tag_at for n in range(start, end)]
        if command.strip() not in above:
            raise TagError(f"{where}: expect: setup {command!r} is not a line of any code block above "
                           f"the check, so the student never ran it")
        check.setup.append(command)
    elif clause == ["output", "below"]:
        following = [b for b in blocks if b[0] > expect_end + 1]
        if not following or any(lines[n].strip() for n in range(expect_end + 1, following[0][0] - 1)):
            raise TagError(f"{where}: expect: output below, but no code block follows the tag")
        start, end, _ = following[0]
        check.output, check.output_line = lines[start:end], start + 1
    elif clause == ["shown"]:
        before = [b for b in blocks if b[1] < tag_at]
        if not before or any(lines[n].strip() for n in range(before[-1][1] + 1, tag_at)):
            raise TagError(f"{where}: expect: shown, but no code block comes right before the check")
        start, end, _ = before[-1]
        shown = " ".join(line.rstrip("\\").strip() for line in lines[start:end])
        if " ".join(shown.split()) != " ".join(check.command.split()):
            raise TagError(f"{where}: the command shown above the check is not the check's command:\n"
                           f"  shown: {shown}\n  check: {check.command}")
    else:
        raise TagError(f"{where}: expect: unknown clause {' '.join(clause)!r} (exit, contains, lacks, matches, "
                       f"output below, shown, setup, needs, timeout)")


# --- comparing ---------------------------------------------------------------------------------

NORMALIZE = [
    (re.compile(r"(?<=[0-9\]]):\d{1,5}\b"), ":PORT"),           # [::1]:40213, 127.0.0.1:2000
    (re.compile(r"\b(seed:?\s+)\d+"), r"\1N"),                   # seed 862, --seed 862, seed:   7
    (re.compile(r"\b\d+(\.\d+)?(\s?)(s|ms)\b"), r"T\2\3"),      # in 0.4 s, 12.5s, 3 ms
    (re.compile(r"\b\d+m\d+\.\d+s\b"), "T"),                     # real 0m0.003s
]


def normalize(text: str) -> str:
    for pattern, replacement in NORMALIZE:
        text = pattern.sub(replacement, text)
    return text


def squeeze(text: str) -> str:
    return " ".join(normalize(text).split())


def output_difference(expected: list[str], actual: list[str]) -> str | None:
    """None when `actual` matches `expected` (with `...` lines as gaps), else a diff."""
    want = [normalize(line).rstrip() for line in expected]
    have = [normalize(line).rstrip() for line in actual]
    while have and not have[-1]:
        have.pop()
    if matches(want, have):
        return None
    return "\n".join(difflib.unified_diff(want, have, "the guide", "the command", lineterm="", n=2))


def matches(want: list[str], have: list[str]) -> bool:
    if not want:
        return not have
    if want[0] == "...":
        return any(matches(want[1:], have[k:]) for k in range(len(have) + 1))
    return bool(have) and want[0] == have[0] and matches(want[1:], have[1:])


OUTCOME = re.compile(r"^  (PASS|FAIL|NON-STRICT|EXPECTED-FAIL|UNSUPPORTED|SKIPPED|ERROR) ", re.M)


def problems(check: Check, status: int, output: str) -> list[str]:
    """Every way the command's result differs from what the guide says."""
    found = []
    if status != check.exit:
        found.append(f"exit status {status}, the guide says {check.exit}")
    flat = squeeze(output)
    for text in check.contains:
        if squeeze(text) not in flat:
            found.append(f"the output lacks {text!r}")
    for text in check.lacks:
        if squeeze(text) in flat:
            found.append(f"the output contains {text!r}")
    for pattern in check.matches:
        if not re.search(pattern, output, re.M):
            found.append(f"nothing in the output matches {pattern!r}")
    graded = OUTCOME.findall(output)
    if "Echo Lab grade for" in output and not set(graded) - {"UNSUPPORTED", "SKIPPED"}:
        found.append("no case was graded: its --cases select nothing, or only cases it does not support")
    if check.output is not None:
        diff = output_difference(check.output, output.splitlines())
        if diff:
            found.append(f"the output differs from the block at line {check.output_line}:\n{diff}")
    return found


# --- running -----------------------------------------------------------------------------------

def run_shell(command: str, timeout: float) -> tuple[int | None, str]:
    """Runs `command` with sh from the repository root in its own process group, which is killed
    when the command ends or times out, so nothing it started outlives it. Returns the status
    (None on a timeout) and its output: stdout and stderr in one stream, in the order written, as
    a terminal shows them."""
    process = subprocess.Popen(["sh", "-c", command], cwd=ROOT, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    status: int | None = None
    try:
        out, _ = process.communicate(timeout=timeout)
        status = process.returncode
    except subprocess.TimeoutExpired:
        # SIGTERM first: the harness stops the programs it started (each in a session of its
        # own, out of this group's reach) before it exits.
        signal_group(process.pid, signal.SIGTERM)
        try:
            out, _ = process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            pass
    finally:
        kill_group(process)  # only while the group's id is still ours (see conformance/process.py)
    if status is None:
        out, _ = process.communicate()
    return status, out.decode(errors="replace")


def signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        pass


def all_checks() -> tuple[list[Check], list[str]]:
    """Every check of every guide, and the tag errors of the guides that could not be read."""
    checks, errors = [], []
    for guide in GUIDES:
        try:
            checks += read_checks(guide)
        except TagError as e:
            errors.append(str(e))
    return checks, errors


def check_id(check: Check) -> str:
    return f"{check.guide.name}:{check.line}"


CHECKS, TAG_ERRORS = all_checks()


def test_every_check_tag_can_be_read():
    assert not TAG_ERRORS, "\n".join(TAG_ERRORS)


@pytest.mark.parametrize("check", CHECKS, ids=check_id)
def test_guide_check(check: Check):
    missing = [program for program in check.needs if shutil.which(program) is None]
    if missing:
        pytest.skip(f"{check.where}: {', '.join(missing)} not found on PATH")
    for command in check.setup:
        status, output = run_shell(command, check.timeout)
        assert status == 0, f"{check.where}: setup {command!r} exited {status}:\n{output}"
    status, output = run_shell(check.command, check.timeout)
    if status is None:
        pytest.fail(f"{check.where}: {check.command}\n  did not finish within {check.timeout:g} s "
                    f"(killed)\n{output}", pytrace=False)
    found = problems(check, status, output)
    if found:
        pytest.fail(f"{check.where}: {check.command}\n  " + "\n  ".join(found)
                    + f"\n--- what it printed ---\n{output}", pytrace=False)


# --- the tags and the comparison can fail ----------------------------------------------------------

def guide_with(tmp_path: Path, text: str) -> Path:
    guide = tmp_path / "01-a.md"
    guide.write_text(text, encoding="utf-8")
    return guide


def test_tags_are_read_with_their_expectations(tmp_path):
    guide = guide_with(tmp_path, """# A

```sh
printf 'x; y\\n' > /tmp/x
```

<!-- check: sh -c 'exit 3' -->
<!-- expect: exit 3; contains "a; b"
lacks "FAIL   x"; setup "printf 'x; y\\n' > /tmp/x"; needs julia; timeout 5 -->

```
<!-- check: inside a block, not a tag -->
```

<!-- check: echo one -->
<!-- expect: output below -->
```
one
```
""")
    first, second = read_checks(guide)
    assert (first.line, first.command, first.exit) == (7, "sh -c 'exit 3'", 3)
    assert first.contains == ["a; b"] and first.lacks == ["FAIL   x"]
    assert first.setup == ["printf 'x; y\\n' > /tmp/x"]
    assert (first.needs, first.timeout) == (["julia"], 5.0)
    assert (second.command, second.exit, second.output, second.output_line) == ("echo one", 0, ["one"], 18)


def test_a_visible_check_is_the_sh_block_after_its_tag(tmp_path):
    guide = guide_with(tmp_path, """# A

<!-- check -->
```sh
python3 -m conformance check echo-server \\
    my-server
```
<!-- expect: exit 1; contains "Write this first" -->
""")
    (check,) = read_checks(guide)
    assert check.command == "python3 -m conformance check echo-server      my-server"
    assert (check.exit, check.contains) == (1, ["Write this first"])
    (tmp_path / "b").mkdir()
    broken = guide_with(tmp_path / "b", "# B\n\n<!-- check -->\nthe command is missing\n")
    with pytest.raises(TagError, match="must be followed at once by an ```sh block"):
        read_checks(broken)


@pytest.mark.parametrize("tag, message", [
    ("<!-- expect: exit one -->", "exit takes a number"),
    ("<!-- expect: matches \"(unclosed\" -->", "missing \\), unterminated subpattern"),
    ("<!-- expect: rings twice -->", "unknown clause 'rings twice'"),
    ("<!-- expect: setup \"rm -rf /tmp/x\" -->", "is not a line of any code block above"),
    ("<!-- expect: output below -->", "no code block follows"),
    ("<!-- expect: shown -->", "no code block comes right before"),
    ("<!-- expect: contains \"open -->", "No closing quotation"),
])
def test_bad_expect_tags_are_errors(tmp_path, tag, message):
    guide = guide_with(tmp_path, f"# A\n\n<!-- check: true -->\n{tag}\n\ntext\n")
    with pytest.raises(TagError, match=message):
        read_checks(guide)


def test_shown_compares_the_block_above(tmp_path):
    good = "```sh\npython3 -m conformance grade \\\n  --cases server/bytes\n```\n" \
           "<!-- check: python3 -m conformance grade --cases server/bytes -->\n<!-- expect: shown -->\n"
    assert read_checks(guide_with(tmp_path, good))[0].command.endswith("server/bytes")
    with pytest.raises(TagError, match="not the check's command"):
        read_checks(guide_with(tmp_path, good.replace("server/bytes\n```", "server/reset\n```")))


def test_a_wrong_expectation_names_the_difference(tmp_path):
    guide = guide_with(tmp_path, "# A\n\n<!-- check: echo 'listening on [::]:40213'; echo seed 7 -->\n"
                                 "<!-- expect: exit 1; contains \"listening on [::]:2000\"; lacks \"seed\"\n"
                                 "output below -->\n```\nlistening on [::]:2000\nseed 8\n...\n```\n")
    check = read_checks(guide)[0]
    status, output = run_shell(check.command, 10)
    found = problems(check, status, output)
    assert found[0] == "exit status 0, the guide says 1"
    assert found[1] == "the output contains 'seed'"    # the port was normalized, so `contains` held
    assert len(found) == 2                             # and the output block matched, seeds normalized
    check.matches = [r"^seed \d$", r"^seed \d\d$"]
    assert problems(check, 1, output)[-1] == "nothing in the output matches '^seed \\\\d\\\\d$'"
    check.output = ["listening on [::]:2000", "a line the command never printed"]
    diff = problems(check, 1, output)
    assert "the output differs from the block at line 7" in diff[-1]
    assert "+seed N" in diff[-1] and "-a line the command never printed" in diff[-1]


def test_a_check_that_hangs_is_killed(tmp_path):
    marker = tmp_path / "child-alive"
    status, _ = run_shell(f"(sleep 30; touch {marker}) & sleep 30", timeout=0.5)
    assert status is None
    assert not marker.exists()
    # The background child was in the same process group: it is gone too.
    assert subprocess.run(["pgrep", "-f", f"touch {marker}"], capture_output=True).returncode == 1


@pytest.mark.parametrize("command, needs", [
    ("julia reference/julia/EchoClient.jl ::1 2000", ["julia"]),
    ("python3 -m conformance grade --client 'julia {dir}/EchoClient.jl {host} {port}'", ["julia"]),
    ("printf 'x\\n' | java -cp build/peers/java EchoClient ::1 2000", ["java"]),
    ("python3 -m conformance grade --server 'node /tmp/no_backpressure.js --host {host} --port {port}'", ["node"]),
    ("python3 -m conformance grade --server 'build/bin/echo_server --host {host} --port {port}'", []),
    ("grep -c nodejs /tmp/x.json", []),
])
def test_runtimes_a_check_needs(command, needs):
    assert implied_needs(command) == needs


def test_a_check_whose_runtime_is_missing_is_skipped(tmp_path, monkeypatch):
    guide = guide_with(tmp_path, "# A\n\n<!-- check: julia EchoServer.jl --port 0 -->\n")
    check = read_checks(guide)[0]
    assert check.needs == ["julia"]
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on it
    with pytest.raises(pytest.skip.Exception, match="julia not found on PATH"):
        test_guide_check(check)


def test_a_grade_that_grades_nothing_fails(tmp_path):
    check = Check(tmp_path / "01-a.md", 3, "python3 -m conformance grade ...")
    nothing = "Echo Lab grade for your-server: seed 1\n\n\nscore 0 of 0; 0 results in 0.0 s\n"
    unsupported = "Echo Lab grade for your-server: seed 1\n\n  UNSUPPORTED         -  server/bye\n"
    graded = "Echo Lab grade for your-server: seed 1\n\n  UNSUPPORTED         -  server/bye\n" \
             "  PASS              1/1  server/launch/ready\n"
    for output in (nothing, unsupported):
        assert problems(check, 0, output) == [
            "no case was graded: its --cases select nothing, or only cases it does not support"]
    assert problems(check, 0, graded) == []


@pytest.mark.parametrize("want, have, same", [
    (["a", "...", "d"], ["a", "b", "c", "d"], True),
    (["a", "...", "d"], ["a", "d"], True),
    (["a", "...", "d"], ["a", "b"], False),
    (["report on 127.0.0.1:2000 in 0.4 s"], ["report on 127.0.0.1:51234 in 12.9 s"], True),
    (["Echoed: 'x'"], ["Echoed: 'y'"], False),
])
def test_output_matching(want, have, same):
    assert (output_difference(want, have) is None) == same
