"""The bubblewrap sandbox: a program writes only in its own folder and a private /tmp, cannot
read a hidden submission (not even through another process's /proc entries), has no
capabilities, sees only lo, and still serves the harness over loopback, which still measures
it from /proc. Run inside a private namespace as this user and as nobody, and as nobody without
one."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from conformance.net import sandbox
from conformance.net.conversations import NOBODY, environment, interpreter_for, python_command, reasons

# The untrusted program: it tries everything, reports, then serves one echo.
PROGRAM = r"""
import errno, glob, json, os, shutil, socket, subprocess, sys
tree, port = sys.argv[1], int(sys.argv[2])
secret = os.path.join(tree, "subs", "bob", "answer")
def attempt(action):
    try:
        return action() or "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
def write(path):
    return attempt(lambda: open(path, "w").write("x") and None)
def read(path):
    return attempt(lambda: open(path).read())
through_proc = [p for p in glob.glob("/proc/[0-9]*/root" + secret) if read(p).startswith("bob")]
report = {
    "read_hidden": read(secret), "read_weights": read(os.path.join(tree, "weights.json")),
    "read_via_proc": through_proc,
    "write_own": write("mine.txt"), "write_tmp": write(sys.argv[3]),
    "write_outside": write(os.path.join(tree, "outside.txt")),
    "write_hidden": write(os.path.join(tree, "subs", "planted")),
    "cap_eff": [l.split()[1] for l in open("/proc/self/status") if l.startswith("CapEff")][0],
    "packet_socket": attempt(lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW).close()),
    "interfaces": [name for _, name in socket.if_nameindex()],
    "routes": None,
}
if shutil.which("ip"):
    report["routes"] = [line for family in ("-4", "-6") for line in subprocess.run(
        ["ip", "-o", family, "route", "show", "table", "all"], capture_output=True, text=True
    ).stdout.splitlines()]
listener = socket.create_server(("127.0.0.1", port))
report["port"] = listener.getsockname()[1]
print(json.dumps(report), flush=True)
listener.settimeout(10)
conn, _ = listener.accept()
conn.sendall(conn.recv(64))
conn.close()
"""

# The harness's side: enter a namespace (unless told not to), start the program sandboxed,
# look at it from outside, talk to it.
DRIVER = r"""
import json, os, socket, subprocess, sys, time
from pathlib import Path
from conformance.net import namespace, sandbox
args = json.loads(sys.argv[1])
if args["namespace"]:
    assert namespace.enter(), namespace.why_unavailable()
tree = Path(args["tree"])
own = tree / "subs" / "alice"
argv = sandbox.wrap([args["python"], str(own / "program.py"), str(tree), str(args["port"]),
                     args["tmp_file"]], writable=own, cwd=own,
                    hide=[tree / "subs", tree / "out", tree / "weights.json"],
                    private_pids=args["private_pids"])
proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                        start_new_session=True)
line = proc.stdout.readline()
if not line:
    print(json.dumps({"failed": proc.stderr.read()}))
    sys.exit(0)
report = json.loads(line)
pid = sandbox.program_pid(proc.pid)
report["outside_sees_program"] = bool(pid) and "program.py" in open(f"/proc/{pid}/cmdline").read()
report["outside_reads_status"] = "VmRSS" in open(f"/proc/{pid}/status").read() if pid else False
report["same_group"] = bool(pid) and os.getpgid(pid) == proc.pid
with socket.create_connection(("127.0.0.1", report["port"]), timeout=5) as s:
    s.sendall(b"ping\n")
    report["echo"] = s.recv(64).decode()
