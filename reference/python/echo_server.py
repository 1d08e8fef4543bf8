#!/usr/bin/env python3
"""Sequential TCP echo server: serves one client at a time, the others wait in the backlog."""

import sys

from lab_cli import PROG, exit_on_signals, host_port, listen, parse_server_args, reason

CHUNK = 64 * 1024


# guide:echo begin
def echo(conn, peer):
    """Send back every byte from one client until it half-closes; then closing sends our FIN.
    A failing session (reset, broken pipe) is reported and ends, the server carries on."""
    # guide:errors-reset begin
    with conn:
        try:
            # recv() returns whatever has arrived, not a line; b"" means the client's FIN.
            while data := conn.recv(CHUNK):
                # sendall() blocks while the client is not reading, so we stop reading too:
                # that is the backpressure, and nothing piles up in memory.
                conn.sendall(data)
        except OSError as err:
            print(f"{PROG}: {host_port(*peer[:2])}: {reason(err)}", file=sys.stderr)
    # guide:errors-reset end
# guide:echo end


def main():
    args = parse_server_args(__doc__)
    exit_on_signals()
    with listen(args.host, args.port) as server:
        while True:
            conn, peer = server.accept()
            echo(conn, peer)


if __name__ == "__main__":
    main()
