"""The packet ladder: a pcap file turned into the few lines a student can read, both directions
in order with relative times (SYN, data lengths, FIN, RST, a zero window), as text for a failure
printout and as SVG for a case's HTML page.

    rows = ladder(read_pcap(case_dir / "trace.pcap"), server_port=2000)
    print("\\n".join(render_text(rows)))

      +0.000s  client ------------- SYN ------------->  server
      +0.000s  client <----------- SYN-ACK -----------  server
      +0.001s  client ---------- data 6 bytes ------->  server
      +0.001s  client <--------- data 6 bytes --------  server
      +0.002s  client ------------- FIN ------------->  server
      +0.002s  client <------------ FIN --------------  server

Pure ACKs are left out. A short conversation is shown turn by turn (each side's data until the
other side answers is one row); a long one, such as a 64 MiB stream, is summarised in a few
rows (each side's data is one row until a FIN or a RST; zero windows counted). Bytes a segment
sends again are counted as retransmitted, not twice."""

from __future__ import annotations

import html
import ipaddress
import struct
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
CLIENT_TO_SERVER = "client->server"
SERVER_TO_CLIENT = "server->client"
MAX_ROWS = 60
TURN_ROWS = 20  # a connection with more rows than this turn by turn is summarised


@dataclass(frozen=True)
class Packet:
    """One TCP segment as captured: `payload` is its data length from the IP header (the file
    may hold only the first bytes), `window` the raw header field (not scaled)."""
    time: float
    src: str
    dst: str
    sport: int
    dport: int
    flags: int
    payload: int
    window: int
    seq: int = 0
    ack: int = 0

    def has(self, flag: int) -> bool:
        return bool(self.flags & flag)


@dataclass(frozen=True)
class Row:
    """One line of the ladder. `what` is SYN, SYN-ACK, data, FIN, RST, zero window, or cut (the
    note of rows left out to keep the ladder short)."""
    time: float  # seconds since the ladder's first packet
    connection: int  # 1, 2, ... in order of appearance
    direction: str  # CLIENT_TO_SERVER or SERVER_TO_CLIENT ("" for a cut)
    what: str
    segments: int = 1  # data segments coalesced, or times a window was closed
    bytes: int = 0  # new data bytes (data rows)
    until: float = 0.0  # time of the last segment (or zero window) the row stands for
    retransmitted: int = 0  # segments that sent again what was sent already
    note: str = ""

    @property
    def label(self) -> str:
        if self.what == "cut":
            return self.note
        again = f", {self.retransmitted} retransmitted" if self.retransmitted else ""
        if self.what == "zero window" and self.segments > 1:
            return f"zero window, {self.segments} times in {self.until - self.time:.3f}s"
        if self.what != "data":
            return f"{self.what} again" if self.retransmitted else self.what
        if self.segments == 1:
            return f"data {self.bytes:,} bytes{again}"
        spread = self.until - self.time
        span = f" in {spread:.3f}s" if spread >= 0.0005 else ""
        return f"data, {self.segments} segments, {self.bytes:,} bytes{again}{span}"


# ---- reading ------------------------------------------------------------------------------

_LINK_HEADER = {1: "ethernet", 101: "raw", 228: "ipv4", 229: "ipv6", 113: "sll", 0: "null",
                108: "loop"}


def read_pcap(path: Path) -> list[Packet]:
    """The IPv4 and IPv6 TCP segments of a classic pcap file (microsecond or nanosecond
    timestamps, either byte order), in file order. Anything else in the file is skipped."""
    data = Path(path).read_bytes()
    if len(data) < 24:
        raise ValueError(f"{path}: not a pcap file (only {len(data)} bytes)")
    magic = data[:4]
    formats = {b"\xd4\xc3\xb2\xa1": ("<", 1e-6), b"\xa1\xb2\xc3\xd4": (">", 1e-6),
               b"\x4d\x3c\xb2\xa1": ("<", 1e-9), b"\xa1\xb2\x3c\x4d": (">", 1e-9)}
    if magic == b"\x0a\x0d\x0d\x0a":
        raise ValueError(f"{path}: a pcapng file; convert it with: editcap -F pcap IN OUT")
    if magic not in formats:
        raise ValueError(f"{path}: not a pcap file")
    order, unit = formats[magic]
    link = struct.unpack_from(order + "I", data, 20)[0] & 0xFFFF
    if link not in _LINK_HEADER:
        raise ValueError(f"{path}: link type {link} is not supported")
    record = struct.Struct(order + "IIII")
    packets = []
    offset = 24
    while offset + record.size <= len(data):
        seconds, fraction, kept, original = record.unpack_from(data, offset)
        offset += record.size
        frame = data[offset : offset + kept]
        offset += kept
        packet = _decode(frame, link, original, order, seconds + fraction * unit)
        if packet is not None:
            packets.append(packet)
    return packets


