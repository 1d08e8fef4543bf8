#!/usr/bin/env python3
"""Stage raw-client: --raw copies stdin to the socket and the socket to stdout at the same time,
half-closes at the end of stdin, and exits 0 when the server has closed. Without --raw, the
line mode of the line-client stage.

Check it: python3 -m conformance check raw-client lab-guides/starters/raw-client/python
"""

import argparse
import socket
import sys

PROG = "echo_client"
CHUNK = 64 * 1024  # the most one recv() asks for


def copy(conn: socket.socket) -> None:
    """--raw: bytes both ways at once, no lines."""
    # TODO(raw-client): one thread cannot read while it writes, and a client that writes all
    # of stdin before reading deadlocks once the echo fills the buffers. So copy stdin to the
    # socket on a thread of its own (threading.Thread(target=..., daemon=True).start()): read
    # with os.read(sys.stdin.fileno(), CHUNK) until b"", conn.sendall() each piece, then
    # conn.shutdown(socket.SHUT_WR), the half-close that tells the server we are done.
    # Meanwhile, here, conn.recv(CHUNK) and write each piece to sys.stdout.buffer until
    # b"" (the server has closed); flush stdout and return.


def talk(conn: socket.socket) -> None:
    """The line-mode session. Lines are bytes, not text: use sys.stdin.buffer and
    sys.stdout.buffer, so that any byte (invalid UTF-8, NUL) goes through unchanged."""
    prompt = sys.stdin.isatty()  # a piped run's stdout is the Echoed: lines only
    while True:
        if prompt:
            sys.stdout.buffer.write(b"Enter line:")
            sys.stdout.buffer.flush()
        line = sys.stdin.buffer.readline()
        if not line:
            return  # end of input
        line = line.removesuffix(b"\n")
        if line in (b"BYE", b"BYE\r"):
            return
        conn.sendall(line + b"\n")
        echo = receive(conn, len(line) + 1)
        sys.stdout.buffer.write(b"Echoed: '" + echo[:-1] + b"'\n")
        sys.stdout.buffer.flush()


def receive(conn: socket.socket, count: int) -> bytes:
    """Exactly count bytes: one recv() returns what has arrived, maybe part of an echo."""
    data = bytearray()
    while len(data) < count:
        piece = conn.recv(min(count - len(data), CHUNK))
        if not piece:
            raise ConnectionError("the server closed before the whole echo came back")
        data += piece
    return bytes(data)


# --- the launch contract: arguments, connecting, errors (already done) ----------------------

def port_number(text: str) -> int:
    if not (text.isascii() and text.isdigit() and int(text) <= 65535):
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}")
    return int(text)


def host_name(text: str) -> str:
    if not text:
        raise argparse.ArgumentTypeError("the host must not be empty")
    return text


def host_port(host: str, port: int) -> str:
    """'[::1]:2000' or '127.0.0.1:2000': brackets keep an IPv6 address apart from its port."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def main() -> None:
    parser = argparse.ArgumentParser(prog=PROG, description="TCP echo client", allow_abbrev=False,
                                     epilog="example: python3 echo_client.py --raw ::1 2000 < file")
    parser.add_argument("--raw", action="store_true", help="copy bytes both ways, no lines")
    parser.add_argument("host", type=host_name, help="server name, IPv4 or IPv6 address")
    parser.add_argument("port", type=port_number, nargs="?", default=2000,
                        help="server port (default 2000)")
    args = parser.parse_args()  # bad arguments: usage on stderr, exit 2
    server = host_port(args.host, args.port)
    try:
        # Tries every address the name has, IPv6 and IPv4, until one connects.
        conn = socket.create_connection((args.host, args.port))
    except OSError as err:  # socket.gaierror (unknown name) is an OSError too
        sys.exit(f"{PROG}: cannot connect to {server}: {err.strerror or err}")
    with conn:
        try:
            if args.raw:
                copy(conn)
            else:
                talk(conn)
        except OSError as err:  # ConnectionError, a reset: the session is lost
            sys.exit(f"{PROG}: connection to {server} lost: {err.strerror or err}")


if __name__ == "__main__":
    main()
