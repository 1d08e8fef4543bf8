"""Packet capture of a case's traffic into a classic pcap file that tshark and Wireshark read,
with no tcpdump: a thread reads an AF_PACKET socket bound to the interface (lo).

    with Capture(case_dir / "trace.pcap") as trace:
        ...                                   # the case runs
    trace.packets, trace.drops, trace.ring, trace.start_seconds, trace.stop_seconds

Opening an AF_PACKET socket needs CAP_NET_RAW, which the private namespace of `namespace.py`
gives to an ordinary user; capture runs only there, and `why_unavailable()` says why not
elsewhere.

On lo the kernel shows every packet twice, once leaving and once arriving; a socket filter drops
the leaving copy in the kernel, so each packet is written once. Frames on lo carry a 14-byte
Ethernet header of zero addresses, so the file's link type is Ethernet. Each packet is cut to
`snaplen` bytes, enough for the Ethernet, IP and TCP headers; the record keeps its original
length.

The kernel copies those bytes into a ring shared with this process (TPACKET_V2), so a burst of
64 KiB loopback segments costs the ring one small frame each, however far the reading thread
falls behind. Setting a ring up takes the kernel milliseconds, so each capture prepares the
next one's in the background (`prepare()` makes the first). Without a ready ring (the first
capture when nothing was prepared, two starts in quick succession, `ring_bytes=0`, or a CPU
whose memory ordering a Python reader cannot honour), packets are read from the socket's
receive queue instead, which net.core.rmem_max caps: a long burst may overflow it. Either way,
the packets the kernel had no room for are counted in `drops`, and `ring` says which was used.

    namespace.enter()
    capture.prepare()
    with Capture(case_dir / "trace.pcap") as trace: ..."""

from __future__ import annotations

import ctypes
import mmap
import os
import platform
import queue
import select
import socket
import struct
import threading
import time
from pathlib import Path

from conformance.net import namespace

_ETH_P_ALL = 0x0003
_SOL_SOCKET = 1
_SOL_PACKET = 263
_SO_RCVBUF = 8
_SO_RCVBUFFORCE = 33
_SO_TIMESTAMP = 29
_SO_ATTACH_FILTER = 26
_PACKET_RX_RING = 5
_PACKET_STATISTICS = 6
_PACKET_VERSION = 10
_TPACKET_V2 = 1
_TP_STATUS_USER = 1
_PACKET_OUTGOING = 4
_LINKTYPE_ETHERNET = 1
RING_BYTES = 4 << 20
RECEIVE_BUFFER = 32 << 20  # asked for; the kernel grants at most twice net.core.rmem_max
_RING_BLOCK = 1 << 18
_FRAME_HEADER = 80  # where the kernel puts the network header in a TPACKET_V2 frame
_V2_HEADER = struct.Struct("IIIHHII")  # status, len, snaplen, mac, net, sec, nsec
_TIMEVAL = struct.Struct("qq")
_RECORD = struct.Struct("<IIII")
_STRONGLY_ORDERED = {"x86_64", "amd64", "i386", "i686"}

_SKF_AD_PKTTYPE = -0x1000 + 4


def _filter(snaplen: int) -> list[tuple[int, int, int, int]]:
    """Classic BPF: load the packet type from the kernel's ancillary data, drop
    PACKET_OUTGOING, keep (at most) the first `snaplen` bytes of every other packet."""
    return [
        (0x30, 0, 0, _SKF_AD_PKTTYPE & 0xFFFFFFFF),  # ldb [pkttype]
        (0x15, 0, 1, _PACKET_OUTGOING),  # jeq #OUTGOING, drop, keep
        (0x06, 0, 0, 0),  # drop: ret #0
        (0x06, 0, 0, snaplen),  # keep: ret #snaplen
    ]


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8),
                ("k", ctypes.c_uint32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.POINTER(_SockFilter))]


def why_unavailable() -> str | None:
    """None when this process may capture, else why not. Only inside the private namespace: on
    the host, lo carries everybody's traffic."""
    if not namespace.inside():
        reason = namespace.why_unavailable()
        return ("packets are captured only inside the private network namespace"
                + (f" ({reason})" if reason else " (this process has not entered it)"))
    if not hasattr(socket, "AF_PACKET"):
        return "no AF_PACKET sockets on this system"
    try:
        socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0).close()
    except OSError as e:
        return f"cannot open a packet socket: {e.strerror}"
    return None


