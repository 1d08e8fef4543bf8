"""The packet ladder, from pcaps of real loopback connections captured in a private namespace:
an orderly FIN close (IPv4 and IPv6), a close by RST, a half-close, a 1 MiB stream coalesced to
a few rows; and each check shown failing on a broken copy of its trace."""

from __future__ import annotations

import re
import struct
import xml.etree.ElementTree as ElementTree

import pytest

from conformance.net.ladder import (ACK, CLIENT_TO_SERVER, FIN, RST, SERVER_TO_CLIENT, SYN,
                                    Packet, ladder, read_pcap, render_html, render_text)
from conformance.net.conversations import capture_scenario, reasons

C, S = CLIENT_TO_SERVER, SERVER_TO_CLIENT


@pytest.fixture(scope="module")
def traces(tmp_path_factory):
    reason = reasons()["capture"]
    if reason:
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("ladder")
    found = {}
    for name in ("fin", "fin6", "rst", "half-close", "stream"):
        pcap = folder / f"{name}.pcap"
        found[name] = (pcap, capture_scenario(name, pcap)["port"])
    return found


def rows_of(pcap, port):
    return ladder(read_pcap(pcap), port)


def shape(rows) -> list[tuple]:
    return [(r.direction, r.what) + ((r.bytes,) if r.what == "data" else ()) for r in rows]


# Each check returns what is wrong with a ladder, nothing when it tells the expected story.

def fin_close_problems(rows) -> list[str]:
    expected = [(C, "SYN"), (S, "SYN-ACK"), (C, "data", 6), (S, "data", 6), (C, "FIN"),
                (S, "FIN")]
    return [] if shape(rows) == expected else [f"expected {expected}, got {shape(rows)}"]


def rst_close_problems(rows) -> list[str]:
    problems = []
    if (S, "RST") not in shape(rows):
        problems.append("the server's RST is missing")
    if any(r.what == "FIN" for r in rows):
        problems.append("a FIN where the server reset")
    if shape(rows)[:3] != [(C, "SYN"), (S, "SYN-ACK"), (C, "data", 6)]:
        problems.append(f"the opening is wrong: {shape(rows)[:3]}")
    return problems


def half_close_problems(rows) -> list[str]:
    expected = [(C, "data", 8), (C, "FIN"), (S, "data", 8), (S, "FIN")]
    return [] if shape(rows)[2:] == expected else [f"expected {expected}, got {shape(rows)[2:]}"]


def stream_problems(rows) -> list[str]:
    problems = []
    for direction in (C, S):
        sent = sum(r.bytes for r in rows if r.what == "data" and r.direction == direction)
        if sent != 1 << 20:
            problems.append(f"{direction} sent {sent:,} bytes, not 1,048,576")
    if not any(r.what == "data" and r.segments > 1 for r in rows):
        problems.append("no data segments were coalesced")
    if len(rows) > 24:
        problems.append(f"{len(rows)} rows for one stream")
    if [r.what for r in rows].count("FIN") != 2 or any(r.what == "RST" for r in rows):
        problems.append("not closed by two FINs")
    return problems


def rewrite(source, target, change) -> None:
    """Copy a pcap, passing each frame (a bytearray) and its packet to `change`, which edits
    the frame in place or returns False to leave the record out."""
    data = source.read_bytes()
    packets = read_pcap(source)
    out, at, index = bytearray(data[:24]), 24, 0
    while at < len(data):
        kept = struct.unpack_from("<I", data, at + 8)[0]
        header, frame = data[at : at + 16], bytearray(data[at + 16 : at + 16 + kept])
        if change(frame, packets[index]) is not False:
            out += header + frame
        at, index = at + 16 + kept, index + 1
    assert index == len(packets), "every record of these traces is a TCP segment"
    target.write_bytes(bytes(out))


def set_flags(frame: bytearray, flags: int) -> None:
    ip = 14
    tcp = ip + ((frame[ip] & 0x0F) * 4 if frame[ip] >> 4 == 4 else 40)
    frame[tcp + 13] = flags


@pytest.mark.parametrize("name", ["fin", "fin6"])
def test_an_orderly_close_shows_both_fins(traces, name, tmp_path):
    pcap, port = traces[name]
    rows = rows_of(pcap, port)
    assert fin_close_problems(rows) == []
    assert {r.connection for r in rows} == {1}

    def fin_to_rst(frame, p):
        if p.sport == port and p.has(FIN):
            set_flags(frame, RST | ACK)

    broken = tmp_path / "broken.pcap"  # the server's FIN turned into a RST
    rewrite(pcap, broken, fin_to_rst)
    assert fin_close_problems(rows_of(broken, port))


