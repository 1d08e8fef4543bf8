#!/usr/bin/env python3
"""Stage line-client: the chapter's client, fixed. Read stdin line by line, send each line with
its newline, wait for the whole echo (however the stream splits it), print Echoed: 'L'. A line
BYE (or BYE\\r) ends the session unsent; end of input closes and exits 0; failing to connect or
losing the connection: one line on stderr, exit 1.

Check it: python3 -m conformance check line-client lab-guides/starters/line-client/python
"""

import argparse
import socket
import sys

PROG = "echo_client"
CHUNK = 64 * 1024  # the most one recv() asks for


def talk(conn: socket.socket) -> None:
    """The line-mode session. Lines are bytes, not text: use sys.stdin.buffer and
    sys.stdout.buffer, so that any byte (invalid UTF-8, NUL) goes through unchanged."""
    # TODO(line-client): loop over the lines of stdin: line = sys.stdin.buffer.readline() keeps
    # its b"\n" (the last line may lack it), and b"" is the end of input: return.
    # - A line b"BYE" or b"BYE\r" (without its b"\n") ends the session: return, unsent.
    # - Otherwise conn.sendall(line + b"\n"), then read the echo back: it is len(line) + 1
    #   bytes, and one recv() may return only part of it, so loop until you have them all.
    #   recv() returning b"" means the server closed first: raise ConnectionError("...").
    # - Write b"Echoed: '" + the echo without its b"\n" + b"'\n" to sys.stdout.buffer, then
    #   flush it. If sys.stdin.isatty(), write the prompt b"Enter line:" before each line.


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
                                     epilog="example: python3 echo_client.py ::1 2000")
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
            talk(conn)
        except OSError as err:  # ConnectionError, a reset: the session is lost
            sys.exit(f"{PROG}: connection to {server} lost: {err.strerror or err}")


if __name__ == "__main__":
    main()
