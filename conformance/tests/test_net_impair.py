"""Faults only a network makes, each seen by a loopback client and server inside a private
namespace (a child process), each compared with the same exchange without the fault (so the
observation can fail), and its rules gone once the context ends."""

from __future__ import annotations

import json
import subprocess

import pytest

from conformance.net import impair
from conformance.net.conversations import environment, python_command, reasons

PRELUDE = r"""
import errno, json, socket, subprocess, sys, threading, time
from conformance.net import impair, namespace
from conformance.net.capture import Capture
from conformance.net.ladder import ladder, read_pcap
assert namespace.enter(), namespace.why_unavailable()
FAMILIES = ("127.0.0.1", "::1")

def family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET

def pair(host):
    listener = socket.create_server((host, 0), family=family(host))
    client = socket.create_connection((host, listener.getsockname()[1]), timeout=5)
    conn, _ = listener.accept()
    listener.close()
    return client.getpeername()[1], client, conn

def outcome(action, timeout=0.4, *socks):
    for s in socks:
        s.settimeout(timeout)
    try:
        return repr(action())
    except socket.timeout:
        return "timeout"
    except OSError as e:
        return errno.errorcode[e.errno]

def rules():
    return subprocess.run(["nft", "list", "ruleset"], capture_output=True, text=True).stdout.strip()

def qdisc():
    return subprocess.run(["tc", "qdisc", "show", "dev", "lo"], capture_output=True,
                          text=True).stdout.split()[:2]

found = {}
"""


def run(feature: str, body: str) -> dict:
    reason = reasons()[feature]
    if reason:
        pytest.skip(reason)
    done = subprocess.run(python_command(PRELUDE + body + "\nprint(json.dumps(found))\n"),
                          capture_output=True, text=True, timeout=60, env=environment())
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


VANISH = r"""
for host in FAMILIES:
    port, client, server = pair(host)
    found[f"{host} without"] = [
        outcome(lambda: client.sendall(b"1") or server.recv(64), 2, server),
        outcome(lambda: server.sendall(b"2") or client.recv(64), 2, client)]
    with Capture(sys.argv[1]) as trace:
        with impair.vanish(port):
            found[f"{host} rules during"] = bool(rules())
            client.sendall(b"hello")
            found[f"{host} with"] = [outcome(lambda: server.recv(64), 0.5, server),
                                     outcome(lambda: client.recv(64), 0.1, client)]
    rows = ladder(read_pcap(sys.argv[1]), port)
    found[f"{host} ladder"] = [(r.direction, r.what, r.bytes, r.retransmitted) for r in rows]
    found[f"{host} rules after"] = rules()
    client.close()
    server.close()
listener = socket.create_server(("127.0.0.1", 0))
port = listener.getsockname()[1]
with impair.vanish(port):
    fresh = socket.socket()
    found["connect"] = outcome(lambda: fresh.connect(("127.0.0.1", port)), 0.5, fresh)
try:
    with impair.vanish(port):
        raise KeyError("the body failed")
except KeyError:
    found["rules after a failure"] = rules()
"""


def test_vanish_drops_everything_without_a_fin_or_a_reset(tmp_path):
    found = run("vanish", VANISH.replace("sys.argv[1]", repr(str(tmp_path / "v.pcap"))))
    for host in ("127.0.0.1", "::1"):
        assert found[f"{host} without"] == ["b'1'", "b'2'"], "the check can see an answer"
        assert found[f"{host} rules during"]
        assert found[f"{host} with"] == ["timeout", "timeout"], "nothing arrives, no error"
        # The trace shows the data sent into the void (and sent again), and no FIN or RST.
        ladder_rows = found[f"{host} ladder"]
        assert ladder_rows and all(row[1] == "data" for row in ladder_rows), ladder_rows
        assert ladder_rows[0][:3] == ["client->server", "data", 5]
        assert ladder_rows[0][3] >= 1, "the kernel sends it again after its retransmission timeout"
        assert found[f"{host} rules after"] == ""
    assert found["connect"] == "timeout", "a SYN into the void is never answered"
    assert found["rules after a failure"] == ""


