"""wrong-ready-line: announces itself in its own words."""
import argparse
import signal
import socket
import sys
import threading


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
    print(f"Server started on port {server.getsockname()[1]}", flush=True)
    while True:
        conn, _ = server.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


main()
