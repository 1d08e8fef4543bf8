#!/usr/bin/env python3
"""An echo client written the chapter's way, for guide 06: the server's host is the only
argument, the port is 2000. Each line of input goes to the server; the echo is printed.

    python3 lab-guides/exercises/chapter_client.py HOST
"""

import socket
import sys

PORT = 2000

if len(sys.argv) != 2:
    print("usage: chapter_client.py HOST", file=sys.stderr)
    sys.exit(2)
host = sys.argv[1]
try:
    conn = socket.create_connection((host, PORT))
except OSError as err:
    print(f"chapter_client: cannot connect to {host}:{PORT}: {err.strerror}", file=sys.stderr)
    sys.exit(1)
with conn:
    for line in sys.stdin.buffer:
        line = line.rstrip(b"\n")
        if line in (b"BYE", b"BYE\r"):
            break
        conn.sendall(line + b"\n")
        echo = b""
        while len(echo) < len(line) + 1:
            data = conn.recv(4096)
            if not data:
                print(f"chapter_client: {host}:{PORT} closed the connection", file=sys.stderr)
                sys.exit(1)
            echo += data
        sys.stdout.buffer.write(b"Echoed: '" + echo[:-1] + b"'\n")
        sys.stdout.flush()
