"""no-sigterm: a careful session, and no SIGTERM handler: SIGTERM kills it."""
import argparse
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
    server = socket.create_server((args.host, args.port), family=socket.AF_INET6, dualstack_ipv6=True)
    print(f"listening on [{args.host}]:{server.getsockname()[1]}", flush=True)
    while True:
        conn, _ = server.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


main()