def test_a_close_by_rst_shows_the_rst(traces, tmp_path):
    pcap, port = traces["rst"]
    rows = rows_of(pcap, port)
    assert rst_close_problems(rows) == []
    assert any(re.search(r"client <-+ RST -+  server$", line) for line in render_text(rows))
    broken = tmp_path / "broken.pcap"  # the RST left out
    rewrite(pcap, broken, lambda frame, p: False if p.has(RST) else None)
    assert rst_close_problems(rows_of(broken, port))


def test_a_half_close_shows_the_clients_fin_before_the_echo(traces, tmp_path):
    pcap, port = traces["half-close"]
    rows = rows_of(pcap, port)
    assert half_close_problems(rows) == []
    broken = tmp_path / "broken.pcap"  # the client's FIN left out
    rewrite(pcap, broken, lambda frame, p: False if p.dport == port and p.has(FIN) else None)
    assert half_close_problems(rows_of(broken, port))


def test_a_megabyte_stream_stays_a_few_rows(traces, tmp_path):
    pcap, port = traces["stream"]
    rows = rows_of(pcap, port)
    assert stream_problems(rows) == []
    assert any(re.fullmatch(r"data, \d+ segments, [\d,]+ bytes( in [\d.]+s)?", r.label)
               for r in rows)
    dropped = []

    def drop_one(frame, p):
        if p.dport == port and p.payload and not dropped:
            dropped.append(p)
            return False

    broken = tmp_path / "broken.pcap"  # one data segment lost from the trace
    rewrite(pcap, broken, drop_one)
    assert stream_problems(rows_of(broken, port))


def test_the_text_ladder(traces):
    pcap, port = traces["fin"]
    rows = rows_of(pcap, port)
    lines = render_text(rows)
    assert len(lines) == len(rows)
    assert re.fullmatch(r"\+\d+\.\d{3}s  client -+ SYN -+>  server", lines[0])
    assert re.fullmatch(r"\+\d+\.\d{3}s  client <-+ SYN-ACK -+  server", lines[1])
    assert re.fullmatch(r"\+\d+\.\d{3}s  client -+ data 6 bytes -+>  server", lines[2])
    assert re.fullmatch(r"\+\d+\.\d{3}s  client <-+ FIN -+  server", lines[-1])
    times = [float(line.split("s")[0]) for line in lines]
    assert times == sorted(times) and times[0] == 0
    assert len({len(line) for line in lines}) == 1, "the arrows line up"


def test_the_html_ladder_draws_the_same_rows(traces):
    pcap, port = traces["rst"]
    rows = rows_of(pcap, port)
    page = render_html(rows)
    figure = ElementTree.fromstring(page)  # well-formed
    ns = "{http://www.w3.org/2000/svg}"
    arrows = [e for e in figure.iter(f"{ns}line") if e.get("marker-end")]
    assert len(arrows) == len(rows)
    labels = [e.text for e in figure.iter(f"{ns}text")]
    assert [r.label for r in rows] == [t for t in labels if t in {r.label for r in rows}]
    rst = [e for e in arrows if e.get("stroke") == "#b91c1c"]
    assert len(rst) == 1 and float(rst[0].get("x1")) > float(rst[0].get("x2")), "server to client"


def synthetic(*segments) -> list[Packet]:
    """Packets from (time, direction, flags, seq, payload, window, client port) tuples."""
    out = []
    for when, direction, flags, seq, payload, window, cport in segments:
        if direction == C:
            out.append(Packet(when, "127.0.0.1", "127.0.0.1", cport, 2000, flags, payload,
                              window, seq))
        else:
            out.append(Packet(when, "127.0.0.1", "127.0.0.1", 2000, cport, flags, payload,
                              window, seq))
    return out


def test_a_long_ladder_is_cut_with_a_note():
    segments = []
    for n in range(100):
        t, port = n * 0.01, 40000 + n
        segments += [(t, C, SYN, 1, 0, 100, port), (t, S, SYN | ACK, 9, 0, 100, port),
                     (t, C, ACK | 0x08, 2, 5, 100, port), (t, C, FIN | ACK, 7, 0, 100, port),
                     (t, S, FIN | ACK, 10, 0, 100, port)]
    rows = ladder(synthetic(*segments), 2000)
    assert len(rows) == 60
    cut = [r for r in rows if r.what == "cut"]
    assert len(cut) == 1 and "441 rows cut" in cut[0].note and "connections" in cut[0].note
    lines = render_text(rows)
    assert cut[0].note in "\n".join(lines)
    assert lines[0].split()[1] == "#1" and lines[-1].split()[1] == "#100"
    assert len(ladder(synthetic(*segments[:50]), 2000)) == 50, "short ladders are not cut"


