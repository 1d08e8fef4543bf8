"""The server under test seen from /proc: which process really holds the listening socket (a
run template may start a shell or a launcher first), its memory, CPU time and descriptors, and
the TIME_WAIT sockets on a port.

    pid = listener_pid(process.proc.pid, port)
    before = Usage.of(pid)
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

LISTEN, TIME_WAIT = "0A", "06"  # the st column of /proc/net/tcp
TICKS = os.sysconf("SC_CLK_TCK")


def sockets(port: int, state: str) -> list[str]:
    """The inodes of the TCP sockets (IPv4 and IPv6) bound to local `port` in `state`."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == state:
                found.append(fields[9])
    return found


def time_wait_count(port: int) -> int:
    return len(sockets(port, TIME_WAIT))


def group_members(group: int) -> list[int]:
    """The processes of a process group (the harness starts each program as a group leader)."""
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[2]) == group:
                members.append(int(entry))
    return members


def listener_pid(group: int, port: int) -> int:
    """The process of the group that holds the socket listening on `port`: the server itself,
    not a shell or launcher in front of it. The group leader if none is found."""
    wanted = {f"socket:[{inode}]" for inode in sockets(port, LISTEN)}
    for pid in sorted(group_members(group)):
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") in wanted:
                    return pid
            except OSError:
                continue
    return group


@dataclass(frozen=True)
class Usage:
    """One look at a process: memory in KiB, CPU seconds (every thread), open descriptors."""
    rss_kib: int
    hwm_kib: int
    cpu: float
    fds: int
    at: float

    @staticmethod
    def of(pid: int) -> "Usage":
        status = {}
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                status[key] = int(value.split()[0])
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime, all threads
        return Usage(status.get("VmRSS", 0), status.get("VmHWM", 0), cpu, len(os.listdir(f"/proc/{pid}/fd")),
                     time.monotonic())


def mib(kib: float) -> str:
    return f"{kib / 1024:.1f} MiB"


def settle_fds(pid: int, target: int, within: float) -> tuple[int, float]:
    """Wait until the process has at most `target` descriptors open, up to `within` seconds:
    the count at the end and how long it took."""
    started = time.monotonic()
    while True:
        count = len(os.listdir(f"/proc/{pid}/fd"))
        elapsed = time.monotonic() - started
        if count <= target or elapsed >= within:
            return count, elapsed
        time.sleep(0.02)
