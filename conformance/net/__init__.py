"""The harness on the network: its checked connection to a server (wire), many clients at once
(load), the recording server a client under test talks to (recorder), a server process to make
vanish (partner), and the small helpers below that they share.

The private network a run gets (namespace), the sandbox an untrusted program runs in (sandbox),
packet capture (capture), the packet ladder (ladder) and the faults only a network makes
(impair) live here too.
"""

from __future__ import annotations

import socket

LOOPBACK = {"ipv4": "127.0.0.1", "ipv6": "::1"}


def unused_port(host: str = "127.0.0.1") -> int:
    """A port that was just bound and released, so connecting to it is refused."""
    with socket.socket(family_of(host), socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def family_of(host: str) -> int:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host