UNREACHABLE = r"""
for host in FAMILIES:
    listener = socket.create_server((host, 0), family=family(host))
    port = listener.getsockname()[1]
    plain = socket.socket(family(host))
    found[f"{host} without"] = outcome(lambda: plain.connect((host, port)), 3, plain)
    plain.close()
    for kind in ("host", "port"):
        with impair.unreachable(port, kind) as fault:
            attempt = socket.socket(family(host))
            started = time.monotonic()
            got = outcome(lambda: attempt.connect((host, port)), 5, attempt)
            found[f"{host} {kind}"] = [got, errno.errorcode[fault.errno],
                                       time.monotonic() - started]
            attempt.close()
        found[f"{host} {kind} rules after"] = rules()
    listener.close()
"""


def test_unreachable_fails_the_connect_with_the_icmp_errno():
    found = run("unreachable", UNREACHABLE)
    for host in ("127.0.0.1", "::1"):
        assert found[f"{host} without"] == "None", "the check can see a connect succeed"
        assert found[f"{host} host"][:2] == ["EHOSTUNREACH", "EHOSTUNREACH"]
        assert found[f"{host} port"][:2] == ["ECONNREFUSED", "ECONNREFUSED"]
        for kind in ("host", "port"):
            # Well before the 5 s timeout; over IPv6 it takes the SYN's first retransmission.
            assert found[f"{host} {kind}"][2] < 3
            assert found[f"{host} {kind} rules after"] == ""


RESET = r"""
for host in FAMILIES:
    port, client, server = pair(host)
    found[f"{host} without"] = [
        outcome(lambda: client.sendall(b"1") or server.recv(64), 2, server),
        outcome(lambda: server.sendall(b"2") or client.recv(64), 2, client)]
    with impair.reset(port):
        client.sendall(b"hello")
        client_saw = outcome(lambda: client.recv(64), 2, client)
        server.sendall(b"late")
        server_saw = outcome(lambda: server.recv(64), 2, server)
        found[host] = [client_saw, server_saw]
    found[f"{host} rules after"] = rules()
    client.close()
    server.close()
"""


def test_reset_resets_both_ends():
    found = run("reset", RESET)
    for host in ("127.0.0.1", "::1"):
        assert found[f"{host} without"] == ["b'1'", "b'2'"]
        assert found[host] == ["ECONNRESET", "ECONNRESET"]
        assert found[f"{host} rules after"] == ""


SLOW = r"""
def throughput(size):
    port, client, server = pair("127.0.0.1")
    received = []
    def sink():
        total = 0
        while chunk := server.recv(1 << 16):
            total += len(chunk)
        received.append(total)
    reader = threading.Thread(target=sink)
    reader.start()
    started = time.monotonic()
    client.sendall(b"x" * size)
    client.shutdown(socket.SHUT_WR)
    reader.join()
    elapsed = time.monotonic() - started
    client.close()
    server.close()
    assert received == [size]
    return size / elapsed
RATE = 2_000_000
found["without"] = throughput(4_000_000)
with impair.slow_link(RATE):
    found["qdisc during"] = qdisc()
    found["with"] = throughput(2_500_000)
found["qdisc after"] = qdisc()
found["rate"] = RATE
"""


def test_a_slow_link_limits_the_throughput_to_the_rate():
    found = run("slow_link", SLOW)
    rate = found["rate"]
    assert found["without"] > 4 * rate, "the check can see an unlimited loopback"
    assert rate / 2 < found["with"] < rate * 2, found
    assert found["qdisc during"] == ["qdisc", "tbf"]
    assert found["qdisc after"] == ["qdisc", "noqueue"]


def test_no_fault_is_made_outside_the_namespace():
    for feature in impair.FEATURES:
        assert "namespace" in impair.why_unavailable(feature)
    for fault in (impair.vanish(2000), impair.unreachable(2000), impair.reset(2000),
                  impair.slow_link(10_000)):
        with pytest.raises(impair.ImpairmentUnavailable, match="namespace"):
            with fault:
                pass


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        impair.why_unavailable("earthquake")
    with pytest.raises(ValueError):
        impair.vanish(70000)
    with pytest.raises(ValueError):
        impair.unreachable(2000, icmp="network")
    with pytest.raises(ValueError):
        impair.slow_link(10)
