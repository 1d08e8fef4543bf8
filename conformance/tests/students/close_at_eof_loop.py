"""drops-tail: an event loop that closes a connection as soon as the client's FIN arrives, with
echo still waiting in its buffer."""
import argparse
import selectors
import signal
import socket
import sys

selector = selectors.DefaultSelector()
pending = {}


def accept(server):
    conn, _ = server.accept()
    conn.setblocking(False)
    pending[conn] = b""
    selector.register(conn, selectors.EVENT_READ | selectors.EVENT_WRITE, handle)


def handle(conn, mask):
    if mask & selectors.EVENT_READ:
        data = conn.recv(65536)
        if not data:
            selector.unregister(conn)
            del pending[conn]
            conn.close()
            return
        pending[conn] += data
    if mask & selectors.EVENT_WRITE and pending[conn]:
        sent = conn.send(pending[conn])
        pending[conn] = pending[conn][sent:]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="::")
    parser.add_argument("--port", type=int, default=2000)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server = socket.create_server((args.host, args.port), family=socket.AF_INET6, dualstack_ipv6=True)
    server.setblocking(False)
    selector.register(server, selectors.EVENT_READ, lambda s, m: accept(s))
    print(f"listening on [{args.host}]:{server.getsockname()[1]}", flush=True)
    while True:
        for key, mask in selector.select():
            key.data(key.fileobj, mask)


main()
