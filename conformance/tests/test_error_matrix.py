"""The error-handling matrix (lab-guides/error-matrix.md) says what the programs really do.

The committed page is regenerated from fresh runs of every program and compared cell by cell;
a difference names the table, the program and the fault. `make errors` rewrites the page.
The comparison is shown to fail: copies of the Python peers, each changed the way a student
might change them, get a different cell, and the difference names it.
"""

from __future__ import annotations

import dataclasses
import importlib.machinery
import importlib.util
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conformance.errormatrix.command import page, run_matrix
from conformance.errormatrix.faults import Observation, client, faults_for, normalize, observe
from conformance.errormatrix.table import cells, differences, render, to_html
from conformance.manifest import scan

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "lab-guides" / "error-matrix.md"
GUIDE = ROOT / "lab-guides" / "03-error-handling.md"
SYNC = ROOT / "scripts" / "sync-guides"
IMPLS = scan(ROOT).implementations
BY_ID = {impl.id: impl for impl in IMPLS}
RUN_BOUND = 240  # every program through every fault, on a loaded two-core machine


def committed() -> str:
    assert PAGE.is_file(), f"{PAGE.relative_to(ROOT)} is missing: run make errors"
    return PAGE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def fresh() -> str:
    started = time.monotonic()
    text = page(IMPLS)
    seconds = time.monotonic() - started
    assert seconds < RUN_BOUND, f"the error matrix took {seconds:.0f} s (bound {RUN_BOUND} s)"
    return text


def test_the_committed_matrix_matches_what_the_programs_do(fresh):
    available = {impl.id for impl in IMPLS if impl.available}
    found = differences(committed(), fresh, available)
    assert not found, ("lab-guides/error-matrix.md no longer matches what the programs do "
                       "(run make errors and review the change):\n  " + "\n  ".join(found))


def test_the_matrix_covers_every_program_and_every_fault(fresh):
    table = cells(fresh)
    for impl in IMPLS:
        for fault in faults_for(impl.role):
            heading = "Clients" if impl.role == "client" else "Servers"
            cell = table.get((heading, impl.id, fault.title))
            assert cell, f"no cell for {impl.id} under {fault.title!r}"
            if not impl.available:
                assert cell == "SKIPPED", f"{impl.id} is unavailable ({impl.reason}) but its cell is {cell!r}"
            else:
                assert cell != "SKIPPED" and "harness error" not in cell, f"{impl.id}, {fault.title}: {cell!r}"
    skipped = [impl for impl in IMPLS if not impl.available]
    for impl in skipped:
        assert f"SKIPPED `{impl.id}`: {impl.reason}." in fresh, f"{impl.id}'s reason is not given"


