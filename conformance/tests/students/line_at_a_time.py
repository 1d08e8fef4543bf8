"""waits-for-newline: reads the client line by line, as the chapter's readers do."""
import argparse
import signal
import socket
import sys
import threading


def serve(conn):
    with conn, conn.makefile("rb") as lines:
        for line in lines:
            conn.sendall(line)


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
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


main()