def _decode(frame: bytes, link: int, original: int, order: str, when: float) -> Packet | None:
    kind = _LINK_HEADER[link]
    ethertype = None
    if kind == "ethernet":
        at, ethertype = 14, frame[12:14]
        while ethertype in (b"\x81\x00", b"\x88\xa8") and len(frame) >= at + 4:  # VLAN tags
            ethertype, at = frame[at + 2 : at + 4], at + 4
    elif kind == "sll":
        at, ethertype = 16, frame[14:16]
    elif kind in ("null", "loop"):
        at = 4
    else:
        at = 0
    ip = frame[at:]
    if len(ip) < 1:
        return None
    version = ip[0] >> 4
    if ethertype not in (None, b"\x08\x00", b"\x86\xdd"):
        return None
    # The data length comes from the IP header; a 0 there (a GSO super-segment) falls back to
    # the frame's original length.
    if version == 4 and len(ip) >= 20:
        header = (ip[0] & 0x0F) * 4
        if ip[9] != 6 or struct.unpack_from(">H", ip, 6)[0] & 0x1FFF:  # not TCP, or a fragment
            return None
        total = struct.unpack_from(">H", ip, 2)[0] or original - at
        src, dst = _ipv4(ip[12:16]), _ipv4(ip[16:20])
        tcp_at, ip_left = header, total - header
    elif version == 6 and len(ip) >= 40:
        total = struct.unpack_from(">H", ip, 4)[0] or original - at - 40
        src, dst = _ipv6(ip[8:24]), _ipv6(ip[24:40])
        proto, tcp_at, ip_left = ip[6], 40, total
        while proto in (0, 43, 60) and len(ip) >= tcp_at + 2:  # hop-by-hop, routing, dest opts
            length = (ip[tcp_at + 1] + 1) * 8
            proto, tcp_at, ip_left = ip[tcp_at], tcp_at + length, ip_left - length
        if proto != 6:
            return None
    else:
        return None
    tcp = ip[tcp_at:]
    if len(tcp) < 20:
        return None
    sport, dport, seq, ack, offset_flags, window = struct.unpack_from(">HHIIHH", tcp)
    payload = max(0, ip_left - (offset_flags >> 12) * 4)
    return Packet(when, src, dst, sport, dport, offset_flags & 0xFF, payload, window, seq, ack)


def _ipv4(raw: bytes) -> str:
    return ".".join(str(b) for b in raw)


def _ipv6(raw: bytes) -> str:
    return str(ipaddress.IPv6Address(raw))


# ---- the ladder ---------------------------------------------------------------------------


@dataclass
class _Side:
    origin: int | None = None  # the sequence number of this side's first data byte
    high: int = 0  # how many bytes from the origin have been seen, the highest end
    holes: list = field(default_factory=list)  # [start, end) not seen yet below `high`
    zero: bool = False
    run: dict | None = None
    zero_row: dict | None = None


@dataclass
class _Connection:
    number: int
    isn: int | None
    sides: dict = field(default_factory=lambda: {CLIENT_TO_SERVER: _Side(),
                                                 SERVER_TO_CLIENT: _Side()})
    syn_seen: set = field(default_factory=set)
    fin_seen: set = field(default_factory=set)


def ladder(packets: list[Packet], server_port: int, max_rows: int = MAX_ROWS) -> list[Row]:
    """The ladder of every connection to or from `server_port`, as plain rows.

    A connection whose ladder fits in TURN_ROWS rows is shown turn by turn: the data one side
    sends in a row is one row, until the other side sends data. A longer one (a stream, a long
    conversation) is summarised: each side's data is one row until something other than data
    happens on the connection (SYN, FIN, RST, the first zero window of each side), however it
    interleaves with the other side's, and later zero windows are counted in the first. Past
    `max_rows` rows in all, the middle is cut, with a note of what."""
    mine = [p for p in packets if server_port in (p.sport, p.dport)]
    if not mine:
        return []
    turns = _rows(mine, server_port, by_turns=True)
    summary = _rows(mine, server_port, by_turns=False)
    size = Counter(row["connection"] for row in turns)
    chosen = [row for row in turns if size[row["connection"]] <= TURN_ROWS]
    chosen += [row for row in summary if size[row["connection"]] > TURN_ROWS]
    chosen.sort(key=lambda row: row.pop("order"))
    return _shorten([Row(**row) for row in chosen], max_rows)


