"""A private user + network namespace for a whole harness run.

Inside it the run has its own loopback and nothing else: fixed ports (the chapter's 2000) never
collide with the host or with another run, packets can be captured and faults injected without
privileges on the host, and nothing a graded program does reaches beyond that loopback.

Call `enter()` once, first thing in a run, while the process has a single thread: the kernel
refuses a new user namespace to a multithreaded process. Every child process started afterwards
inherits the namespace. When it is not possible, `enter()` returns False, the process is left as
it was, and `why_unavailable()` says why in one line; the run then uses the host's loopback with
ephemeral ports.

Setting ECHO_LAB_NO_NAMESPACE=1 in the environment makes the namespace unavailable on purpose,
to exercise that fallback (or to grade on the host's loopback)."""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import socket
import struct
import sys

DISABLE_VARIABLE = "ECHO_LAB_NO_NAMESPACE"
# Set by enter() to the namespace's identity, so that child processes can tell they are inside.
MARK_VARIABLE = "ECHO_LAB_NAMESPACE"

_CLONE_NEWUSER = 0x10000000
_CLONE_NEWNET = 0x40000000
_SIOCGIFFLAGS = 0x8913
_SIOCSIFFLAGS = 0x8914
_IFF_UP = 0x1

_probe_result: str | None = None
_probed = False
_failure: str | None = None


def why_unavailable() -> str | None:
    """None when `enter()` can succeed (or already did), else the reason in one line."""
    global _probe_result, _probed
    if inside():
        return None
    if os.environ.get(DISABLE_VARIABLE, "") not in ("", "0"):
        return f"{DISABLE_VARIABLE} is set: using the host's loopback"
    if not sys.platform.startswith("linux"):
        return f"no Linux namespaces on {sys.platform}: using the host's loopback"
    if _failure:
        return _failure
    threads = _thread_count()
    if threads > 1:
        return (f"the process already runs {threads} threads; a user namespace needs a "
                "single-threaded process (enter() must come first)")
    if not _probed:
        _probe_result = _probe()
        _probed = True
    return _probe_result


def enter() -> bool:
    """Move this process into a new user + network namespace with loopback up. True on success;
    False (process unchanged) when `why_unavailable()` gives a reason. Calling it again once
    inside does nothing and returns True."""
    global _failure
    if inside():
        return True
    if why_unavailable() is not None:
        return False
    uid, gid = os.getuid(), os.getgid()
    try:
        _unshare()
    except OSError as e:
        _failure = f"unshare(CLONE_NEWUSER | CLONE_NEWNET) failed: {e.strerror}"
        return False
    # From here the process has changed; the probe made the same steps succeed, so a failure
    # now is a surprise worth stopping for rather than a fallback.
    _map_ids(uid, gid)
    _loopback_up()
    os.environ[MARK_VARIABLE] = _netns_id()
    return True


def inside() -> bool:
    """True in a process that entered the namespace, and in its children."""
    mark = os.environ.get(MARK_VARIABLE)
    return bool(mark) and mark == _netns_id()


def interfaces() -> list[str]:
    """The names of the network interfaces this process sees."""
    return [name for _, name in socket.if_nameindex()]


def routes() -> list[str]:
    """The routes this process sees (IPv4's main table, every IPv6 table), one line each, as
    "ipv4 0.0.0.0/0 dev eth0": inside the namespace every one of them is on lo."""
    found = []
    try:
        with open("/proc/net/route") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if len(fields) >= 8:
                    net = socket.inet_ntoa(struct.pack("<I", int(fields[1], 16)))
                    bits = bin(int(fields[7], 16)).count("1")
                    found.append(f"ipv4 {net}/{bits} dev {fields[0]}")
    except OSError:
        pass
    try:
        with open("/proc/net/ipv6_route") as f:
            for line in f:
                fields = line.split()
                if len(fields) >= 10:
                    net = socket.inet_ntop(socket.AF_INET6, bytes.fromhex(fields[0]))
                    found.append(f"ipv6 {net}/{int(fields[1], 16)} dev {fields[9]}")
    except OSError:
        pass
    return found


def _thread_count() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Threads:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 1


def netns_id() -> str:
    """The identity of this process's network namespace, as /proc/self/ns/net names it."""
    return _netns_id()


def _netns_id() -> str:
    try:
        return os.readlink("/proc/self/ns/net")
    except OSError:
        return ""


def _unshare() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(ctypes.c_int(_CLONE_NEWUSER | _CLONE_NEWNET)) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def _map_ids(uid: int, gid: int) -> None:
    # An unprivileged process may map only its own ids, and only after giving up setgroups(2).
    try:
        _write("/proc/self/setgroups", "deny")
    except FileNotFoundError:  # kernels before 3.19 have no such file and need no such step
        pass
    _write("/proc/self/uid_map", f"0 {uid} 1")
    _write("/proc/self/gid_map", f"0 {gid} 1")


def _loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        request = struct.pack("16sH22x", b"lo", 0)
        flags = struct.unpack("16sH22x", fcntl.ioctl(s.fileno(), _SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(s.fileno(), _SIOCSIFFLAGS, struct.pack("16sH22x", b"lo", flags | _IFF_UP))


def _probe() -> str | None:
    """Try every step of enter() in a throwaway child, so a refusal leaves this process as it
    was. The child's first line on the pipe is its error, empty on success."""
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
    except OSError as e:
        os.close(read_end)
        os.close(write_end)
        return f"cannot fork to probe for namespaces: {e.strerror}"
    if pid == 0:  # the child: report and leave without running any of the parent's cleanup
        os.close(read_end)
        message = ""
        try:
            uid, gid = os.getuid(), os.getgid()
            _unshare()
            _map_ids(uid, gid)
            _loopback_up()
        except OSError as e:
            message = _explain(e)
        except BaseException as e:  # noqa: BLE001 - anything at all must reach the parent
            message = f"namespace probe failed: {e!r}"
        os.write(write_end, message.encode()[:4000] or b"-")
        os._exit(0)
    os.close(write_end)
    try:
        chunks = []
        while chunk := os.read(read_end, 4096):
            chunks.append(chunk)
    finally:
        os.close(read_end)
        os.waitpid(pid, 0)
    message = b"".join(chunks).decode(errors="replace")
    if message == "-":
        return None
    return message or "namespace probe died without a word"


def _explain(e: OSError) -> str:
    step = e.filename or "unshare(CLONE_NEWUSER | CLONE_NEWNET)"
    hint = ""
    if e.errno in (errno.EPERM, errno.EACCES) and step.startswith("unshare"):
        hint = (" (unprivileged user namespaces are disabled here, e.g. by "
                "kernel.unprivileged_userns_clone=0, user.max_user_namespaces=0, a container's "
                "seccomp profile or AppArmor)")
    elif e.errno == errno.ENOSPC:
        hint = " (user.max_user_namespaces reached)"
    return f"no private network namespace: {step}: {e.strerror}{hint}"
