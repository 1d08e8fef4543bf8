#!/usr/bin/env python3
"""Deliberately naive: the echo client as a Python tutorial first shows it, with no try/except.
Right for short lines to a healthy server; every failure is a traceback (exit 1).
Flaws, each marked NAIVE where it stands:
- a refused connection or an unknown host is a traceback, not one line;
- lines are text: bytes that are not UTF-8 end in a traceback, and a line ending in CR keeps it;
- one recv(1024) is taken to be the whole echo: a long or split echo comes back cut;
- a server that has closed reads as an empty echo, printed as if it were one.
echo_client.py is the careful version."""

import socket
import sys

host = sys.argv[1]
port = int(sys.argv[2]) if len(sys.argv) > 2 else 2000

# NAIVE: nothing catches OSError: refused or unknown host ends in a traceback.
sock = socket.create_connection((host, port))
# NAIVE: sys.stdin is text, so bytes that are not UTF-8 end in a UnicodeError traceback, and only
# "\n" is taken off: "BYE\r" is not BYE.
for line in sys.stdin:
    line = line.rstrip("\n")
    if line == "BYE":
        break
    sock.sendall((line + "\n").encode())
    # NAIVE: one recv is taken to be the whole echo; a longer echo, or one split in two by the
    # network, comes back cut, and its rest shows up as the next line's echo.
    data = sock.recv(1024)
    # NAIVE: b"" (the server has closed) is printed as an empty echo and the loop goes on.
    echo = data.decode().rstrip("\n")
    print(f"Echoed: '{echo}'")
sock.close()