def test_the_guide_includes_the_committed_matrix():
    text = GUIDE.read_text(encoding="utf-8")
    assert "<!-- include: lab-guides/error-matrix.md -->" in text
    result = subprocess.run([sys.executable, str(SYNC), "--includes-only", "--check"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, "guide 03's copy of the matrix is stale: run make errors\n" + result.stdout


# --- the comparison fails when a program changes ----------------------------------------------

def changed_copy(tmp_path: Path, impl_id: str, source: str, old: str, new: str):
    """The peer `impl_id` run from a copy of its directory in which `source` has `old` replaced
    by `new`; it keeps its id, so its cells line up with the committed ones."""
    impl = BY_ID[impl_id]
    if not impl.available:
        pytest.skip(impl.reason)
    copy = tmp_path / impl_id
    shutil.copytree(impl.directory, copy, ignore=shutil.ignore_patterns("__pycache__"))
    path = copy / source
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{impl.directory / source} no longer contains {old!r}: pick another change"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return dataclasses.replace(impl, directory=copy)


def fresh_rows(impl) -> str:
    return render([impl], run_matrix([impl]))


def test_a_client_that_hides_a_refused_connection_changes_its_cell(tmp_path):
    unchanged = changed_copy(tmp_path / "same", "python-echo-client", "echo_client.py", "", "")
    assert differences(committed(), fresh_rows(unchanged), {unchanged.id}) == []

    liar = changed_copy(tmp_path / "liar", "python-echo-client", "echo_client.py",
                        'sys.exit(f"{PROG}: cannot connect to {server}: {reason(err)}")',
                        'sys.exit(0)')
    found = differences(committed(), fresh_rows(liar), {liar.id})
    assert any(line.startswith("Clients / python-echo-client / server not running: ") and "exit 0" in line
               for line in found), found
    assert any(line.startswith("Clients, server not running: first line on stderr / python-echo-client")
               and "(nothing)" in line for line in found), found


def test_a_server_that_catches_the_wrong_error_changes_its_cell(tmp_path):
    fragile = changed_copy(tmp_path, "python-echo-server", "echo_server.py",
                           "except OSError as err", "except ValueError as err")
    found = differences(committed(), fresh_rows(fragile), {fragile.id})
    cell = [line for line in found if line.startswith("Servers / python-echo-server / client resets mid-stream")]
    assert cell and "trace" in cell[0] and "down" in cell[0], found
    said = [line for line in found if line.startswith("Servers, client resets mid-stream: first line on stderr")]
    assert said and "Traceback" in said[0], found


# --- the pieces -------------------------------------------------------------------------------

def test_normalize_replaces_the_run_s_incidentals():
    assert normalize("srv: [::ffff:127.0.0.1]:51234 reset (node:4321) pid 77 /tmp/x1/y.py port 9") == \
        "srv: [::ffff:127.0.0.1]:PORT reset (node:PID) pid PID TMP port PORT"
    assert normalize("lookup h.invalid on 10.1.2.3:53: no such host") == "lookup h.invalid on ADDR:PORT: no such host"
    assert normalize("  two   spaces ") == "two spaces"
    assert normalize(f"File {ROOT}/reference/x.py") == "File <repo>/reference/x.py"


@pytest.mark.parametrize("program, ended, crash", [
    ("import time; time.sleep(60)", "hang", False),
    # Python ignores SIGPIPE; a C program that writes to a vanished peer does not.
    ("import os, signal; signal.signal(signal.SIGPIPE, signal.SIG_DFL); os.kill(os.getpid(), signal.SIGPIPE)",
     "killed by SIGPIPE", True),
    ("raise ConnectionResetError(104, 'Connection reset by peer')", "exit 1", True),
    ("import sys; sys.exit('prog: cannot connect to 127.0.0.1:2001: Connection refused')", "exit 1", False),
])
def test_an_ending_is_classified(program, ended, crash):
    impl = dataclasses.replace(BY_ID["python-echo-client"], run=f"python3 -c {shlex.quote(program)} {{host}} {{port}}")
    run = client(impl, "127.0.0.1", 2001)
    run.close_stdin()
    observed = observe(impl, "refused", run, run.finish(bound=3), 1)
    assert (observed.ended, observed.crash) == (ended, crash)
    assert observed.ok == (ended == "exit 1" and not crash)
    assert run.proc.poll() is not None  # ended or killed at the bound: nothing left behind


def test_cells_read_back_what_render_wrote():
    impl = next(i for i in IMPLS if i.role == "server")
    observed = {(f"server/{f.key}", impl.id): Observation(impl.id, f.key, "exit 1", f"a | b `c` {f.key}",
                                                           notes=["down"], ok=False)
                for f in faults_for("server")}
    table = cells(render([impl], observed))
    fault = faults_for("server")[0]
    assert table[("Servers", impl.id, fault.title)] == "exit 1, down ✗"
    assert table[(f"Servers, {fault.title}: first line on stderr", impl.id, "stderr")] == \
        f"`a \\| b 'c' {fault.key}`"
    html = to_html(render([impl], observed))
    assert "<code>a | b &#x27;c&#x27; port-in-use</code>" in html and "class='FAIL'" in html


def test_differences_name_the_cell():
    before = "### Servers\n\n| server | reset |\n|---|---|\n| `x-server` | serves next |\n| `y-server` | exit 1 |\n"
    after = before.replace("| `x-server` | serves next |", "| `x-server` | exit 1, down ✗ |")
    assert differences(before, after) == [
        "Servers / x-server / reset: committed 'serves next', now 'exit 1, down ✗'"]
    assert differences(before, after, {"y-server"}) == []
    assert differences(before, before) == []


# --- scripts/sync-guides keeps an include in step with its page -----------------------------

def load_sync_guides():
    loader = importlib.machinery.SourceFileLoader("sync_guides_for_includes", str(SYNC))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[loader.name] = module  # dataclasses look their module up here
    loader.exec_module(module)
    return module


def test_sync_guides_rewrites_a_stale_include(tmp_path, capsys):
    sync = load_sync_guides()
    (tmp_path / "lab-guides").mkdir()
    (tmp_path / "lab-guides/m.md").write_text("# Title\n\n| a | b |\n|---|---|\n| `x` | 1 |\n", encoding="utf-8")
    guide = tmp_path / "lab-guides/01-g.md"
    guide.write_text("intro\n<!-- include: lab-guides/m.md -->\nold\n<!-- end include -->\nafter\n",
                     encoding="utf-8")
    assert sync.main(["--check", "--root", str(tmp_path)]) == 1
    assert "01-g.md:2: include lab-guides/m.md: differs from the page" in capsys.readouterr().out
    assert sync.main(["--includes-only", "--root", str(tmp_path)]) == 0
    assert guide.read_text(encoding="utf-8") == (
        "intro\n<!-- include: lab-guides/m.md -->\n\n| a | b |\n|---|---|\n| `x` | 1 |\n\n"
        "<!-- end include -->\nafter\n")
    assert sync.main(["--check", "--root", str(tmp_path)]) == 0

    guide.write_text("<!-- include: lab-guides/m.md -->\nno end\n", encoding="utf-8")
    assert sync.main(["--check", "--root", str(tmp_path)]) == 1
    assert "has no <!-- end include -->" in capsys.readouterr().out
    guide.write_text("<!-- include: lab-guides/gone.md -->\n<!-- end include -->\n", encoding="utf-8")
    assert sync.main(["--check", "--root", str(tmp_path)]) == 1
    assert "no such file lab-guides/gone.md" in capsys.readouterr().out
