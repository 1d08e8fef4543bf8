"""A program seen from /proc: the processes of its group, which of them really holds the
listening socket (a run template may start a shell or a launcher first), the ports it listens
on, its memory, CPU time and descriptors, and the TIME_WAIT sockets on a port. The one place
the harness reads /proc.

    pid = listener_pid(process.pid, port)
    before = Usage.of(pid)
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

LISTEN, TIME_WAIT = "0A", "06"  # the st column of /proc/net/tcp
TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name (which may hold spaces)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


@dataclass(frozen=True)
class TcpSocket:
    port: int  # local
    peer_port: int
    state: str  # the st column: LISTEN, TIME_WAIT, ...
    unread: int  # bytes in its receive queue
    inode: str


def _tcp_table() -> list[TcpSocket]:
    """Every TCP socket, IPv4 and IPv6, of this network namespace."""
    rows = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            rows.append(TcpSocket(int(fields[1].rsplit(":", 1)[1], 16), int(fields[2].rsplit(":", 1)[1], 16),
                                  fields[3], int(fields[4].split(":")[1], 16), fields[9]))
    return rows


def sockets(port: int, state: str) -> list[str]:
    """The inodes of the TCP sockets bound to local `port` in `state`."""
    return [t.inode for t in _tcp_table() if t.port == port and t.state == state]


def unread(port: int, peer_port: int) -> int | None:
    """Bytes waiting, unread, in the receive queue of the socket on local `port` connected to
    `peer_port` (on this machine's loopback); None when there is no such socket."""
    return next((t.unread for t in _tcp_table() if (t.port, t.peer_port) == (port, peer_port)), None)


def time_wait_count(port: int) -> int:
    return len(sockets(port, TIME_WAIT))


def group_members(group: int) -> list[int]:
    """The processes of a process group (the harness starts each program as a group leader)."""
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if int(_stat_fields(int(entry))[2]) == group:
                    members.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return members


def _socket_inodes(pid: int) -> set[str]:
    found = set()
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return found
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            found.add(target[8:-1])
    return found


def listening_ports(group: int) -> set[int]:
    """The TCP ports on which a process of the group listens."""
    inodes = set()
    for pid in group_members(group):
        inodes |= _socket_inodes(pid)
    return {t.port for t in _tcp_table() if t.state == LISTEN and t.inode in inodes}


def listener_pid(group: int, port: int) -> int:
    """The process of the group that holds the socket listening on `port`: the server itself,
    not a shell or launcher in front of it. The group leader if none is found."""
    wanted = set(sockets(port, LISTEN))
    for pid in sorted(group_members(group)):
        if _socket_inodes(pid) & wanted:
            return pid
    return group


def threads(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


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
        fields = _stat_fields(pid)
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
