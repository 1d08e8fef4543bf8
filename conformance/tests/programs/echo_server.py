#!/usr/bin/env python3
"""An echo server with one switchable flaw, for the harness's self-test: each broken variant
must be caught by the case meant for it, and each awkward but correct one must pass.

    echo_server.py --flaw FLAW [--host HOST] [--port PORT]

A thread per connection, dual stack on ::, `listening on ...` when ready, exit 0 on SIGTERM.
"""

import argparse
import os
import signal
import socket
import struct
import sys
import threading
import time

BROKEN = {
    "truncate-4096": "echoes the first 4096 bytes of a connection and drops the rest",
    "drop-tail": "echoes in 1000-byte blocks and closes at the half-close without the last, partial one",
    "close-on-newline": "closes the connection right after echoing the first newline",
    "swap-case": "changes the case of ASCII letters",
    "reset-on-close": "echoes everything, then closes with RST instead of FIN",
    "one-client": "serves one client, then exits",
}
AWKWARD = {
    "one-byte-segments": "echoes every byte of a connection's first 64 KiB in its own segment, Nagle off",
    "late-ready": "prints its readiness line 2 s after starting",
    "none": "no flaw at all",
}


def serve(conn: socket.socket, flaw: str) -> None:
    echoed, pending = 0, b""
    if flaw == "one-byte-segments":
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    with conn:
        while data := conn.recv(65536):
            if flaw == "truncate-4096":
                data = data[:max(0, 4096 - echoed)]
            elif flaw == "swap-case":
                data = data.swapcase()
            elif flaw == "close-on-newline" and b"\n" in data:
                conn.sendall(data[:data.index(b"\n") + 1])
                return
            elif flaw == "drop-tail":
                pending += data
                whole = len(pending) - len(pending) % 1000
                data, pending = pending[:whole], pending[whole:]
            # Past 64 KiB, sixteen million one-byte segments test the kernel's receive queue, not
            # the tester: the rest goes in whole sends.
            tiny = flaw == "one-byte-segments" and echoed < 65536
            pieces = [data[i:i + 1] for i in range(len(data))] if tiny else [data]
            for piece in pieces:
                conn.sendall(piece)
            echoed += len(data)
        if flaw == "reset-on-close":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return
        conn.shutdown(socket.SHUT_WR)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--flaw", choices=sorted(BROKEN) + sorted(AWKWARD), default="none")
    parser.add_argument("--host", default="::")
    parser.add_argument("--port", type=int, default=2000)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    if args.flaw == "late-ready":
        time.sleep(2)
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    listener.bind((args.host, args.port))
    listener.listen(64)
    host, port = listener.getsockname()[:2]
    print(f"listening on {f'[{host}]' if ':' in host else host}:{port}", flush=True)
    while True:
        conn, _ = listener.accept()
        if args.flaw == "one-client":
            serve(conn, args.flaw)
            return 0
        threading.Thread(target=serve, args=(conn, args.flaw), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