def _rows(mine: list[Packet], server_port: int, by_turns: bool) -> list[dict]:
    start = mine[0].time
    rows: list[dict] = []
    connections: dict[tuple, _Connection] = {}
    count = 0
    index = 0

    def emit(conn: _Connection, direction: str, what: str, when: float, **extra) -> dict:
        row = {"time": when - start, "connection": conn.number, "direction": direction,
               "what": what, "order": (index, len(rows)), **extra}
        rows.append(row)
        return row

    def close_runs(conn: _Connection) -> None:
        for side in conn.sides.values():
            side.run = None

    for index, p in enumerate(mine):
        direction = CLIENT_TO_SERVER if p.dport == server_port else SERVER_TO_CLIENT
        other = SERVER_TO_CLIENT if direction == CLIENT_TO_SERVER else CLIENT_TO_SERVER
        if direction == CLIENT_TO_SERVER:
            key = (p.src, p.sport, p.dst)
        else:
            key = (p.dst, p.dport, p.src)
        conn = connections.get(key)
        opening = direction == CLIENT_TO_SERVER and p.has(SYN) and not p.has(ACK)
        if conn is None or (opening and conn.isn is not None and p.seq != conn.isn):
            count += 1
            conn = connections[key] = _Connection(count, p.seq if opening else None)
        side = conn.sides[direction]

        if p.has(SYN):
            name = "SYN-ACK" if p.has(ACK) else "SYN"
            again = 1 if (direction in conn.syn_seen) else 0
            conn.syn_seen.add(direction)
            close_runs(conn)
            emit(conn, direction, name, p.time, retransmitted=again)
            if side.origin is None:
                side.origin = (p.seq + 1) & 0xFFFFFFFF
        if p.payload:
            new, again = _new_bytes(side, p)
            if by_turns:
                conn.sides[other].run = None
            if side.run is None:
                side.run = emit(conn, direction, "data", p.time, segments=1, bytes=new,
                                until=p.time - start, retransmitted=again)
            else:
                run = side.run
                run["segments"] += 1
                run["bytes"] += new
                run["until"] = p.time - start
                run["retransmitted"] += again
        if p.has(FIN):
            again = 1 if direction in conn.fin_seen else 0
            conn.fin_seen.add(direction)
            close_runs(conn)
            emit(conn, direction, "FIN", p.time, retransmitted=again)
        if p.has(RST):
            close_runs(conn)
            emit(conn, direction, "RST", p.time)
        elif not p.has(SYN):
            if p.window == 0 and not side.zero:
                side.zero = True
                if by_turns or side.zero_row is None:
                    close_runs(conn)
                    side.zero_row = emit(conn, direction, "zero window", p.time, segments=1,
                                         until=p.time - start)
                else:  # a stream stalls often: one row that counts them, the data runs on
                    side.zero_row["segments"] += 1
                    side.zero_row["until"] = p.time - start
            elif p.window:
                side.zero = False
    return rows


def _new_bytes(side: _Side, p: Packet) -> tuple[int, int]:
    """How many of the segment's bytes were not seen before, and 1 if it sent again any that
    were. Bytes are counted from the side's origin, the 32-bit sequence numbers unwrapped; a
    segment captured after a later one (two CPUs) fills the hole it left."""
    if side.origin is None:  # the capture began after the SYN
        side.origin = p.seq
    # The unwrapped offset nearest to the highest end seen so far.
    delta = (p.seq - side.origin - side.high) & 0xFFFFFFFF
    start = side.high + (delta - (1 << 32) if delta >= 1 << 31 else delta)
    end = start + p.payload
    new, before = 0, side.high
    if end > before:
        if start > before:
            side.holes.append([before, start])
            del side.holes[:-1000]  # a capture that lost packets leaves holes that stay
        new = end - max(start, before)
        side.high = end
    low, high = start, min(end, before)
    if high <= low:
        return new, 0
    filled, left = 0, []
    for hole_start, hole_end in side.holes:
        overlap = min(high, hole_end) - max(low, hole_start)
        if overlap <= 0:
            left.append([hole_start, hole_end])
            continue
        filled += overlap
        if hole_start < low:
            left.append([hole_start, low])
        if high < hole_end:
            left.append([high, hole_end])
    side.holes = left
    return new + filled, 0 if filled == high - low else 1


