"""The lab guides: the code they quote is the code in the sources (scripts/sync-guides), and
every relative link in them leads to a file that exists.

A guide quotes a region of a source marked `// guide:NAME begin` ... `// guide:NAME end` (or
with `#` comments) through a tag `<!-- snippet: PATH#NAME -->` on the line before the code block.
When a marked region changes and the guide does not, test_every_snippet_matches_its_source fails;
`scripts/sync-guides` copies the sources into the guides again.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "sync-guides"
GUIDE_DIR = ROOT / "lab-guides"
GUIDES = sorted(GUIDE_DIR.glob("*.md"))


def load_sync_guides():
    """scripts/sync-guides as a module (it has no .py suffix)."""
    loader = importlib.machinery.SourceFileLoader("sync_guides", str(SCRIPT))
    spec = importlib.util.spec_from_loader("sync_guides", loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules["sync_guides"] = module  # dataclasses look their module up here
    loader.exec_module(module)
    return module


sync_guides = load_sync_guides()


def run_sync(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=60)


# --- links ---------------------------------------------------------------------------------

FENCED = re.compile(r"^ {0,3}(`{3,}|~{3,}).*?^ {0,3}\1[ \t]*$", re.M | re.S)
INLINE_CODE = re.compile(r"(`+).+?\1", re.S)
COMMENT = re.compile(r"<!--.*?-->", re.S)
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HREF = re.compile(r"""<a\s[^>]*href=["']([^"']+)["']""", re.I)


def relative_links(text: str) -> list[str]:
    """The targets of the Markdown and HTML links outside code and comments, URLs left out
    (`02-echo-protocol.md`, `../cpp/echolab/session.cpp`, `#goals`)."""
    for pattern in (FENCED, COMMENT, INLINE_CODE):
        text = pattern.sub("", text)
    targets = LINK.findall(text) + HREF.findall(text)
    return [t for t in targets if not re.match(r"^[a-z][a-z0-9+.-]*:", t, re.I)]


def anchor(heading: str) -> str:
    """The id GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"<[^>]+>", "", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = FENCED.sub("", page.read_text(encoding="utf-8"))
    return {anchor(m) for m in re.findall(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", text, re.M)}


def broken_links(guide: Path) -> list[str]:
    """Links to a file that does not exist, or to a heading a Markdown page does not have."""
    broken = []
    for target in relative_links(guide.read_text(encoding="utf-8")):
        path, _, fragment = target.split("?", 1)[0].partition("#")
        page = guide.parent / path if path else guide
        if not page.exists() or (fragment and page.suffix == ".md" and fragment not in anchors(page)):
            broken.append(target)
    return broken


# --- the repository's guides -----------------------------------------------------------------

def test_there_are_guides_and_an_index():
    assert (GUIDE_DIR / "README.md").is_file()
    numbered = [g.name for g in GUIDES if re.match(r"\d\d-", g.name)]
    assert numbered, "lab-guides/ has no numbered guides"
    index = (GUIDE_DIR / "README.md").read_text(encoding="utf-8")
    missing = [name for name in numbered if f"({name})" not in index]
    assert not missing, f"lab-guides/README.md does not link to {missing}"


STUDENT_GUIDES = [g for g in GUIDES if re.match(r"\d\d-", g.name)]
REQUIRED_SECTIONS = ("## Goals", "## Exercises", "## Questions this guide answers")


def exercises_without_a_check(text: str) -> list[str]:
    """The `### ` headings under `## Exercises` whose section has no check tag (`<!-- check -->`
    before a visible command, or `<!-- check: COMMAND -->`)."""
    text = "\n" + FENCED.sub("", text)
    part = text.split("\n## Exercises", 1)[1].split("\n## ", 1)[0] if "\n## Exercises" in text else ""
    sections = re.split(r"^### ", part, flags=re.M)[1:]
    return [s.splitlines()[0] for s in sections if not re.search(r"<!--\s*check\s*(?::|-->)", s)]


@pytest.mark.parametrize("guide", STUDENT_GUIDES, ids=lambda g: g.name)
def test_every_student_guide_has_goals_exercises_checks_hints_and_questions(guide):
    text = guide.read_text(encoding="utf-8")
    headings = [line.strip() for line in FENCED.sub("", text).splitlines() if line.startswith("## ")]
    missing = [s for s in REQUIRED_SECTIONS if s not in headings]
    assert not missing, f"{guide.name} has no {missing}"
    assert re.search(r"^###\s", text.split("\n## Exercises", 1)[1], re.M), f"{guide.name}: no exercises"
    unchecked = exercises_without_a_check(text)
    assert not unchecked, f"{guide.name}: exercises without a <!-- check --> tag: {unchecked}"
    assert "Hint" in text, f"{guide.name} gives no hints"


def test_an_exercise_without_a_check_is_found():
    text = ("## Exercises\n\n### 1.1 Checked\n\n<!-- check: true -->\n\n### 1.2 Not checked\n\n"
            "```\n<!-- check: inside a block does not count -->\n```\n\n"
            "### 1.3 Checked, visibly\n\n<!-- check -->\n```sh\ntrue\n```\n\n## Questions this guide answers\n")
    assert exercises_without_a_check(text) == ["1.2 Not checked"]


def test_every_snippet_matches_its_source():
    result = run_sync("--check")
    assert result.returncode == 0, (
        "a guide's code differs from its source region; run scripts/sync-guides:\n"
        + result.stdout + result.stderr)


def test_the_guides_quote_code():
    listing = run_sync("--list")
    assert listing.returncode == 0, listing.stdout
    assert len(listing.stdout.splitlines()) >= 10


@pytest.mark.parametrize("guide", GUIDES, ids=lambda g: g.name)
def test_every_relative_link_resolves(guide):
    broken = broken_links(guide)
    assert not broken, f"{guide.relative_to(ROOT)}: links to missing files: {broken}"


# --- the checks can fail -------------------------------------------------------------------

def scratch_copy(tmp_path: Path) -> Path:
    """The guides and every source they quote, under a scratch root."""
    root = tmp_path / "repo"
    shutil.copytree(GUIDE_DIR, root / "lab-guides")
    for guide in GUIDES:
        lines = guide.read_text(encoding="utf-8").splitlines()
        for snippet in sync_guides.find_snippets(guide, lines):
            target = root / snippet.path
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ROOT / snippet.path, target)
    return root


def test_check_fails_when_a_quoted_source_region_changes(tmp_path):
    root = scratch_copy(tmp_path)
    run_sync("--root", str(root))  # in step with the sources first, whatever the repository's state
    assert "session.cpp" not in run_sync("--check", "--root", str(root)).stdout

    source = root / "cpp/echolab/session.cpp"
    text = source.read_text(encoding="utf-8")
    drifted = text.replace("if (n == 0) break;", "if (n == 0) return end;", 1)
    assert drifted != text, "the region this test edits has changed: pick another line"
    source.write_text(drifted, encoding="utf-8")

    result = run_sync("--check", "--root", str(root))
    assert result.returncode == 1
    assert "cpp/echolab/session.cpp#echo-session" in result.stdout
    assert "differs from its source" in result.stdout
    assert "lab-guides/" in result.stdout  # names the guide and its line

    # Without --check the guides are rewritten from the sources, and then they match.
    run_sync("--root", str(root))
    assert "session.cpp" not in run_sync("--check", "--root", str(root)).stdout
    assert any("return end;" in g.read_text(encoding="utf-8")
               for g in (root / "lab-guides").glob("*.md"))


def write_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


SOURCE = """int before;
void f() {
  // guide:body begin
  int a = 1;
  // guide:inner begin
  int b = 2;
  // guide:inner end
  // guide:body end
}
"""


def guide_quoting(*tags: str, body: str = "old\n") -> str:
    return "# A guide\n\n" + "".join(f"<!-- snippet: {tag} -->\n```cpp\n{body}```\n\n" for tag in tags)


def test_a_region_is_dedented_and_loses_inner_markers(tmp_path):
    write_tree(tmp_path, {"src/f.cpp": SOURCE, "lab-guides/01-a.md": guide_quoting("src/f.cpp#body")})
    assert sync_guides.main(["--root", str(tmp_path)]) == 0
    text = (tmp_path / "lab-guides/01-a.md").read_text()
    assert "```cpp\nint a = 1;\nint b = 2;\n```" in text


def test_missing_file_and_missing_region_are_each_reported(tmp_path, capsys):
    write_tree(tmp_path, {
        "src/f.cpp": SOURCE,
        "lab-guides/01-a.md": guide_quoting("src/f.cpp#body", "src/f.cpp#nowhere", "src/gone.cpp#x"),
    })
    assert sync_guides.main(["--check", "--root", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "stale: lab-guides/01-a.md:3: src/f.cpp#body" in out
    assert "no region 'nowhere' in src/f.cpp (its regions: body, inner)" in out
    assert "src/gone.cpp#x: no such file src/gone.cpp" in out
    # Rewriting fixes the stale one, but the missing ones still fail.
    assert sync_guides.main(["--root", str(tmp_path)]) == 1


@pytest.mark.parametrize("source, message", [
    ("// guide:r begin\nx\n", "region 'r' begins but never ends"),
    ("x\n// guide:r end\n", "region 'r' ends but never began"),
    ("// guide:r begin\n// guide:r end\n// guide:r begin\n// guide:r end\n", "region 'r' begins a second time"),
])
def test_unpaired_markers_are_errors(tmp_path, capsys, source, message):
    write_tree(tmp_path, {"src/f.py": source, "lab-guides/01-a.md": guide_quoting("src/f.py#r")})
    assert sync_guides.main(["--check", "--root", str(tmp_path)]) == 1
    assert message in capsys.readouterr().out


def test_a_tag_must_be_followed_by_a_code_block(tmp_path, capsys):
    write_tree(tmp_path, {"src/f.cpp": SOURCE,
                          "lab-guides/01-a.md": "<!-- snippet: src/f.cpp#body -->\n\ntext\n"})
    assert sync_guides.main(["--check", "--root", str(tmp_path)]) == 1
    assert "not followed by a ``` code block" in capsys.readouterr().out


def test_link_check_finds_broken_links(tmp_path):
    write_tree(tmp_path, {
        "lab-guides/01-a.md": "## Goals\n\n[ok](02-b.md) [gone](03-missing.md#part) [web](https://example.org) "
                              "[here](#goals) [there](02-b.md#the-b-part) [nowhere](#no-such-heading) "
                              "[no heading](02-b.md#missing) `[code](nowhere.md)`\n\n```\n[fenced](nowhere.md)\n```\n"
                              "<!-- [commented](nowhere.md) -->\n",
        "lab-guides/02-b.md": "# B\n\n### The `B` part, again\n\n## The B part\n",
    })
    assert broken_links(tmp_path / "lab-guides/01-a.md") == [
        "03-missing.md#part", "#no-such-heading", "02-b.md#missing"]
    assert anchor("The `B` part, again") == "the-b-part-again"
    assert anchor("03 From bad to good: error handling") == "03-from-bad-to-good-error-handling"