class Capture:
    """A context manager that captures `interface` into the pcap file `path` while it is open."""

    def __init__(self, path: Path, interface: str = "lo", snaplen: int = 128,
                 ring_bytes: int = RING_BYTES) -> None:
        self.path = Path(path)
        self.interface = interface
        self.snaplen = snaplen
        self.ring_bytes = ring_bytes
        self.packets = 0  # packets written
        self.drops = 0  # packets the kernel had no room for
        self.ring = False  # True when a ring was used, False for the receive queue
        self.start_seconds = 0.0
        self.stop_seconds = 0.0
        self.error: str | None = None  # set when the reading thread failed
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._map: mmap.mmap | None = None
        self._wake_read = self._wake_write = -1

    def __enter__(self) -> Capture:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError(f"{self.path}: this capture is running already")
        if not namespace.inside():
            raise OSError(why_unavailable())
        started = time.perf_counter()
        ring = _take_ring(self.snaplen, self.ring_bytes)
        if ring is not None:
            sock, self._map, self._geometry = ring
            self.ring = True
        else:
            sock = _open_queue()
        try:
            sock.bind((self.interface, _ETH_P_ALL))
            self._out = open(self.path, "wb")
        except BaseException:
            if self._map is not None:
                self._map.close()
                self._map = None
            sock.close()
            raise
        self._out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, self.snaplen,
                                    _LINKTYPE_ETHERNET))
        self._sock = sock
        self._wake_read, self._wake_write = os.pipe()
        self._written = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"capture {self.path.name}",
                                        daemon=True)
        self._thread.start()
        if self.ring_bytes:
            _prepare_in_background(self.snaplen, self.ring_bytes)  # for the next capture
        self.start_seconds = time.perf_counter() - started

    def stop(self) -> None:
        """Write out what is queued and close the file. Closing a packet socket waits for the
        kernel's RCU grace period (milliseconds); the thread does that after stop() returned."""
        if self._thread is None:
            return
        started = time.perf_counter()
        os.write(self._wake_write, b"x")
        self._written.wait()
        os.close(self._wake_read)
        os.close(self._wake_write)
        self._thread = None
        self.stop_seconds = time.perf_counter() - started

    def _run(self) -> None:
        try:
            if self._map is not None:
                self._read_ring()
            else:
                self._read_queue()
        except OSError as e:
            self.error = f"capture stopped: {e.strerror}"
        finally:
            self.drops += _dropped(self._sock)
            self._out.close()
            self._written.set()
            if self._map is not None:
                self._map.close()
            self._sock.close()

    def _read_ring(self) -> None:
        ring, out = self._map, self._out
        block, frame, per_block, count = self._geometry
        poller = select.poll()
        poller.register(self._sock.fileno(), select.POLLIN | select.POLLERR)
        poller.register(self._wake_read, select.POLLIN)
        at, stopping = 0, False
        while True:
            # Take every frame the kernel handed over; after the wake-up that includes the
            # case's last packets.
            while True:
                offset = at // per_block * block + at % per_block * frame
                header = _V2_HEADER.unpack_from(ring, offset)
                status, length, kept, mac, _, seconds, nanos = header
                if not status & _TP_STATUS_USER:
                    break
                kept = min(kept, self.snaplen)
                out.write(_RECORD.pack(seconds, nanos // 1000, kept, length))
                out.write(ring[offset + mac : offset + mac + kept])
                self.packets += 1
                struct.pack_into("I", ring, offset, 0)  # the frame goes back to the kernel
                at = (at + 1) % count
            if stopping:
                return
            events = poller.poll()
            stopping = any(fd == self._wake_read for fd, _ in events)
            self.drops += _dropped(self._sock)

    def _read_queue(self) -> None:
        sock, out = self._sock, self._out
        view = memoryview(bytearray(self.snaplen))
        ancillary = socket.CMSG_SPACE(_TIMEVAL.size)
        fd = sock.fileno()
        sock.setblocking(False)
        stopping = False
        while True:
            while True:
                try:
                    length, cmsgs, _, address = sock.recvmsg_into([view], ancillary,
                                                                  socket.MSG_TRUNC)
                except BlockingIOError:
                    break
                if address[2] == _PACKET_OUTGOING:
                    continue
                seconds, micros = _timestamp(cmsgs)
                kept = min(length, self.snaplen)
                out.write(_RECORD.pack(seconds, micros, kept, length))
                out.write(view[:kept])
                self.packets += 1
            if stopping:
                return
            ready, _, _ = select.select([fd, self._wake_read], [], [])
            stopping = self._wake_read in ready
            self.drops += _dropped(sock)


# Setting up a ring makes the kernel wait for an RCU grace period, far longer than a capture may
# take to start; so the ring of the next capture is made ready in the background while the
# current one runs. When none is ready, the capture reads the socket's receive queue instead.
_rings: dict[tuple, tuple] = {}
_rings_lock = threading.Lock()
_preparing: set[tuple] = set()
_wanted: queue.SimpleQueue = queue.SimpleQueue()
_preparer: threading.Thread | None = None


def prepare(snaplen: int = 128, ring_bytes: int = RING_BYTES) -> bool:
    """Make a ring ready for the next Capture with these settings, now (this takes a few
    milliseconds). Call it once after namespace.enter(); each capture then prepares the ring of
    the one after it in the background. False where no ring can be had."""
    if not namespace.inside():
        return False
    key = (namespace.netns_id(), snaplen, ring_bytes)
    with _rings_lock:
        if key in _rings:
            return True
    ring = _open_ring(snaplen, ring_bytes)
    if ring is None:
        return False
    with _rings_lock:
        if key in _rings:
            _close_ring(ring)
        else:
            _rings[key] = ring
        _start_preparer()  # now, rather than in the first capture's start()
    return True


def _start_preparer() -> None:
    global _preparer
    if _preparer is None:
        _preparer = threading.Thread(target=_prepare_forever, name="capture rings", daemon=True)
        _preparer.start()


def _take_ring(snaplen: int, ring_bytes: int) -> tuple | None:
    if not ring_bytes or platform.machine().lower() not in _STRONGLY_ORDERED:
        return None
    key = (namespace.netns_id(), snaplen, ring_bytes)
    with _rings_lock:
        return _rings.pop(key, None)


def _prepare_in_background(snaplen: int, ring_bytes: int) -> None:
    """Ask the preparing thread for a ring; never waits. One long-lived thread does the work, so
    that start() does not pay for starting a thread."""
    if platform.machine().lower() not in _STRONGLY_ORDERED:
        return
    key = (namespace.netns_id(), snaplen, ring_bytes)
    with _rings_lock:
        if key in _rings or key in _preparing:
            return
        _preparing.add(key)
        _start_preparer()
    _wanted.put(key)


def _prepare_forever() -> None:
    while True:
        key = _wanted.get()
        try:
            prepare(*key[1:])
        finally:
            with _rings_lock:
                _preparing.discard(key)


def _open_ring(snaplen: int, ring_bytes: int) -> tuple | None:
    """An unbound packet socket with its filter and a TPACKET_V2 ring mapped, or None."""
    if not ring_bytes or platform.machine().lower() not in _STRONGLY_ORDERED:
        return None
    frame = (_FRAME_HEADER + snaplen + 15) // 16 * 16
    block = min(_RING_BLOCK, max(mmap.PAGESIZE, ring_bytes))
    block = (block + mmap.PAGESIZE - 1) // mmap.PAGESIZE * mmap.PAGESIZE
    blocks = max(1, ring_bytes // block)
    per_block = block // frame
    # Protocol 0 receives nothing until bind(), so nothing gets in while it waits.
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    try:
        _attach_filter(sock, snaplen)
        _setsockopt_unlocked(sock, _PACKET_VERSION, struct.pack("i", _TPACKET_V2))
        _setsockopt_unlocked(sock, _PACKET_RX_RING,
                             struct.pack("IIII", block, blocks, frame, per_block * blocks))
        mapped = mmap.mmap(sock.fileno(), block * blocks, mmap.MAP_SHARED,
                           mmap.PROT_READ | mmap.PROT_WRITE)
    except OSError:
        sock.close()
        return None
    return sock, mapped, (block, frame, per_block, per_block * blocks)


def _setsockopt_unlocked(sock: socket.socket, option: int, value: bytes) -> None:
    """setsockopt(SOL_PACKET, ...) through ctypes, which lets go of the interpreter lock while
    the kernel waits out its grace period: socket.setsockopt would stop every thread."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setsockopt(sock.fileno(), _SOL_PACKET, option, value, len(value)) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))


def _close_ring(ring: tuple) -> None:
    ring[1].close()
    ring[0].close()


def _open_queue() -> socket.socket:
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    try:
        # The queue reports a packet's original length only for packets kept whole.
        _attach_filter(sock, 0x40000)
        try:
            sock.setsockopt(_SOL_SOCKET, _SO_RCVBUFFORCE, RECEIVE_BUFFER)
        except OSError:  # needs CAP_NET_ADMIN on the host
            sock.setsockopt(_SOL_SOCKET, _SO_RCVBUF, RECEIVE_BUFFER)
        sock.setsockopt(_SOL_SOCKET, _SO_TIMESTAMP, 1)
    except BaseException:
        sock.close()
        raise
    return sock


def _attach_filter(sock: socket.socket, snaplen: int) -> None:
    code = _filter(snaplen)
    program = (_SockFilter * len(code))(*[_SockFilter(*op) for op in code])
    fprog = _SockFprog(len(code), program)
    sock.setsockopt(_SOL_SOCKET, _SO_ATTACH_FILTER, bytes(memoryview(fprog)))


def _timestamp(cmsgs) -> tuple[int, int]:
    for level, kind, data in cmsgs:
        if level == _SOL_SOCKET and kind == _SO_TIMESTAMP and len(data) >= _TIMEVAL.size:
            return _TIMEVAL.unpack_from(data)
    now = time.time()
    return int(now), int((now % 1) * 1_000_000)


def _dropped(sock: socket.socket) -> int:
    """Drops since the last call (the kernel resets the counters on each read)."""
    try:
        _, drops = struct.unpack("II", sock.getsockopt(_SOL_PACKET, _PACKET_STATISTICS, 8))
    except OSError:
        return 0
    return drops
