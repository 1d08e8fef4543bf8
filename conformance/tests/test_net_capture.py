"""Packet capture inside the private namespace: a real loopback connection written to a pcap
file that our reader and tshark both read back, each packet once, cut to the snap length with
its original length kept, drops counted, and starting and stopping quick enough to run around
every case."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys

import pytest

from conformance.net import capture
from conformance.net.ladder import (ACK, CLIENT_TO_SERVER, FIN, RST, SERVER_TO_CLIENT, SYN, ladder,
                                    read_pcap)
from conformance.net.conversations import capture_scenario, environment, python_command, reasons


@pytest.fixture(autouse=True)
def need_capture():
    reason = reasons()["capture"]
    if reason:
        pytest.skip(reason)


def records(path) -> list[tuple[int, int, bytes]]:
    """(kept length, original length, frame) of each record of a little-endian pcap file."""
    data = path.read_bytes()
    found, at = [], 24
    while at < len(data):
        _, _, kept, original = struct.unpack_from("<IIII", data, at)
        found.append((kept, original, data[at + 16 : at + 16 + kept]))
        at += 16 + kept
    return found


def twice_each(packets) -> list:
    """The packets seen more than once: what keeping lo's outgoing copies would give."""
    seen, again = set(), []
    for p in packets:
        key = (p.sport, p.dport, p.seq, p.ack, p.flags, p.payload)
        if key in seen:
            again.append(p)
        seen.add(key)
    return again


@pytest.mark.parametrize("ring", [True, False], ids=["ring", "queue"])
def test_a_connection_is_captured_once_each_packet(tmp_path, ring):
    pcap = tmp_path / "trace.pcap"
    report = capture_scenario("fin", pcap, ring=ring)
    assert report["ring"] is ring
    magic, major, minor, _, _, snaplen, link = struct.unpack_from("<IHHiIII", pcap.read_bytes())
    assert (magic, major, minor, snaplen, link) == (0xA1B2C3D4, 2, 4, 128, 1)
    frames = records(pcap)
    assert all(frame[:12] == bytes(12) and frame[12:14] == b"\x08\x00" for _, _, frame in frames)

    packets = read_pcap(pcap)
    assert len(packets) == len(frames) == report["packets"] and report["drops"] == 0
    port = report["port"]
    to_server = [p for p in packets if p.dport == port]
    to_client = [p for p in packets if p.sport == port]
    assert packets[0].flags == SYN and packets[0].dport == port
    assert packets[1].flags == SYN | ACK and packets[1].sport == port
    assert sum(p.payload for p in to_server) == sum(p.payload for p in to_client) == 6
    assert [p.has(FIN) for p in to_server].count(True) == 1
    assert [p.has(FIN) for p in to_client].count(True) == 1
    assert not any(p.has(RST) for p in packets)
    assert twice_each(packets) == [], "lo's outgoing copies are left out"
    assert packets == sorted(packets, key=lambda p: p.time)

    # The broken fixture: the same file with every record written twice.
    doubled = tmp_path / "doubled.pcap"
    data = pcap.read_bytes()
    doubled.write_bytes(data[:24] + b"".join(2 * record for record in raw_records(data)))
    assert len(twice_each(read_pcap(doubled))) == len(packets)

    if shutil.which("tshark") is None:
        pytest.skip("tshark is not installed: the file was checked with our reader only")
    shown = subprocess.run(["tshark", "-r", str(pcap), "-T", "fields", "-e", "tcp.flags",
                            "-e", "tcp.len", "-e", "tcp.srcport"], capture_output=True,
                           text=True, timeout=30)
    assert shown.returncode == 0, shown.stderr
    rows = [line.split("\t") for line in shown.stdout.splitlines()]
    assert [(int(f, 16), int(n), int(s)) for f, n, s in rows] == [
        (p.flags, p.payload, p.sport) for p in packets]


def raw_records(data: bytes) -> list[bytes]:
    found, at = [], 24
    while at < len(data):
        end = at + 16 + struct.unpack_from("<I", data, at + 8)[0]
        found.append(data[at:end])
        at = end
    return found


def test_a_megabyte_stream_is_cut_to_the_snap_length_with_its_lengths_kept(tmp_path):
    pcap = tmp_path / "trace.pcap"
    report = capture_scenario("stream", pcap)
    assert report["ring"]
    frames = records(pcap)
    assert max(kept for kept, _, _ in frames) <= 128
    assert max(original for _, original, _ in frames) > 60_000, "64 KiB loopback segments"
    # Every byte is there once at least (loopback TCP may send some again under memory
    # pressure): the data lengths cover the whole megabyte each way.
    port = report["port"]
    rows = ladder(read_pcap(pcap), port)
    for direction in (CLIENT_TO_SERVER, SERVER_TO_CLIENT):
        assert sum(r.bytes for r in rows if r.what == "data" and r.direction == direction) == (
            1 << 20)
    assert report["drops"] == 0
    assert pcap.stat().st_size < 40_000, "headers only: a few KiB for a 2 MiB exchange"


