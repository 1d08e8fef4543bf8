"""crashes-on-reset: one client at a time and no except: a reset ends the server."""
import argparse
import signal
import socket
import sys


def serve(conn):
    with conn:
        while True:
            data = conn.recv(65536)
            if not data:
                break
            conn.sendall(data)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="::")
    parser.add_argument("--port", type=int, default=2000)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server = socket.create_server((args.host, args.port), family=socket.AF_INET6, dualstack_ipv6=True)
    print(f"listening on [{args.host}]:{server.getsockname()[1]}", flush=True)
    while True:
        conn, _ = server.accept()
        serve(conn)


main()
