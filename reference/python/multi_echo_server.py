#!/usr/bin/env python3
"""Threaded TCP echo server: each client gets its own thread, so clients are served at once."""

import threading

from echo_server import echo
from lab_cli import exit_on_signals, listen, parse_server_args


def main():
    args = parse_server_args(__doc__)
    exit_on_signals()
    with listen(args.host, args.port) as server:
        # guide:accept-loop begin
        while True:
            conn, peer = server.accept()
            # The connection goes to the thread as an argument, never through a shared
            # variable that the next accept() would overwrite. Daemon threads do not keep
            # the process alive once a signal has ended the accept loop.
            threading.Thread(target=echo, args=(conn, peer), daemon=True).start()
        # guide:accept-loop end


if __name__ == "__main__":
    main()
