#!/usr/bin/env python3
"""Stage echo-server: echo one client at a time. Accept a connection, send back every byte it
sends, as soon as it arrives, until it closes; then serve the next.

Check it: python3 -m conformance check echo-server lab-guides/starters/echo-server/python
"""

import argparse
import signal
import socket
import sys

PROG = "echo_server"
CHUNK = 64 * 1024  # the most one recv() asks for


def serve(conn: socket.socket, peer: tuple) -> None:
    """Echo one client's bytes until it closes; leaving the with-block closes our side too.
    peer is the client's address, for messages."""
    with conn:
        # TODO(echo-server): loop: data = conn.recv(CHUNK) returns whatever has arrived (part
        # of a line, or several), and b"" once the client has closed; send each piece straight
        # back with conn.send(data). Do not wait for a newline: the echo comes back at once.
        pass


# --- the launch contract: arguments, listening, readiness line, signals (already done) -------

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


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on host:port, or exit 1 with one line saying why not."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
        server = socket.socket(family, kind, proto)
        # A restarted server may bind its port while old connections sit in TIME_WAIT.
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            # Dual stack: on :: IPv4 clients arrive too, as ::ffff:a.b.c.d.
            server.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        server.bind(address)
        server.listen(socket.SOMAXCONN)
    except OSError as err:
        sys.exit(f"{PROG}: cannot listen on {host_port(host, port)}: {err.strerror or err}")
    return server


def main() -> None:
    parser = argparse.ArgumentParser(prog=PROG, description="TCP echo server", allow_abbrev=False,
                                     epilog="example: python3 echo_server.py --port 2000")
    parser.add_argument("--host", type=host_name, default="::",
                        help="address to listen on (default ::, which takes IPv4 too)")
    parser.add_argument("--port", type=port_number, default=2000,
                        help="port, 0 for any free one (default 2000)")
    args = parser.parse_args()  # bad arguments: usage on stderr, exit 2
    # SIGTERM and Ctrl-C: exit 0. The SystemExit interrupts a blocking accept() or recv().
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, frame: sys.exit(0))
    server = listen(args.host, args.port)
    host, port = server.getsockname()[:2]
    # flush: a pipe is block-buffered, and the harness waits for this line
    print(f"listening on {host_port(host, port)}", flush=True)
    while True:
        conn, peer = server.accept()
        serve(conn, peer)


if __name__ == "__main__":
    main()
