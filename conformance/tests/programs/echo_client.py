#!/usr/bin/env python3
"""An echo client with one switchable flaw, for the harness's self-test.

    echo_client.py --flaw FLAW [--raw] HOST [PORT]

Line mode follows the contract; --raw copies stdin to the socket while it copies the socket to
stdout, unless the flaw says otherwise.
"""

import argparse
import socket
import sys
import threading

BROKEN = {"write-all-first": "--raw writes all of stdin before it reads a byte of the echo"}
AWKWARD = {"byte-at-a-time": "sends each line one byte per segment and reads its echo a byte at a time",
           "none": "no flaw at all"}


def connect(host: str, port: int) -> socket.socket:
    try:
        return socket.create_connection((host, port))
    except OSError as e:
        where = f"[{host}]" if ":" in host else host
        print(f"echo_client: cannot connect to {where}:{port}: {e.strerror or e}", file=sys.stderr)
        sys.exit(1)


def raw(sock: socket.socket, flaw: str) -> int:
    def send_all() -> None:
        sock.sendall(sys.stdin.buffer.read())
        sock.shutdown(socket.SHUT_WR)

    if flaw == "write-all-first":
        send_all()
    else:
        threading.Thread(target=send_all, daemon=True).start()
    while chunk := sock.recv(65536):
        sys.stdout.buffer.write(chunk)
    sys.stdout.buffer.flush()
    return 0


def lines(sock: socket.socket, flaw: str) -> int:
    data = sys.stdin.buffer.read()
    items = data.split(b"\n")
    if items and items[-1] == b"":
        items.pop()
    if flaw == "byte-at-a-time":
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for line in items:
        if line in (b"BYE", b"BYE\r"):
            break
        message = line + b"\n"
        for start in range(0, len(message), 1 if flaw == "byte-at-a-time" else len(message)):
            sock.sendall(message[start:start + (1 if flaw == "byte-at-a-time" else len(message))])
        echo = b""
        while len(echo) < len(message):
            chunk = sock.recv(1 if flaw == "byte-at-a-time" else len(message) - len(echo))
            if not chunk:
                print("echo_client: the server closed the connection before the whole echo came back",
                      file=sys.stderr)
                return 1
            echo += chunk
        sys.stdout.buffer.write(b"Echoed: '" + echo[:-1] + b"'\n")
        sys.stdout.buffer.flush()
    sock.close()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--flaw", choices=sorted(BROKEN) + sorted(AWKWARD), default="none")
    parser.add_argument("--raw", action="store_true")
    parser.add_argument("host")
    parser.add_argument("port", type=int, nargs="?", default=2000)
    args = parser.parse_args()
    if not args.host or not 0 <= args.port <= 65535:
        parser.error("HOST must not be empty and PORT must be 0..65535")
    sock = connect(args.host, args.port)
    try:
        return raw(sock, args.flaw) if args.raw else lines(sock, args.flaw)
    except ConnectionError as e:
        print(f"echo_client: connection lost: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
