#!/usr/bin/env python3
"""An echo server that survives every fault case, or breaks in exactly one way, for the fault
cases' self-test: each flaw must be caught by the case meant for it, and `--flaw none` must pass
every case it supports.

    fragile_server.py --flaw FLAW [--idle-timeout S] [--max-connections N] [--drain-timeout S]
                      [--host HOST] [--port PORT]

A thread per connection, dual stack on ::, `listening on ...` when ready. On SIGTERM it closes
the listener at once, lets the sessions under way finish for up to --drain-timeout seconds, and
exits 0. Out of descriptors, it accepts the waiting client with a spare descriptor and closes it.
"""

import argparse
import errno
import os
import signal
import socket
import struct
import sys
import threading
import time

FLAWS = {
    "reset-at-end": "closes every connection with RST instead of FIN",
    "global-lock": "writes every echo while holding one lock shared by all connections",
    "unbounded-buffer": "reads everything at once and queues the echo without bound",
    "one-at-a-time": "serves one client at a time",
    "idle-ignored": "accepts --idle-timeout and never closes anyone",
    "spin-on-emfile": "out of descriptors, retries accept at once, for ever",
    "pause-on-emfile": "out of descriptors, waits 100 ms and tries again, leaving the client waiting",
    "leak-on-reset": "keeps the socket of every connection that ends with a reset",
    "send-once": "echoes with one send() and ignores how much it took",
    "idle-from-start": "counts --idle-timeout from the connection's start, progress or not",
    "die-on-sigpipe": "gives SIGPIPE back its default action and writes on after a failed send",
    "ignore-max-connections": "accepts --max-connections and serves everyone",
    "cut-on-sigterm": "exits at once on SIGTERM, cutting every session under way",
    "no-reuseaddr": "binds without SO_REUSEADDR",
    "traceback-on-bad-port": "turns --port into a number without checking it",
    "none": "no flaw at all",
}

active = set()  # the connections being served
lock = threading.Lock()
send_lock = threading.Lock()
leaked = []


def receive(conn: socket.socket, flaw: str) -> bytes:
    while True:
        try:
            return conn.recv(65536)
        except socket.timeout:
            if flaw != "idle-ignored":
                raise


def echo(conn: socket.socket, flaw: str, idle: float | None) -> None:
    started = time.monotonic()
    queue, reader_done = [], threading.Event()
    if idle:
        conn.settimeout(idle)
    try:
        if flaw == "unbounded-buffer":
            def read_all() -> None:
                while data := conn.recv(65536):
                    queue.append(data)
                reader_done.set()
            threading.Thread(target=read_all, daemon=True).start()
            while not (reader_done.is_set() and not queue):
                if queue:
                    conn.sendall(queue.pop(0))
                else:
                    time.sleep(0.001)
        else:
            while True:
                if flaw == "idle-from-start" and idle:
                    conn.settimeout(max(0.001, idle - (time.monotonic() - started)))
                data = receive(conn, flaw)
                if not data:
                    break
                if flaw == "send-once":
                    conn.send(data)
                elif flaw == "global-lock":
                    with send_lock:
                        conn.sendall(data)
                else:
                    conn.sendall(data)
        if flaw == "reset-at-end":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        else:
            conn.shutdown(socket.SHUT_WR)
    except (ConnectionResetError, BrokenPipeError):
        if flaw == "leak-on-reset":
            leaked.append(conn.dup())
        if flaw == "die-on-sigpipe":
            # The reset is ignored, whether recv or send met it, and the session writes on: the
            # next send on a reset connection raises SIGPIPE, whose default action ends the process.
            for _ in range(2):
                try:
                    conn.send(b"?")
                except OSError:
                    pass
    except OSError:
        pass
    finally:
        conn.close()
        with lock:
            active.discard(threading.current_thread())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flaw", choices=sorted(FLAWS), default="none")
    parser.add_argument("--host", default="::")
    parser.add_argument("--port", default="2000")
    parser.add_argument("--idle-timeout", type=float)
    parser.add_argument("--max-connections", type=int)
    parser.add_argument("--drain-timeout", type=float, default=10.0)
    args = parser.parse_args()
    flaw = args.flaw
    if flaw == "die-on-sigpipe":
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    if flaw == "traceback-on-bad-port":
        port = int(args.port)
    elif not args.port.isdigit() or int(args.port) > 65535 or not args.host:
        parser.error("--port must be 0..65535 and --host not empty")
    else:
        port = int(args.port)
    try:
        infos = socket.getaddrinfo(args.host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, _, _, _, address = infos[0]
        listener = socket.socket(family, socket.SOCK_STREAM)
        if flaw != "no-reuseaddr":
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        listener.bind(address)
        listener.listen(128)
    except OSError as e:
        print(f"fragile_server: cannot listen on {args.host}:{port}: {e.strerror or e}", file=sys.stderr)
        return 1
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    listener.settimeout(0.02)
    spare = os.open(os.devnull, os.O_RDONLY)
    host, bound = listener.getsockname()[:2]
    print(f"listening on {f'[{host}]' if ':' in host else host}:{bound}", flush=True)
    while not stopping.is_set():
        try:
            conn, _ = listener.accept()
        except socket.timeout:
            continue
        except OSError as e:
            if e.errno not in (errno.EMFILE, errno.ENFILE):
                continue
            if flaw == "spin-on-emfile":
                continue  # the client is still waiting, so accept fails again at once: a busy loop
            if flaw == "pause-on-emfile":
                time.sleep(0.1)
                continue
            os.close(spare)  # give up the spare to accept the waiting client, and close it at once
            try:
                listener.accept()[0].close()
            except OSError:
                pass
            spare = os.open(os.devnull, os.O_RDONLY)
            continue
        conn.setblocking(True)
        with lock:
            full = args.max_connections and len(active) >= args.max_connections
        if full and flaw != "ignore-max-connections":
            conn.close()
            continue
        worker = threading.Thread(target=echo, args=(conn, flaw, args.idle_timeout), daemon=True)
        with lock:
            active.add(worker)
        worker.start()
        if flaw == "one-at-a-time":
            worker.join()
    listener.close()
    if flaw == "cut-on-sigterm":
        return 0
    deadline = time.monotonic() + args.drain_timeout
    while time.monotonic() < deadline:
        with lock:
            if not active:
                break
        time.sleep(0.01)
    return 0


if __name__ == "__main__":
    sys.exit(main())
