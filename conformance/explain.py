"""Turn a failure into text a student can act on: what was sent, what was expected and what
came back with their lengths, the first differing offset, and a hex+ASCII window around it with
a caret under the byte.

      expected  00000000  6f 6e 65 0d 0a 74 77 6f 0d 0a                    |one..two..|
                                   ^^                                          ^
"""

from __future__ import annotations

ROW = 16  # bytes per row, as xxd and hexdump -C show them
HEX_WIDTH = ROW * 3 - 1
PREFIX = 10  # "00000000  "
SENT_PREVIEW = 32
LINE_PREVIEW = 100


def first_difference(expected: bytes, actual: bytes) -> int | None:
    """Offset of the first differing byte, len(shorter) when one is a prefix of the other,
    None when equal."""
    if expected == actual:
        return None
    n = min(len(expected), len(actual))
    # Halve the range instead of scanning byte by byte: 1 MiB compares in a few steps.
    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi) // 2
        if expected[lo:mid + 1] == actual[lo:mid + 1]:
            lo = mid + 1
        else:
            hi = mid
    return lo


def mismatch(expected: bytes, actual: bytes, what: str = "output", lines: bool = False) -> str | None:
    """None when equal; else what differs, as compare() tells it, headed by `what`."""
    if expected == actual:
        return None
    return "\n".join([f"{what} differs:"] + compare(expected, actual, lines))


def explain(observation) -> list[str]:
    """The lines that describe an Observation (conformance/observation.py), without the case
    header: the summary, what was sent, the byte comparison, how the program ended, its notes."""
    o = observation
    out = [o.summary]
    if o.sent is not None:
        out.append(f"sent:     {_preview(o.sent)}")
    if o.expected is not None and o.received is not None:
        out += compare(o.expected, o.received, o.lines)
    elif o.received is not None:
        out.append(f"received: {_preview(o.received)}")
    if o.exit_status is not None:
        out.append(f"exit status: {o.exit_status}")
    if o.stderr:
        out.append("stderr:\n" + _indented(o.stderr))
    out += o.notes
    return out


def _indented(data: bytes, lines: int = 8) -> str:
    text = data.decode("utf-8", errors="replace").rstrip("\n").split("\n")[-lines:]
    return "\n".join("    " + line[:300] for line in text)


def compare(expected: bytes, received: bytes, lines: bool = False) -> list[str]:
    out = [f"expected: {len(expected)} bytes", f"received: {len(received)} bytes"]
    offset = first_difference(expected, received)
    if offset is None:
        out.append("(the bytes are equal)")
        return out
    if offset == len(received) < len(expected):
        out.append(f"received only a prefix: the {len(expected) - offset} bytes from offset {offset} "
                   f"(0x{offset:x}) never came")
    elif offset == len(expected) < len(received):
        out.append(f"{len(received) - offset} unexpected extra bytes from offset {offset} (0x{offset:x})")
    else:
        out.append(f"first difference at offset {offset} (0x{offset:x}): expected 0x{expected[offset]:02x}, "
                   f"received 0x{received[offset]:02x}")
    if lines:
        number = expected.count(b"\n", 0, offset) + 1
        out.append(f"in line {number} of the expected output:")
        out.append(f"  expected line: {_line_at(expected, offset)}")
        out.append(f"  received line: {_line_at(received, offset)}")
    out += window("expected", expected, offset)
    out += window("received", received, offset)
    return out


def window(label: str, data: bytes, offset: int, before: int = 1, after: int = 1) -> list[str]:
    """Rows of a hex dump around `offset`, labelled, with a caret line under the row that holds
    it: `^^` under its hex, `^` under its character (also where a missing byte would be)."""
    row0 = offset - offset % ROW
    first = max(0, row0 - before * ROW)
    last = row0 + after * ROW
    margin = " " * (len(label) + 2)
    out = []
    for start in range(first, last + 1, ROW):
        chunk = data[start:start + ROW]
        if not chunk and start != row0:
            break
        lead = label if start == first else " " * len(label)
        end_note = "   (end of data)" if start == row0 and offset >= len(data) else ""
        out.append(f"  {lead}  {row(start, chunk)}{end_note}")
        if start == row0:
            column = offset - row0
            hex_at = PREFIX + column * 3
            text_at = PREFIX + HEX_WIDTH + 3 + column
            caret = " " * hex_at + "^^" + " " * (text_at - hex_at - 2) + "^"
            out.append(f"  {margin}{caret}")
    return out


def row(start: int, chunk: bytes) -> str:
    """One hexdump -C style row: offset, 16 bytes in hex, the printable ones as text."""
    hexes = " ".join(f"{b:02x}" for b in chunk).ljust(HEX_WIDTH)
    text = "".join(chr(b) if 0x20 <= b < 0x7f else "." for b in chunk)
    return f"{start:08x}  {hexes}  |{text}|"


def hexdump(data: bytes, limit: int = 4096) -> str:
    """The first `limit` bytes as hexdump rows, and how many more there are."""
    rows = [row(start, data[start:start + ROW]) for start in range(0, min(len(data), limit), ROW)]
    if len(data) > limit:
        rows.append(f"... {len(data) - limit} more bytes")
    return "\n".join(rows) if rows else "(empty)"


def _preview(data: bytes) -> str:
    shown = " ".join(f"{b:02x}" for b in data[:SENT_PREVIEW])
    text = "".join(chr(b) if 0x20 <= b < 0x7f else "." for b in data[:SENT_PREVIEW])
    more = " ..." if len(data) > SENT_PREVIEW else ""
    return f"{len(data)} bytes: {shown}{more}  |{text}|" if data else "0 bytes"


def _line_at(data: bytes, offset: int) -> str:
    if offset >= len(data) and (not data or data.endswith(b"\n")):
        return "(none: the output ended before this line)"
    start = data.rfind(b"\n", 0, offset) + 1
    end = data.find(b"\n", offset)
    line = data[start:] if end == -1 else data[start:end + 1]
    text = repr(line)
    return text if len(text) <= LINE_PREVIEW else text[:LINE_PREVIEW] + f"... ({len(line)} bytes)"
