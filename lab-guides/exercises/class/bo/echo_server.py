#!/usr/bin/env python3
"""An echo server as a student might write it, for guide 06: a thread per connection, dual
stack, a readiness line, SIGTERM handled. It reads "the message" first and sends it back once
the message is complete, which it takes to be when the client stops sending.

    python3 lab-guides/exercises/eof_echo_server.py [--host HOST] [--port PORT]
"""

import argparse
import signal
import socket
import sys
import threading


def serve(conn):
    with conn:
        message = bytearray()
        while chunk := conn.recv(65536):
            message += chunk
        conn.sendall(message)


def main():
    parser = argparse.ArgumentParser(description="an echo server that waits for the whole message")
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
