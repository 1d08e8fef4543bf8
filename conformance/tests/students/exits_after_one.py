"""server-exits: serves its first client, then leaves the accept loop."""
import argparse
import signal
import socket
import sys


def serve(conn):
    with conn:
        try:
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                conn.sendall(data)
        except OSError as e:
            print(f"session ended: {e}", file=sys.stderr)


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
        break


main()
