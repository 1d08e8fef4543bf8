#!/usr/bin/env python3
"""Threaded TCP echo server: each client gets its own thread, so clients are served at once."""

import sys
import threading
import time

from echo_server import echo
from lab_cli import PROG, exit_on_signals, listen, parse_server_args, reason


def main():
    args = parse_server_args(__doc__)
    exit_on_signals()
    with listen(args.host, args.port) as server:
        # guide:accept-loop begin
        while True:
            try:
                conn, peer = server.accept()
            except OSError as err:
                # Out of file descriptors, say: this client is lost, the server is not.
                # Pause so as not to spin on the same error.
                print(f"{PROG}: accept: {reason(err)}", file=sys.stderr)
                time.sleep(0.1)
                continue
            # guide:errors-timeout begin
            # The connection goes to the thread as an argument, never through a shared
            # variable that the next accept() would overwrite. Daemon threads do not keep
            # the process alive once a signal has ended the accept loop.
            threading.Thread(target=echo, args=(conn, peer), daemon=True).start()
            # guide:errors-timeout end
        # guide:accept-loop end


if __name__ == "__main__":
    main()
