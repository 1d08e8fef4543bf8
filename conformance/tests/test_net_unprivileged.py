"""All of it as an unprivileged user (nobody, via setpriv): a private namespace, a sandboxed
echo server on the chapter's port 2000, the harness's exchange with it captured, the server's
host made to vanish mid-session, and the packet ladder read back from the trace."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from conformance.net.ladder import CLIENT_TO_SERVER, SERVER_TO_CLIENT, read_pcap
from conformance.net.conversations import NOBODY, environment, interpreter_for, python_command, reasons

SERVER = r"""
import socket
listener = socket.create_server(("127.0.0.1", 2000))
print("listening on 127.0.0.1:2000", flush=True)
conn, _ = listener.accept()
while data := conn.recv(64):
    conn.sendall(data)
"""

SCRIPT = r"""
import json, os, signal, socket, subprocess, sys
from pathlib import Path
from conformance.net import capture as capturing, impair, namespace, sandbox
from conformance.net.capture import Capture
from conformance.net.ladder import ladder, read_pcap, render_text
base, python = Path(sys.argv[1]), sys.argv[2]
found = {"uid": os.getuid(), "entered": namespace.enter()}
found["uid_map"] = open("/proc/self/uid_map").read().split()
found["ring ready"] = capturing.prepare()
own = base / "alice"
own.mkdir()
(own / "server.py").write_text(sys.argv[3])
trace = base / "trace.pcap"
with Capture(trace) as capture:
    server = subprocess.Popen(sandbox.wrap([python, "server.py"], writable=own, cwd=own,
                                           hide=[base / "grader"]),
                              stdout=subprocess.PIPE, text=True, start_new_session=True)
    found["ready"] = server.stdout.readline().strip()
    client = socket.create_connection(("127.0.0.1", 2000), timeout=5)
    client.sendall(b"hello\n")
    found["echo"] = client.recv(64).decode()
    with impair.vanish(2000):
        client.sendall(b"more\n")
        client.settimeout(0.5)
        try:
            found["after vanish"] = repr(client.recv(64))
        except socket.timeout:
            found["after vanish"] = "timeout"
        found["rules during"] = bool(subprocess.run(["nft", "list", "ruleset"],
                                                    capture_output=True, text=True).stdout)
    found["rules after"] = subprocess.run(["nft", "list", "ruleset"], capture_output=True,
                                          text=True).stdout
    os.killpg(server.pid, signal.SIGKILL)
    server.wait(timeout=5)
    client.close()
found["drops"] = capture.drops
found["ring"] = capture.ring
found["timing_ms"] = [capture.start_seconds * 1000, capture.stop_seconds * 1000]
rows = ladder(read_pcap(trace), 2000)
found["ladder"] = [[r.direction, r.what, r.bytes, r.retransmitted] for r in rows]
found["text"] = render_text(rows)
print(json.dumps(found))
"""


@pytest.mark.skipif(os.getuid() != 0, reason="switching to nobody with setpriv needs root")
@pytest.mark.skipif(shutil.which("setpriv") is None, reason="setpriv (util-linux) is missing")
def test_namespace_capture_vanish_and_sandbox_as_nobody():
    for feature in ("namespace", "capture", "sandbox", "vanish"):
        reason = reasons(NOBODY)[feature]
        if reason:
            pytest.skip(f"{feature} as nobody: {reason}")
    base = Path(tempfile.mkdtemp(prefix="echo-lab-nobody-", dir="/var/tmp"))
    try:
        (base / "grader").mkdir()
        (base / "grader" / "weights.json").write_text("{}")
        base.chmod(0o777)
        done = subprocess.run(python_command(SCRIPT, as_user=NOBODY)
                              + [str(base), interpreter_for(NOBODY), SERVER],
                              capture_output=True, text=True, timeout=30, env=environment())
        assert done.returncode == 0, done.stderr
        found = json.loads(done.stdout)
        assert found["uid"] == NOBODY and found["entered"]
        assert found["uid_map"] == ["0", str(NOBODY), "1"]
        assert found["ready"] == "listening on 127.0.0.1:2000"
        assert found["echo"] == "hello\n"
        assert found["after vanish"] == "timeout" and found["rules during"]
        assert found["rules after"] == ""
        trace = base / "trace.pcap"
        assert trace.stat().st_uid == NOBODY
        assert found["drops"] == 0 and found["ring ready"] and found["ring"]
        ladder = found["ladder"]
        assert [row[:3] for row in ladder[:4]] == [
            [CLIENT_TO_SERVER, "SYN", 0], [SERVER_TO_CLIENT, "SYN-ACK", 0],
            [CLIENT_TO_SERVER, "data", 6], [SERVER_TO_CLIENT, "data", 6]]
        # The line sent into the void: sent again, never answered while the host was gone.
        assert ladder[4][:3] == [CLIENT_TO_SERVER, "data", 5] and ladder[4][3] >= 1, ladder
        assert len(found["text"]) == len(ladder)
        if shutil.which("tshark"):
            shown = subprocess.run(["tshark", "-r", str(trace)], capture_output=True,
                                   text=True, timeout=30)
            assert shown.returncode == 0 and len(shown.stdout.splitlines()) == len(
                read_pcap(trace))
    finally:
        shutil.rmtree(base, ignore_errors=True)
