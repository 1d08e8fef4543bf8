#!/usr/bin/env python3
"""An echo server written the chapter's way, for guide 06: no arguments, port 2000 on every
address (IPv4 and IPv6), a thread per client, nothing printed.

    python3 lab-guides/exercises/chapter_server.py
"""

import socket
import threading

PORT = 2000


def echo(conn):
    with conn:
        while data := conn.recv(4096):
            conn.sendall(data)


listener = socket.create_server(("::", PORT), family=socket.AF_INET6, dualstack_ipv6=True)
while True:
    conn, _ = listener.accept()
    threading.Thread(target=echo, args=(conn,), daemon=True).start()
