#!/usr/bin/env python3
"""Stage event-loop-server: one thread, non-blocking sockets and a readiness loop, with bounded
buffers and backpressure.

Check it: python3 -m conformance check event-loop-server lab-guides/starters/event-loop-server/python

The loop is written by hand over Python's selectors module, a thin layer over the system's
readiness API (epoll on Linux): select() waits until some sockets can be read or written
without blocking, and says which. No socket ever blocks, so one thread serves every client.
"""

import argparse
import selectors
import signal
import socket
import sys
import time

PROG = "echo_server"
CHUNK = 64 * 1024  # the most one recv() asks for
LIMIT = 64 * 1024  # owed to a client beyond this, we stop reading from it until it reads


class Session:
    """One client: its socket, the bytes read from it and not yet sent back, and whether it
    has half-closed (nothing more will come, but what we owe still goes back)."""

    def __init__(self, conn: socket.socket, peer: tuple) -> None:
        self.conn = conn
        self.peer = peer
        self.owed = bytearray()
        self.client_done = False


def on_ready(sel: selectors.BaseSelector, session: Session, events: int) -> None:
    """session.conn can be read (events & selectors.EVENT_READ) or written (EVENT_WRITE)
    without blocking."""
    conn = session.conn
    try:
        if events & selectors.EVENT_READ:
            data = conn.recv(CHUNK)
            if data:
                session.owed += data
            else:
                session.client_done = True  # its half-close: finish the echo, then close
        if session.owed:
            try:
                sent = conn.send(session.owed)  # what fits now, maybe not all
                del session.owed[:sent]
            except BlockingIOError:
                pass  # its socket buffer is full: EVENT_WRITE tells us when it has room
    except OSError as err:  # a reset or a broken pipe ends this session only
        print(f"{PROG}: {host_port(*session.peer[:2])}: {err.strerror or err}", file=sys.stderr)
        close(sel, session)
        return
    if session.client_done and not session.owed:
        close(sel, session)  # every byte is back: now our FIN
        return
    wanted = selectors.EVENT_WRITE if session.owed else 0
    if not session.client_done and len(session.owed) < LIMIT:
        wanted |= selectors.EVENT_READ  # over LIMIT we stop reading: that is the backpressure
    sel.modify(conn, wanted, session)


def close(sel: selectors.BaseSelector, session: Session) -> None:
    sel.unregister(session.conn)
    session.conn.close()


def accept(sel: selectors.BaseSelector, server: socket.socket) -> None:
    try:
        conn, peer = server.accept()
    except BlockingIOError:
        return  # the client left before we got to it
    except OSError as err:
        # Out of file descriptors, say: the listening socket stays readable, and trying again
        # at once would spin. Pause; every client waits, but only while this lasts.
        print(f"{PROG}: accept: {err.strerror or err}", file=sys.stderr)
        time.sleep(0.1)
        return
    conn.setblocking(False)
    sel.register(conn, selectors.EVENT_READ, Session(conn, peer))


# --- the launch contract: arguments, listening, readiness line, signals (already done) -------

def port_number(text: str) -> int:
    if not (text.isascii() and text.isdigit() and int(text) <= 65535):
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}")
    return int(text)


def host_name(text: str) -> str:
    if not text:
        raise argparse.ArgumentTypeError("the host must not be empty")
    return text


def host_port(host: str, port: int) -> str:
    """'[::1]:2000' or '127.0.0.1:2000': brackets keep an IPv6 address apart from its port."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on host:port, or exit 1 with one line saying why not."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
        server = socket.socket(family, kind, proto)
        # A restarted server may bind its port while old connections sit in TIME_WAIT.
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            # Dual stack: on :: IPv4 clients arrive too, as ::ffff:a.b.c.d.
            server.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        server.bind(address)
        server.listen(socket.SOMAXCONN)
    except OSError as err:
        sys.exit(f"{PROG}: cannot listen on {host_port(host, port)}: {err.strerror or err}")
    return server


def main() -> None:
    parser = argparse.ArgumentParser(prog=PROG, description="TCP echo server", allow_abbrev=False,
                                     epilog="example: python3 echo_server.py --port 2000")
    parser.add_argument("--host", type=host_name, default="::",
                        help="address to listen on (default ::, which takes IPv4 too)")
    parser.add_argument("--port", type=port_number, default=2000,
                        help="port, 0 for any free one (default 2000)")
    args = parser.parse_args()  # bad arguments: usage on stderr, exit 2
    # SIGTERM and Ctrl-C: exit 0. The SystemExit interrupts a blocking accept() or recv().
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, frame: sys.exit(0))
    server = listen(args.host, args.port)
    host, port = server.getsockname()[:2]
    # flush: a pipe is block-buffered, and the harness waits for this line
    print(f"listening on {host_port(host, port)}", flush=True)
    server.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(server, selectors.EVENT_READ)  # no data: this key is the listening socket
    while True:
        for key, events in sel.select():
            if key.data is None:
                accept(sel, server)
            else:
                on_ready(sel, key.data, events)


if __name__ == "__main__":
    main()
