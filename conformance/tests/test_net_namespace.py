"""The private network namespace: each run gets its own loopback (port 2000 bound by two runs at
once), sees no interface but lo, and falls back cleanly where namespaces are unavailable. The
namespaces are entered in child processes; this test process stays on the host's network."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from conformance.net import namespace
from conformance.net.conversations import NOBODY, environment, python_command, reasons


def need_namespace(as_user: int | None = None) -> None:
    reason = reasons(as_user)["namespace"]
    if reason:
        pytest.skip(reason)


HOLD_PORT_2000 = r"""
import json, os, socket, subprocess, sys
from conformance.net import namespace
entered = namespace.enter()
report = {"entered": entered, "why": namespace.why_unavailable(), "inside": namespace.inside(),
          "uid": os.getuid(), "uid_map": open("/proc/self/uid_map").read().split(),
          "interfaces": namespace.interfaces(), "routes": namespace.routes()}
if entered:
    held = []
    for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        s = socket.socket(family)
        s.bind((host, 2000))
        s.listen()
        held.append(s)
    child = subprocess.run([sys.executable, "-c",
        "import json, socket; from conformance.net import namespace; "
        "print(json.dumps([namespace.inside(), namespace.interfaces()]))"],
        capture_output=True, text=True, timeout=10)
    report["child"] = json.loads(child.stdout)
print(json.dumps(report), flush=True)
sys.stdin.readline()  # hold port 2000 until the test has seen every namespace bind it
"""


def start(code: str, as_user: int | None = None, **env) -> subprocess.Popen:
    return subprocess.Popen(python_command(code, as_user=as_user), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(environment(), **env))


def hold_in_two_namespaces(as_user: int | None = None) -> list[dict]:
    first, second = start(HOLD_PORT_2000, as_user), start(HOLD_PORT_2000, as_user)
    try:
        reports = []
        for proc in (first, second):
            line = proc.stdout.readline()
            assert line, f"no report: {proc.stderr.read() if proc.poll() is not None else ''}"
            reports.append(json.loads(line))
        return reports
    finally:
        for proc in (first, second):
            proc.communicate("\n", timeout=10)


def check_private(report: dict) -> None:
    assert report["entered"] and report["inside"] and report["why"] is None, report
    assert report["uid"] == 0
    assert report["interfaces"] == ["lo"]
    assert report["routes"], "inside the namespace lo's own routes are listed"
    assert all(route.endswith(" dev lo") for route in report["routes"]), report["routes"]
    assert report["child"] == [True, ["lo"]], "a child process inherits the namespace"


def test_two_runs_bind_port_2000_at_once_each_on_its_own_loopback():
    need_namespace()
    host_netns = os.readlink("/proc/self/ns/net")
    for report in hold_in_two_namespaces():
        check_private(report)
        assert report["uid_map"] == ["0", str(os.getuid()), "1"]
    assert os.readlink("/proc/self/ns/net") == host_netns
    assert not namespace.inside()


@pytest.mark.skipif(os.getuid() != 0, reason="switching to nobody with setpriv needs root")
@pytest.mark.skipif(shutil.which("setpriv") is None, reason="setpriv (util-linux) is missing")
def test_an_unprivileged_user_gets_the_same_private_network():
    need_namespace(NOBODY)
    for report in hold_in_two_namespaces(as_user=NOBODY):
        check_private(report)
        assert report["uid_map"] == ["0", str(NOBODY), "1"], "root inside is nobody outside"


FALLBACK = r"""
import json, os, threading
from conformance.net import namespace
before = os.readlink("/proc/self/ns/net")
if os.environ.get("START_A_THREAD"):
    threading.Thread(target=threading.Event().wait, daemon=True).start()
why = namespace.why_unavailable()
entered = namespace.enter()
print(json.dumps({"why": why, "entered": entered, "inside": namespace.inside(),
                  "unchanged": os.readlink("/proc/self/ns/net") == before,
                  "uid": os.getuid(), "reason_after": namespace.why_unavailable()}))
"""


def run_fallback(**env) -> dict:
    done = subprocess.run(python_command(FALLBACK), capture_output=True, text=True, timeout=20,
                          env=dict(environment(), **env))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_fallback_is_one_reason_and_an_unchanged_process():
    report = run_fallback(ECHO_LAB_NO_NAMESPACE="1")
    assert report["entered"] is False and report["inside"] is False
    assert report["unchanged"] and report["uid"] == os.getuid()
    assert "ECHO_LAB_NO_NAMESPACE" in report["why"] and report["why"] == report["reason_after"]
    assert "\n" not in report["why"]


def test_a_multithreaded_process_is_refused_before_anything_changes():
    report = run_fallback(START_A_THREAD="1")
    assert report["entered"] is False and report["unchanged"]
    assert "threads" in report["why"], report["why"]


def test_the_fallback_check_can_fail():
    need_namespace()
    # The same check on a process allowed to enter: it does enter, so the assertions above
    # would catch a fallback that silently stayed on the host.
    report = run_fallback(ECHO_LAB_NO_NAMESPACE="0")
    assert report["why"] is None and report["entered"] and not report["unchanged"]