report["exit"] = proc.wait(timeout=10)
report["tmp_visible_outside"] = os.path.exists(args["tmp_file"])
print(json.dumps(report))
"""


@pytest.fixture
def tree():
    """A class's folder outside /tmp (the sandbox's /tmp is private, so a write to a folder
    under /tmp would land there and prove nothing)."""
    base = Path(tempfile.mkdtemp(prefix="echo-lab-sandbox-", dir="/var/tmp"))
    base.chmod(0o777)  # anyone may write here: only the sandbox stops the program
    (base / "subs" / "alice").mkdir(parents=True)
    (base / "subs" / "bob").mkdir()
    (base / "out").mkdir()
    (base / "subs" / "bob" / "answer").write_text("bob's secret\n")
    (base / "weights.json").write_text("{}\n")
    (base / "subs" / "alice" / "program.py").write_text(PROGRAM)
    for path in [base, *base.rglob("*")]:
        path.chmod(0o777 if path.is_dir() else 0o666)
    yield base
    shutil.rmtree(base, ignore_errors=True)


def run_sandboxed(tree: Path, *, as_user: int | None = None, namespace: bool = True,
                  private_pids: bool = True) -> dict:
    reason = reasons(as_user)["sandbox" if namespace else "namespace"]
    if reason and namespace:
        pytest.skip(reason)
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap (bwrap) is not installed")
    if as_user is not None:
        os.chown(tree / "subs" / "alice", as_user, as_user)
    args = {"namespace": namespace, "tree": str(tree), "private_pids": private_pids,
            "python": interpreter_for(as_user), "port": 2000 if namespace else 0,
            "tmp_file": f"/tmp/echo-lab-private-{secrets.token_hex(8)}"}
    done = subprocess.run(python_command(DRIVER, as_user=as_user) + [json.dumps(args)],
                          capture_output=True, text=True, timeout=30, env=environment())
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert "failed" not in report, report["failed"]
    return report


def check_confined(report: dict, tree: Path) -> None:
    assert report["write_own"] == "ok" and (tree / "subs" / "alice" / "mine.txt").exists()
    assert report["write_tmp"] == "ok" and not report["tmp_visible_outside"], "/tmp is private"
    assert report["write_outside"] == "EROFS" and not (tree / "outside.txt").exists()
    assert report["write_hidden"] == "EROFS" and not (tree / "subs" / "planted").exists()
    assert report["read_hidden"] == "ENOENT", "another submission is not even there"
    assert report["read_weights"] in ("EACCES", ""), "the grader's file reads as nothing"
    assert report["read_via_proc"] == [], "no way round through /proc/<pid>/root"
    assert int(report["cap_eff"], 16) == 0, "no capabilities, even as the namespace's root"
    assert report["packet_socket"] == "EPERM", "it cannot capture the harness's traffic"
    assert report["echo"] == "ping\n" and report["exit"] == 0
    assert report["outside_sees_program"] and report["outside_reads_status"]
    assert report["same_group"], "the harness's process-group probes find it"


def check_private_network(report: dict) -> None:
    assert report["interfaces"] == ["lo"]
    if report["routes"] is not None:
        assert report["routes"], "lo's own routes are listed"
        assert all(" dev lo " in f"{line} " for line in report["routes"]), report["routes"]


def test_sandboxed_in_the_private_network(tree):
    report = run_sandboxed(tree)
    check_confined(report, tree)
    check_private_network(report)


@pytest.mark.skipif(os.getuid() != 0, reason="switching to nobody with setpriv needs root")
def test_sandboxed_as_nobody_in_the_private_network(tree):
    report = run_sandboxed(tree, as_user=NOBODY)
    check_confined(report, tree)
    check_private_network(report)


@pytest.mark.skipif(os.getuid() != 0, reason="switching to nobody with setpriv needs root")
def test_sandboxed_as_nobody_without_a_namespace(tree):
    report = run_sandboxed(tree, as_user=NOBODY, namespace=False)
    check_confined(report, tree)


def test_without_a_pid_namespace_the_hidden_file_leaks_through_proc(tree):
    # The broken fixture of the /proc check: with the harness's processes in view, the
    # sandboxed program reads a hidden submission through /proc/<harness pid>/root.
    report = run_sandboxed(tree, private_pids=False)
    assert report["read_hidden"] == "ENOENT"
    assert report["read_via_proc"], "the check above would catch this leak"
    with pytest.raises(AssertionError, match="/proc"):
        check_confined(report, tree)


def test_the_command_line(tmp_path):
    own = tmp_path / "class" / "alice"
    inner = own / ".grader"
    inner.mkdir(parents=True)
    weights = tmp_path / "weights.json"
    weights.write_text("{}")
    argv = sandbox.wrap(["./server", "--port", "2000"], writable=own, cwd=own,
                        hide=[tmp_path / "class", inner, weights, tmp_path / "missing"])
    assert argv[0].endswith("bwrap")
    assert argv[argv.index("--") + 1 :] == ["./server", "--port", "2000"]
    for flag in ("--die-with-parent", "--unshare-pid"):
        assert flag in argv
    assert argv[argv.index("--cap-drop") + 1] == "ALL"
    assert "--unshare-net" not in argv and "--unshare-all" not in argv
    assert argv[argv.index("--ro-bind") + 1 : argv.index("--ro-bind") + 3] == ["/", "/"]
    assert argv[argv.index("--chdir") + 1] == str(own)

    def position(*words: str) -> int:
        n = len(words)
        return next(i for i in range(len(argv)) if argv[i : i + n] == list(words))

    # /tmp, then the hidden class folder, then the own folder on top, then what is hidden
    # inside the own folder, and only then the covers are made read-only.
    assert position("--tmpfs", "/tmp") < position("--tmpfs", str(tmp_path / "class"))
    assert position("--tmpfs", str(tmp_path / "class")) < position("--bind", str(own), str(own))
    assert position("--bind", str(own), str(own)) < position("--tmpfs", str(inner))
    assert position("--tmpfs", str(inner)) < position("--remount-ro", str(tmp_path / "class"))
    assert position("--ro-bind", "/dev/null", str(weights))
    assert str(tmp_path / "missing") not in argv
    assert "--unshare-pid" not in sandbox.wrap(["x"], writable=own, cwd=own, private_pids=False)
    with pytest.raises(ValueError):
        sandbox.wrap(["x"], writable=tmp_path / "nope", cwd=tmp_path)
    with pytest.raises(ValueError):
        sandbox.wrap([], writable=own, cwd=own)