DROPS = r"""
import json, subprocess, sys, time
from conformance.net import capture, namespace
from conformance.net.capture import Capture
assert namespace.enter()
assert capture.prepare(ring_bytes=int(sys.argv[2]))
# 8 MiB over the loopback from a child process while this one holds the GIL in a busy loop, so
# the capture thread cannot empty its ring meanwhile, however fast the machine: a one-page ring
# must then drop frames, a roomy one must not.
EXCHANGE = (
    "import socket, threading\n"
    "listener = socket.create_server(('127.0.0.1', 0))\n"
    "client = socket.create_connection(listener.getsockname())\n"
    "conn, _ = listener.accept()\n"
    "def sink():\n"
    "    while conn.recv(1 << 20):\n"
    "        pass\n"
    "reader = threading.Thread(target=sink)\n"
    "reader.start()\n"
    "client.sendall(b'x' * (8 << 20))\n"
    "client.shutdown(socket.SHUT_WR)\n"
    "reader.join()\n")
with Capture(sys.argv[1], ring_bytes=int(sys.argv[2])) as trace:
    child = subprocess.Popen([sys.executable, "-c", EXCHANGE])
    sys.setswitchinterval(10)
    deadline = time.monotonic() + 20
    while child.poll() is None and time.monotonic() < deadline:
        pass
    sys.setswitchinterval(0.005)
    child.wait(10)
print(json.dumps({"packets": trace.packets, "drops": trace.drops, "ring": trace.ring}))
"""


def drops_with(ring_bytes: int, tmp_path) -> dict:
    done = subprocess.run(python_command(DROPS) + [str(tmp_path / "t.pcap"), str(ring_bytes)],
                          capture_output=True, text=True, timeout=30, env=environment())
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_drops_are_counted(tmp_path):
    starved = drops_with(4096, tmp_path)  # a ring of one page: room for a few frames
    assert starved["ring"] and starved["drops"] > 0
    assert starved["packets"] == len(read_pcap(tmp_path / "t.pcap"))
    roomy = drops_with(capture.RING_BYTES, tmp_path)
    assert roomy["ring"] and roomy["drops"] == 0


TIMING = r"""
import json, socket, statistics, sys, time
from pathlib import Path
from conformance.net import capture, namespace
from conformance.net.capture import Capture
assert namespace.enter()
capture.prepare()
listener = socket.create_server(("127.0.0.1", 0))
starts, stops, rings = [], [], 0
for i in range(30):
    with Capture(Path(sys.argv[1]) / f"{i}.pcap") as trace:
        client = socket.create_connection(listener.getsockname())
        conn, _ = listener.accept()
        client.sendall(b"ping\n")
        conn.recv(64)
        client.close()
        conn.close()
        time.sleep(0.02)  # a case takes a while: time for the next ring to be made ready
    rings += trace.ring
    starts.append(trace.start_seconds * 1000)
    stops.append(trace.stop_seconds * 1000)
print(json.dumps({"start_ms": statistics.median(starts), "stop_ms": statistics.median(stops),
                  "start_max": max(starts), "stop_max": max(stops), "packets": trace.packets,
                  "rings": rings}))
"""


def test_starting_and_stopping_take_a_few_milliseconds(tmp_path):
    done = subprocess.run(python_command(TIMING) + [str(tmp_path)], capture_output=True,
                          text=True, timeout=60, env=environment())
    assert done.returncode == 0, done.stderr
    timing = json.loads(done.stdout)
    assert timing["packets"] >= 7
    assert timing["rings"] >= 15, "most captures found their ring ready"
    assert timing["start_ms"] < 5 and timing["stop_ms"] < 5, timing


def test_no_capture_outside_the_namespace(tmp_path):
    reason = capture.why_unavailable()
    assert reason and "namespace" in reason
    with pytest.raises(OSError, match="namespace"):
        capture.Capture(tmp_path / "host.pcap").start()
    assert not (tmp_path / "host.pcap").exists()


def test_the_scenarios_refuse_bad_arguments(tmp_path):
    done = subprocess.run([sys.executable, "-m", "conformance.net.conversations", "nope",
                           str(tmp_path / "x.pcap")], capture_output=True, text=True,
                          timeout=20, env=environment())
    assert done.returncode == 2 and "usage" in done.stderr