def _shorten(rows: list[Row], max_rows: int) -> list[Row]:
    if len(rows) <= max_rows:
        return rows
    tail = max(1, max_rows // 3)
    head = max_rows - tail - 1
    cut = rows[head : len(rows) - tail]
    numbers = sorted({r.connection for r in cut})
    span = (f"connection {numbers[0]}" if len(numbers) == 1
            else f"connections {numbers[0]}-{numbers[-1]}")
    note = (f"... {len(cut)} rows cut ({span}, +{cut[0].time:.3f}s to +{cut[-1].time:.3f}s) ...")
    marker = Row(cut[0].time, 0, "", "cut", segments=0, until=cut[-1].time, note=note)
    return rows[:head] + [marker] + rows[len(rows) - tail :]


# ---- drawing ------------------------------------------------------------------------------


def render_text(rows: list[Row]) -> list[str]:
    """One line per row: relative time, then the client on the left, the server on the right
    and an arrow between them."""
    if not rows:
        return ["(no packets of this connection were captured)"]
    labels = [r.label for r in rows if r.what != "cut"]
    width = max([len(label) for label in labels] + [3]) + 12
    times = [f"+{r.time:.3f}s" for r in rows]
    time_width = max(len(t) for t in times)
    several = len({r.connection for r in rows if r.what != "cut"}) > 1
    lines = []
    for row, when in zip(rows, times):
        if row.what == "cut":
            lines.append(f"{'':{time_width}}  {row.note}")
            continue
        inner = f" {row.label} "
        left = (width - len(inner)) // 2
        right = width - len(inner) - left
        if row.direction == CLIENT_TO_SERVER:
            arrow = "-" * left + inner + "-" * (right - 1) + ">"
        else:
            arrow = "<" + "-" * (left - 1) + inner + "-" * right
        number = f"#{row.connection}  " if several else ""
        lines.append(f"{when:>{time_width}}  {number}client {arrow}  server")
    return lines


_COLOURS = {"SYN": "#6b7280", "SYN-ACK": "#6b7280", "data": "#1f2937", "FIN": "#1d4ed8",
            "RST": "#b91c1c", "zero window": "#b45309"}


def render_html(rows: list[Row]) -> str:
    """The same ladder as an inline SVG figure: the client's line on the left, the server's on
    the right, one arrow per row, RST in red and FIN in blue."""
    if not rows:
        return '<p class="ladder">No packets of this connection were captured.</p>'
    step, top, left, right, width = 26, 40, 170, 610, 680
    height = top + step * len(rows) + 10
    several = len({r.connection for r in rows if r.what != "cut"}) > 1
    out = [f'<figure class="ladder"><svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
           f'height="{height}" viewBox="0 0 {width} {height}" font-family="monospace" '
           'font-size="12" role="img" aria-label="packet ladder">',
           "<defs>" + "".join(
               f'<marker id="ladder-{name.replace(" ", "-")}" viewBox="0 0 10 10" refX="10" '
               f'refY="5" markerWidth="7" markerHeight="7" orient="auto">'
               f'<path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
               for name, colour in _COLOURS.items()) + "</defs>",
           f'<text x="{left}" y="18" text-anchor="middle" font-weight="bold">client</text>',
           f'<text x="{right}" y="18" text-anchor="middle" font-weight="bold">server</text>',
           f'<line x1="{left}" y1="26" x2="{left}" y2="{height - 6}" stroke="#9ca3af"/>',
           f'<line x1="{right}" y1="26" x2="{right}" y2="{height - 6}" stroke="#9ca3af"/>']
    for i, row in enumerate(rows):
        y = top + step * i + 12
        if row.what == "cut":
            out.append(f'<text x="{(left + right) // 2}" y="{y}" text-anchor="middle" '
                       f'fill="#6b7280">{html.escape(row.note)}</text>')
            continue
        colour = _COLOURS.get(row.what, "#1f2937")
        start, end = (left, right) if row.direction == CLIENT_TO_SERVER else (right, left)
        tag = f"#{row.connection} " if several else ""
        out.append(f'<text x="8" y="{y}" fill="#6b7280">+{row.time:.3f}s {tag}</text>')
        title = html.escape(f"connection {row.connection}, {row.direction}: {row.label}")
        out.append(f'<g><title>{title}</title>'
                   f'<line x1="{start}" y1="{y}" x2="{end}" y2="{y}" stroke="{colour}" '
                   f'stroke-width="{2 if row.what in ("RST", "FIN") else 1.2}" '
                   f'marker-end="url(#ladder-{row.what.replace(" ", "-")})"/>'
                   f'<text x="{(left + right) // 2}" y="{y - 4}" text-anchor="middle" '
                   f'fill="{colour}">{html.escape(row.label)}</text></g>')
    out.append("</svg></figure>")
    return "\n".join(out)
