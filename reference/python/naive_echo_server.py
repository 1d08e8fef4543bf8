#!/usr/bin/env python3
"""Deliberately naive: the echo server as a Python tutorial first shows it, with no try/except.
Right for a healthy client; every error ends the whole server with a traceback (exit 1).
Flaws, each marked NAIVE where it stands:
- a failure to listen (port in use, bad host) is a traceback, not one line;
- one client at a time: the others wait in the backlog;
- a client's reset or broken pipe ends the whole server with a traceback;
- no signal handling: SIGTERM kills it, Ctrl-C is a KeyboardInterrupt traceback.
echo_server.py is the careful version."""

import argparse
import socket

parser = argparse.ArgumentParser()
parser.add_argument("--host", default="::")
parser.add_argument("--port", type=int, default=2000)
args = parser.parse_args()

ipv6 = ":" in args.host  # "::" takes IPv4 clients too when asked for dual stack
# NAIVE: nothing catches OSError: a port in use or a bad host ends in a traceback.
server = socket.create_server((args.host, args.port), family=socket.AF_INET6 if ipv6 else socket.AF_INET,
                              dualstack_ipv6=ipv6)
host, port = server.getsockname()[:2]
print(f"listening on [{host}]:{port}" if ":" in host else f"listening on {host}:{port}", flush=True)

# NAIVE: no signal handling: SIGTERM kills the process and Ctrl-C ends in a traceback.
while True:
    # NAIVE: one client at a time; the others wait in the backlog until this one leaves. And
    # accept failing (out of descriptors) ends the server with a traceback.
    conn, addr = server.accept()
    with conn:
        while True:
            # NAIVE: a reset (ConnectionResetError) or a vanished client (BrokenPipeError) is not
            # caught here, so one client's trouble ends the whole server with a traceback.
            data = conn.recv(1024)
            if not data:
                break
            conn.sendall(data)
