"""The error-handling matrix says what the programs really do.

The committed data (lab-guides/error-matrix.json) is compared cell by cell with a fresh run of
every program; the committed page (lab-guides/error-matrix.md) must be what the data renders.
`make errors` rewrites both. The comparison is shown to fail: copies of the Python peers, each
changed the way a student might change them, get a different cell, and the difference names it.
"""

from __future__ import annotations

import dataclasses
import shlex
import shutil
import time
from pathlib import Path

import pytest

from conformance.commands import errors
from conformance.errormatrix import page
from conformance.errormatrix.scenarios import SCENARIOS, Cell, client, normalize, observe, scenarios_for
from conformance.manifest import scan
from conformance.net import private

ROOT = Path(__file__).resolve().parents[2]
IMPLS = scan(ROOT).implementations
BY_ID = {impl.id: impl for impl in IMPLS}
RUN_BOUND = 240  # every program through every scenario, on a loaded two-core machine


def run_matrix(impls) -> dict:
    """The matrix as `make errors` runs it: inside a private network (the network-fault columns
    are made there), which this multi-threaded test process cannot enter itself."""
    return private.in_fresh_process(errors.run_matrix, impls)


def committed() -> dict:
    data = page.load(ROOT / page.DATA)
    assert data, f"{page.DATA} is missing or unreadable: run make errors"
    return data


@pytest.fixture(scope="module")
def fresh() -> dict:
    started = time.monotonic()
    data = run_matrix(IMPLS)
    seconds = time.monotonic() - started
    assert seconds < RUN_BOUND, f"the error matrix took {seconds:.0f} s (bound {RUN_BOUND} s)"
    return data


def test_the_committed_matrix_matches_what_the_programs_do(fresh):
    available = {impl.id for impl in IMPLS if impl.available}
    found = page.differences(committed(), fresh, available)
    assert not found, (f"{page.DATA} no longer matches what the programs do (run make errors and review "
                       "the change):\n  " + "\n  ".join(found))


def test_the_committed_page_is_what_the_data_renders():
    assert (ROOT / page.PAGE).read_text(encoding="utf-8") == page.markdown(committed()), \
        f"{page.PAGE} was edited by hand or is stale: run make errors"


def test_the_matrix_covers_every_program_and_every_scenario(fresh):
    for impl in IMPLS:
        for scenario in scenarios_for(impl.role):
            cell = fresh["cells"][scenario.id].get(impl.id)
            assert cell is not None, f"no cell for {impl.id} under {scenario.title!r}"
            if not impl.available:
                assert cell.get("skipped") == impl.reason, f"{impl.id} is unavailable ({impl.reason}): {cell}"
            else:
                assert not cell.get("skipped") and cell["ended"] != "harness error", \
                    f"{impl.id}, {scenario.title}: {cell}"
    text = page.markdown(fresh)
    for impl in IMPLS:
        if not impl.available:
            assert f"SKIPPED `{impl.id}`: {impl.reason}." in text, f"{impl.id}'s reason is not given"


def test_rows_are_grouped_by_language_careful_first():
    data = committed()
    for role in ("client", "server"):
        rows = [(p["language"], page.KINDS.index(p["kind"])) for p in data["programs"] if p["role"] == role]
        assert rows == sorted(rows), f"{role} rows are not grouped by language, careful first: {rows}"


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


def test_a_client_that_hides_a_refused_connection_changes_its_cell(tmp_path):
    unchanged = changed_copy(tmp_path / "same", "python-echo-client", "echo_client.py", "", "")
    assert page.differences(committed(), run_matrix([unchanged]), {unchanged.id}) == []

    liar = changed_copy(tmp_path / "liar", "python-echo-client", "echo_client.py",
                        'sys.exit(f"{PROG}: cannot connect to {server}: {reason(err)}")',
                        'sys.exit(0)')
    found = page.differences(committed(), run_matrix([liar]), {liar.id})
    assert any(line.startswith("server not running / python-echo-client: ") and "now exit 0" in line
               and "(nothing)" in line.split("now", 1)[1] for line in found), found


def test_a_server_that_catches_the_wrong_error_changes_its_cell(tmp_path):
    fragile = changed_copy(tmp_path, "python-echo-server", "echo_server.py",
                           "except OSError as err", "except ValueError as err")
    found = page.differences(committed(), run_matrix([fragile]), {fragile.id})
    cell = [line for line in found if line.startswith("client resets mid-stream / python-echo-server")]
    assert cell and "trace" in cell[0].split("now", 1)[1] and "down" in cell[0], found
    assert "Traceback" in cell[0].split("now", 1)[1], found


# --- the pieces -------------------------------------------------------------------------------

def test_normalize_replaces_the_run_s_incidentals():
    assert normalize("srv: [::ffff:127.0.0.1]:51234 reset (node:4321) pid 77 /tmp/x1/y.py port 9") == \
        "srv: [::ffff:127.0.0.1]:PORT reset (node:PID) pid PID TMP port PORT"
    assert normalize("lookup h.invalid on 10.1.2.3:53: no such host") == "lookup h.invalid on ADDR:PORT: no such host"
    assert normalize("  two   spaces ") == "two spaces"
    assert normalize(f"File {ROOT}/reference/x.py") == "File <repo>/reference/x.py"


@pytest.mark.parametrize("program, ended, crash", [
    ("import time; time.sleep(60)", "hang (still running after 3 s)", False),
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
    observed = observe(run, run.finish(3), 1)
    assert (observed.ended, observed.crash) == (ended, crash)
    assert observed.ok == (ended == "exit 1" and not crash)
    assert run.proc.poll() is not None  # ended or killed at the bound: nothing left behind


def test_the_page_and_the_html_render_the_data():
    impl = next(i for i in IMPLS if i.role == "server" and not i.deliberate)
    cells = {(s.id, impl.id): Cell("exit 1", f"a | b `c` {s.key}", notes=["down"], ok=False)
             for s in SCENARIOS if s.role == "server"}
    data = page.build([impl], cells)
    text = page.markdown(data)
    first = scenarios_for("server")[0]
    assert f"| {impl.language} | {page.program_name(data['programs'][0])} | exit 1, down ✗ |" in text
    assert f"`a \\| b 'c' {first.key}`" in text
    html = page.html_section(data)
    assert "exit 1, down ✗" in html and "class='FAIL'" in html


def test_differences_name_the_cell():
    impl = next(i for i in IMPLS if i.role == "server" and not i.deliberate)
    scenario = scenarios_for("server")[0]
    before = page.build([impl], {(scenario.id, impl.id): Cell("", notes=["serves next"])})
    after = page.build([impl], {(scenario.id, impl.id): Cell("exit 1", notes=["down"], ok=False)})
    found = page.differences(before, after)
    assert len(found) == 1 and found[0].startswith(f"{scenario.title} / {impl.id}: committed serves next")
    assert "now exit 1, down ✗" in found[0]
    assert page.differences(before, after, {"someone-else"}) == []
    assert page.differences(before, before) == []
