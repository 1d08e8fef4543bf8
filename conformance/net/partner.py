"""The server a client faces in the error matrix: one connection on 127.0.0.1, echoed, with a
report on stdout of each step so the harness can strike at the right moment.

    python3 -m conformance.net.partner echo         # echo until the client leaves
    python3 -m conformance.net.partner half-close   # echo the first line, then half-close

Stdout: `listening on 127.0.0.1:PORT`, then `echoed N` after each echo (N bytes so far) and
`half-closed` when the sending side is shut down. In `echo` mode the harness SIGKILLs this
process to make a server vanish mid-session, as a crashed server would.
"""

from __future__ import annotations

import socket
import sys


def say(text: str) -> None:
    print(text, flush=True)


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in ("echo", "half-close"):
        print("usage: python3 -m conformance.net.partner echo|half-close", file=sys.stderr)
        return 2
    mode = argv[0]
    with socket.create_server(("127.0.0.1", 0)) as listener:
        say(f"listening on 127.0.0.1:{listener.getsockname()[1]}")
        conn, _ = listener.accept()
    with conn:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        echoed = 0
        sending = True
        try:
            while data := conn.recv(65536):
                if not sending:
                    continue  # the client's words after our FIN go unanswered
                conn.sendall(data)
                echoed += len(data)
                say(f"echoed {echoed}")
                if mode == "half-close" and b"\n" in data:
                    conn.shutdown(socket.SHUT_WR)
                    sending = False
                    say("half-closed")
        except OSError as e:
            say(f"connection error: {e}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
