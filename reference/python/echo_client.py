#!/usr/bin/env python3
"""TCP echo client. Line mode: send each line of stdin, print its echo as "Echoed: '...'".
--raw: copy stdin to the server and the server to stdout at the same time."""

import argparse
import os
import socket
import sys
import threading

from lab_cli import PROG, host_name, host_port, port_number, reason

CHUNK = 64 * 1024


def line_mode(sock):
    """The chapter's loop, on bytes: no decoding, so any byte but \\n survives the trip."""
    prompt = sys.stdin.isatty()
    lines, out = sys.stdin.buffer, sys.stdout.buffer
    with sock.makefile("rb") as echoes:
        while True:
            if prompt:
                out.write(b"Enter line:")
                out.flush()
            line = lines.readline()  # b"" only at the end of input; the last line may lack \n
            if not line:
                return
            line = line.removesuffix(b"\n")
            if line in (b"BYE", b"BYE\r"):
                return
            sock.sendall(line + b"\n")
            # guide:errors-host-vanishes begin
            # One recv() may return part of the echo or more; read() on the buffered file
            # keeps receiving until it has the whole line back, or the server has closed.
            # guide:errors-peer-closes begin
            echo = echoes.read(len(line) + 1)
            if len(echo) < len(line) + 1:
                raise ConnectionError("the server closed before the whole echo came back")
            # guide:errors-peer-closes end
            # guide:errors-host-vanishes end
            out.write(b"Echoed: '" + echo[:-1] + b"'\n")
            out.flush()


def raw_mode(sock):
    """Copy both ways at once: a client that wrote everything before reading would deadlock
    against a server that stops reading while its echo is not being read."""
    def send_stdin():
        try:
            # os.read returns what is there (a typed line, a pipe's chunk) without waiting to
            # fill the buffer, and b"" at the end of input.
            while data := os.read(sys.stdin.fileno(), CHUNK):
                sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)  # half-close: the server finishes the echo, then closes
        except OSError:
            pass  # the connection is gone: the receiving side below sees why and reports it

    # A daemon thread, because the server may close before stdin ends, and then we are done.
    threading.Thread(target=send_stdin, daemon=True).start()
    out = sys.stdout.buffer
    while data := sock.recv(CHUNK):
        out.write(data)
        out.flush()


def main():
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__, allow_abbrev=False)
    parser.add_argument("--raw", action="store_true", help="copy bytes both ways, no lines")
    parser.add_argument("host", type=host_name, help="server name, IPv4 or IPv6 address")
    parser.add_argument("port", type=port_number, nargs="?", default=2000,
                        help="server port (default 2000)")
    args = parser.parse_args()
    server = host_port(args.host, args.port)
    # guide:errors-refused begin
    # guide:errors-unknown-host begin
    try:
        # create_connection resolves the name and tries each address (IPv6 and IPv4) in turn.
        sock = socket.create_connection((args.host, args.port))
    except OSError as err:
        sys.exit(f"{PROG}: cannot connect to {server}: {reason(err)}")
    # guide:errors-refused end
    # guide:errors-unknown-host end
    # guide:errors-reset begin
    with sock:
        try:
            (raw_mode if args.raw else line_mode)(sock)
        except OSError as err:
            sys.exit(f"{PROG}: connection to {server} lost: {reason(err)}")
    # guide:errors-reset end


if __name__ == "__main__":
    main()
