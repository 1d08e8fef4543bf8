"""A class's submissions graded as untrusted code: a student's server that snoops (it tries to
write outside its folder, to read another submission, and to see the network) is still graded on
what it does right, and finds its folder the only writable place, the other submission out of
sight, and no network but its own loopback. As the lab's user and as nobody (setpriv), and on
the fallback path, where there is no private network: one line says so and the run goes on."""

from __future__ import annotations

import json
import re
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from conformance.manifest import default_root

ROOT = default_root()
SNOOP = r'''
import json, os, socket, subprocess, sys, threading
here = os.path.dirname(os.path.abspath(__file__))
found = {}
for name, path in (("parent", os.path.join(here, "..", "written-by-alice")), ("tmp", "/tmp/alice-was-here")):
    try:
        open(path, "w").write("x")
        found[name] = "written"
    except OSError as e:
        found[name] = e.strerror
try:
    found["bob"] = open(os.path.join(here, "..", "bob", "secret.txt")).read()
except OSError as e:
    found["bob"] = e.strerror
found["interfaces"] = sorted(os.listdir("/sys/class/net")) if False else sorted(
    line.split(":")[0].strip() for line in open("/proc/net/dev").read().splitlines()[2:])
found["routes"] = [line.split()[0] for line in open("/proc/net/route").read().splitlines()[1:]]
open(os.path.join(here, "findings.json"), "w").write(json.dumps(found))


def serve(conn):
    with conn:
        while data := conn.recv(65536):
            conn.sendall(data)


server = socket.create_server(("::", int(sys.argv[1])), family=socket.AF_INET6, dualstack_ipv6=True)
print(f"listening on [::]:{server.getsockname()[1]}", flush=True)
while True:
    conn, _ = server.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
'''


def submissions(top: Path) -> Path:
    alice, bob = top / "submissions" / "alice", top / "submissions" / "bob"
    alice.mkdir(parents=True)
    bob.mkdir()
    (alice / "server.py").write_text(SNOOP)
    (bob / "secret.txt").write_text("bob's answer")
    return alice


def grade(alice: Path, out: Path, *prefix: str, python: str = sys.executable, env: dict | None = None):
    command = [*prefix, python, "-m", "conformance", "grade", "--server", f"{python} server.py {{port}}",
               "--capabilities", "concurrent", "--cases", "server/bytes,server/concurrent", "--partners", "none",
               "--hide", str(alice.parent), "--out", str(out)]
    env = dict(env or os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(command, cwd=alice, capture_output=True, text=True, timeout=300, env=env)


def check_confined(run, alice: Path) -> None:
    assert run.returncode == 0, run.stdout + run.stderr
    assert "score 10 of 10 (100%)" in run.stdout, run.stdout
    found = json.loads((alice / "findings.json").read_text())
    assert found["parent"] != "written" and not (alice.parent / "written-by-alice").exists(), found
    assert found["tmp"] == "written" and not Path("/tmp/alice-was-here").exists(), "its /tmp is its own"
    assert found["bob"] != "bob's answer", found
    assert found["interfaces"] == ["lo"] and set(found["routes"]) <= {"lo"}, found


def usable() -> str | None:
    probe = subprocess.run([sys.executable, "-c", "from conformance.net import private; n = private.setup(True); "
                            "print(n.private and n.sandbox is None)"], cwd=ROOT, capture_output=True, text=True)
    return None if probe.stdout.strip() == "True" else "no private network or no bubblewrap here"


@pytest.mark.skipif(usable() is not None, reason="no private network or no bubblewrap here")
def test_a_snooping_submission_is_confined_and_still_graded(tmp_path):
    alice = submissions(tmp_path)
    check_confined(grade(alice, tmp_path / "out"), alice)


@pytest.mark.skipif(os.getuid() != 0 or not shutil.which("setpriv") or not Path("/usr/bin/python3").exists(),
                    reason="setpriv to nobody needs root, and a python3 nobody can run")
def test_the_same_as_nobody():
    if usable() is not None:
        pytest.skip(usable())
    top = Path(tempfile.mkdtemp(prefix="echo-lab-nobody-"))  # pytest's own folders are root's alone
    try:
        alice = submissions(top)
        for path in [top, *top.rglob("*")]:
            os.chown(path, 65534, 65534)
        env = {"PATH": "/usr/bin:/bin", "HOME": str(top), "LC_ALL": "C.UTF-8"}
        run = grade(alice, top / "out", "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                    python="/usr/bin/python3", env=env)
        check_confined(run, alice)
        assert "no private network" not in run.stderr, run.stderr
    finally:
        shutil.rmtree(top, ignore_errors=True)


def test_without_a_private_network_one_line_says_so_and_the_grade_goes_on(tmp_path):
    alice = submissions(tmp_path)
    run = grade(alice, tmp_path / "out", env=dict(os.environ, ECHO_LAB_NO_NAMESPACE="1"))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "no private network here: ECHO_LAB_NO_NAMESPACE is set" in run.stderr
    assert "score 10 of 10 (100%)" in run.stdout


STUDENTS = Path(__file__).resolve().parent / "students"


@pytest.mark.skipif(usable() is not None, reason="no private network or no bubblewrap here")
def test_two_programs_as_written_graded_at_once_both_on_port_2000(tmp_path):
    """The chapter's way (port 2000, no readiness line, no arguments), twice at the same time:
    each run has a loopback of its own, so both get their right verdicts."""
    command = [sys.executable, "-m", "conformance", "grade", "--server", f"{sys.executable} "
               f"{STUDENTS / 'silent_port_2000.py'}", "--cases", "server/launch/ready,server/bytes,server/echo",
               "--partners", "none"]
    runs = [subprocess.Popen(command + ["--out", str(tmp_path / str(n))], cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True) for n in (1, 2)]
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    for run, output in zip(runs, outputs):
        assert run.returncode == 0, output
        assert "NON-STRICT        0/1  server/launch/ready" in output and "FAIL " not in output, output
        assert re.search(r"^score 10 of 11 \(91%\)", output, re.M), output


@pytest.mark.skipif(usable() is not None, reason="no private network or no bubblewrap here")
def test_every_case_leaves_a_trace_and_a_reset_shows_in_the_ladder(tmp_path):
    run = subprocess.run([sys.executable, "-m", "conformance", "grade", "--server", f"{sys.executable} "
                          f"{STUDENTS / 'rst_close.py'} --host {{host}} --port {{port}}", "--cases",
                          "server/bytes/single,server/stream/1mib", "--partners", "none", "--out", str(tmp_path)],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "packets (trace.pcap in the logs):" in run.stdout, run.stdout
    assert re.search(r"client <-+ RST -+  server", run.stdout), run.stdout
    traces = sorted(tmp_path.rglob("trace.pcap"))
    assert len(traces) == 2, traces
    if shutil.which("tshark"):
        for trace in traces:
            read = subprocess.run(["tshark", "-r", str(trace)], capture_output=True, text=True, timeout=60)
            assert read.returncode == 0 and "[SYN]" in read.stdout, read.stderr
        assert "RST" in subprocess.run(["tshark", "-r", str(traces[-1])], capture_output=True, text=True).stdout
