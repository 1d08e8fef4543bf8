"""Explain how two byte strings differ, in a way a student can act on.

    message = mismatch(sent, echoed, what="the echo")
    if message:
        ...  # fail with it

The message gives both lengths, the first differing offset and a hex window around it; with
`lines=True` (transcripts) it also names the line and shows both versions of it.
"""

from __future__ import annotations

WINDOW = 12  # bytes shown on each side of the first difference
LINE_PREVIEW = 120  # characters of a line shown before it is cut


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
    """None when equal, else a multi-line description of the difference."""
    offset = first_difference(expected, actual)
    if offset is None:
        return None
    out = [f"{what} differs: expected {len(expected)} bytes, got {len(actual)} bytes"]
    if offset == len(actual) < len(expected):
        out.append(f"got only a prefix: the last {len(expected) - len(actual)} bytes never came "
                   f"(first missing byte at offset {offset})")
    elif offset == len(expected) < len(actual):
        out.append(f"{len(actual) - len(expected)} unexpected extra bytes after offset {offset}")
    else:
        out.append(f"first difference at offset {offset} (0x{offset:x})")
    out.append(f"expected: {hex_window(expected, offset)}")
    out.append(f"actual:   {hex_window(actual, offset)}")
    if lines:
        out.extend(_line_context(expected, actual, offset))
    return "\n".join(out)


def hex_window(data: bytes, offset: int, width: int = WINDOW) -> str:
    """The bytes around `offset` in hex, the byte at `offset` in brackets, with a printable
    rendering: `@0x1f0: 61 62 [63] 64 |ab[c]d|`."""
    start = max(0, offset - width)
    end = min(len(data), offset + width)
    parts, text = [], []
    for i in range(start, end):
        byte = data[i]
        char = chr(byte) if 0x20 <= byte < 0x7f else "."
        parts.append(f"[{byte:02x}]" if i == offset else f"{byte:02x}")
        text.append(f"[{char}]" if i == offset else char)
    if offset >= len(data):
        parts.append("[end]")
        text.append("[end]")
    lead = "... " if start > 0 else ""
    tail = " ..." if end < len(data) else ""
    return f"@0x{start:x}: {lead}{' '.join(parts)}{tail}  |{''.join(text)}|"


def _line_context(expected: bytes, actual: bytes, offset: int) -> list[str]:
    number = expected.count(b"\n", 0, offset) + 1
    return [
        f"in line {number}:",
        f"  expected line: {_preview(_line_at(expected, offset))}",
        f"  actual line:   {_preview(_line_at(actual, offset))}",
    ]


def _line_at(data: bytes, offset: int) -> bytes | None:
    if offset >= len(data) and (not data or data.endswith(b"\n")):
        return None
    start = data.rfind(b"\n", 0, offset) + 1
    end = data.find(b"\n", offset)
    return data[start:] if end == -1 else data[start:end + 1]


def _preview(line: bytes | None) -> str:
    if line is None:
        return "(none: the output ended before this line)"
    text = repr(line)
    if len(text) > LINE_PREVIEW:
        text = text[:LINE_PREVIEW] + f"... ({len(line)} bytes)"
    return text
