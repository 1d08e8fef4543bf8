"""The short-count and EINTR shim (cpp/tools/short_io_shim.cpp) does what the kernel may do, and
only that: calls that could block cut short or interrupted, on sockets (and pipes unless
ECHO_LAB_SHIM_ONLY=sockets); a read on a non-blocking socket still returns everything waiting."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conformance import process
from conformance.cases.shim import SHIM, shim_env

PROBE = r'''
import socket, threading, time
a, b = socket.socketpair()
counts = []
def drain():
    while b.recv(1 << 20):
        pass
reader = threading.Thread(target=drain)
reader.start()
for _ in range(40):
    counts.append(a.send(b"x" * 65536))
a.shutdown(socket.SHUT_WR)
reader.join()
c, d = socket.socketpair()
d.setblocking(False)
c.sendall(b"z" * 32768)
time.sleep(0.05)
print(sum(1 for n in counts if n < 65536), len(d.recv(65536)))
'''


@pytest.mark.skipif(not SHIM.is_file(), reason="the shim is not built (run make)")
def test_sends_are_cut_short_and_non_blocking_reads_are_not():
    env = process.environment(shim_env(7))
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=30)
    assert done.returncode == 0, done.stderr
    short_sends, got = map(int, done.stdout.split())
    assert short_sends > 0, "the shim cut no send short: it is not loaded, or not at work"
    assert got == 32768, f"a non-blocking read returned {got} of the 32768 bytes waiting"
    plain = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                           env=process.environment(), timeout=30)
    assert plain.stdout.split()[0] == "0", "without the shim, no send is cut short"
