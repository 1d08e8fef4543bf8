#!/usr/bin/env python3
"""An echo server as a student might first write it, for guide 06: a thread per connection,
dual stack, a readiness line, half-close done right, and each message logged on stderr.
It has one bug. Grade it, read the failure printout, and find the line that causes it.

    python3 lab-guides/exercises/text_echo_server.py [--host HOST] [--port PORT]
"""

import argparse
import signal
import socket
import sys
import threading


def serve(conn, peer):
    with conn:
        try:
            while data := conn.recv(65536):
                text = data.decode("utf-8", errors="replace")
                print(f"{peer[0]} sent {len(text)} characters", file=sys.stderr)
                conn.sendall(text.encode("utf-8"))
            conn.shutdown(socket.SHUT_WR)
        except OSError as err:
            print(f"{peer[0]}: {err.strerror}", file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description="an echo server with one bug")
    parser.add_argument("--host", default="::")
    parser.add_argument("--port", type=int, default=2000)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    try:
        listener.bind((args.host, args.port))
        listener.listen()
    except OSError as err:
        print(f"text_echo_server: cannot listen on {args.host}:{args.port}: {err.strerror}", file=sys.stderr)
        return 1
    host, port = listener.getsockname()[:2]
    print(f"listening on {f'[{host}]' if ':' in host else host}:{port}", flush=True)
    while True:
        conn, peer = listener.accept()
        threading.Thread(target=serve, args=(conn, peer), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
