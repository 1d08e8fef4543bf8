"""A time-stamped log of what crossed the wire in one case, payload bytes in hex so any byte
value stays readable (and XML and HTML stay valid).

    log = WireLog()
    log.data("tester", "sent", 0, b"hello\\n")
    log.note("tester", "half-close (FIN sent)")
    print(log.text())
"""

from __future__ import annotations

import threading
import time

HEAD = 32  # bytes of each chunk shown in hex
LIMIT = 400  # events kept; a 1 MiB stream has thousands of chunks


class WireLog:
    def __init__(self):
        self._start = time.monotonic()
        self._lines: list[str] = []
        self._dropped = 0
        self._lock = threading.Lock()

    def note(self, who: str, text: str) -> None:
        stamp = time.monotonic() - self._start
        with self._lock:
            if len(self._lines) < LIMIT:
                self._lines.append(f"+{stamp:7.3f}s [{who}] {text}")
            else:
                self._dropped += 1

    def data(self, who: str, verb: str, offset: int, chunk: bytes) -> None:
        shown = " ".join(f"{b:02x}" for b in chunk[:HEAD])
        more = " ..." if len(chunk) > HEAD else ""
        self.note(who, f"{verb} {len(chunk)} bytes @{offset}: {shown}{more}")

    def text(self) -> str:
        with self._lock:
            lines = list(self._lines)
            if self._dropped:
                lines.append(f"... {self._dropped} more events not logged")
        return "\n".join(lines) + ("\n" if lines else "")
