#!/usr/bin/env python3
"""A sample submission with a common flaw: when it cannot connect it says nothing and exits 0,
so a script running it cannot tell failure from success. Otherwise a correct line-mode client."""

import socket
import sys


def main() -> int:
    if len(sys.argv) not in (2, 3):
        print("usage: client.py HOST [PORT]", file=sys.stderr)
        return 2
    host, port = sys.argv[1], int(sys.argv[2]) if len(sys.argv) == 3 else 2000
    try:
        sock = socket.create_connection((host, port))
    except OSError:
        return 0  # the flaw: the failure is swallowed
    with sock:
        lines = sys.stdin.buffer.read().split(b"\n")
        if lines[-1] == b"":
            lines.pop()  # the newline that ended the last line, not an empty line after it
        for line in lines:
            if line in (b"BYE", b"BYE\r"):
                break
            sock.sendall(line + b"\n")
            echo = b""
            while len(echo) < len(line) + 1:
                chunk = sock.recv(len(line) + 1 - len(echo))
                if not chunk:
                    print(f"client.py: {host}:{port} closed the connection mid-echo", file=sys.stderr)
                    return 1
                echo += chunk
            sys.stdout.buffer.write(b"Echoed: '" + echo[:-1] + b"'\n")
            sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
