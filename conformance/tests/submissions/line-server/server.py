#!/usr/bin/env python3
"""A sample submission with a common first-attempt flaw: it reads the stream as lines, so bytes
after the last newline (a lone byte, the end of a binary stream) never come back."""

import argparse
import os
import signal
import socket
import threading


def session(conn: socket.socket) -> None:
    with conn, conn.makefile("rb") as stream:
        for line in stream:
            if not line.endswith(b"\n"):
                break  # the flaw: an unterminated last piece is dropped
            conn.sendall(line)
        conn.shutdown(socket.SHUT_WR)


def main() -> None:
    parser = argparse.ArgumentParser(description="a line-at-a-time echo server")
    parser.add_argument("--host", default="::")
    parser.add_argument("--port", type=int, default=2000)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    listener = socket.create_server((args.host, args.port), family=socket.AF_INET6, dualstack_ipv6=True)
    host, port = listener.getsockname()[:2]
    print(f"listening on [{host}]:{port}", flush=True)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=session, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