def test_resent_bytes_count_once_and_zero_windows_once_per_stall():
    rows = ladder(synthetic(
        (0.0, C, SYN, 100, 0, 100, 5000), (0.0, S, SYN | ACK, 900, 0, 100, 5000),
        (0.1, C, ACK, 101, 5, 100, 5000), (0.3, C, ACK, 101, 5, 100, 5000),
        (0.7, C, ACK, 101, 8, 100, 5000),  # resends 5, adds 3
        (0.8, S, ACK, 901, 0, 0, 5000), (0.9, S, ACK, 901, 0, 0, 5000),
        (1.0, S, ACK, 901, 0, 50, 5000), (1.1, S, ACK, 901, 0, 0, 5000),
        (1.2, C, SYN, 100, 0, 100, 5000),  # the SYN sent again: the same connection
        (2.0, C, SYN, 7777, 0, 100, 5000),  # the port used again: a new connection
    ), 2000)
    data = [r for r in rows if r.what == "data"]
    assert [(r.segments, r.bytes, r.retransmitted) for r in data] == [(3, 8, 2)]
    assert data[0].label == "data, 3 segments, 8 bytes, 2 retransmitted in 0.600s"
    assert [r.time for r in rows if r.what == "zero window"] == [0.8, 1.1]
    assert [(r.what, r.connection, r.label) for r in rows if r.what == "SYN"] == [
        ("SYN", 1, "SYN"), ("SYN", 1, "SYN again"), ("SYN", 2, "SYN")]


def test_a_segment_captured_late_fills_its_hole_and_sequence_numbers_wrap():
    isn = 0xFFFFFFF8  # the data crosses 2**32
    rows = ladder(synthetic(
        (0.0, C, SYN, isn, 0, 100, 5000), (0.0, S, SYN | ACK, 0, 0, 100, 5000),
        (0.1, C, ACK, (isn + 1) & 0xFFFFFFFF, 4, 100, 5000),
        (0.1, C, ACK, (isn + 9) & 0xFFFFFFFF, 4, 100, 5000),  # ahead of the next one
        (0.1, C, ACK, (isn + 5) & 0xFFFFFFFF, 4, 100, 5000),  # late, but new
        (0.2, C, ACK, (isn + 5) & 0xFFFFFFFF, 4, 100, 5000),  # sent again
        (0.3, C, ACK, (isn + 13) & 0xFFFFFFFF, 4, 100, 5000),
    ), 2000)
    data = [r for r in rows if r.what == "data"]
    assert [(r.segments, r.bytes, r.retransmitted) for r in data] == [(5, 16, 1)]


def ping_pong(exchanges: int) -> list[Packet]:
    segments = [(0.0, C, SYN, 0, 0, 100, 5000), (0.0, S, SYN | ACK, 0, 0, 100, 5000)]
    for n in range(exchanges):
        segments += [(0.1 * n, C, ACK, 1 + 4 * n, 4, 100, 5000),
                     (0.1 * n + 0.01, S, ACK, 1 + 4 * n, 4, 100, 5000)]
    return synthetic(*segments)


def test_a_short_conversation_turn_by_turn_a_long_one_summarised():
    short = ladder(ping_pong(3), 2000)
    assert [(r.direction, r.what, r.bytes) for r in short[2:]] == [
        (C, "data", 4), (S, "data", 4)] * 3
    long = ladder(ping_pong(30), 2000)
    assert [(r.direction, r.what, r.segments, r.bytes) for r in long[2:]] == [
        (C, "data", 30, 120), (S, "data", 30, 120)]


def test_a_file_that_is_not_a_pcap_is_refused(tmp_path):
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(b"\x0a\x0d\x0d\x0a" + bytes(40))
    with pytest.raises(ValueError, match="pcapng"):
        read_pcap(bad)
    bad.write_bytes(b"hello")
    with pytest.raises(ValueError, match="not a pcap"):
        read_pcap(bad)
    assert ladder([], 2000) == [] and render_text([]) and "No packets" in render_html([])
