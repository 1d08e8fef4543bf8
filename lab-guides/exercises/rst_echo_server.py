#!/usr/bin/env python3
"""An echo server as a student might write it, for guide 06: a thread per connection, dual
stack, a readiness line, SIGTERM handled, every byte echoed. To free its sockets at once, it
sets SO_LINGER with a timeout of 0 on each connection before closing it.

    python3 lab-guides/exercises/rst_echo_server.py [--host HOST] [--port PORT]
"""

import argparse
import signal
import socket
import struct
import sys
import threading


def serve(conn):
    with conn:
        while data := conn.recv(65536):
            conn.sendall(data)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def main():
    parser = argparse.ArgumentParser(description="an echo server that closes with SO_LINGER 0")
    parser.add_argument("--host", default="::")
    parser.add_argument("--port", type=int, default=2000)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    listener = socket.create_server((args.host, args.port), family=socket.AF_INET6, dualstack_ipv6=True)
    print(f"listening on [{args.host}]:{listener.getsockname()[1]}", flush=True)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
