"""What the lab's Python programs share: command-line checks, address formatting, and the
servers' start-up (listening socket, readiness line, signals)."""

import argparse
import os
import signal
import socket
import sys

# The running program's name ("echo_server", "echo_client", ...) for its messages.
PROG = os.path.splitext(os.path.basename(sys.argv[0]))[0]


def port_number(text):
    """argparse type: a whole number 0..65535 (int() alone would take " 7", "+7" and "2_000")."""
    if not (text.isascii() and text.isdigit() and int(text) <= 65535):
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}")
    return int(text)


def host_name(text):
    """argparse type: any non-empty host (the resolver judges the rest)."""
    if not text:
        raise argparse.ArgumentTypeError("the host must not be empty")
    return text


def host_port(host, port):
    """'[::1]:2000' or '127.0.0.1:2000': brackets keep an IPv6 address apart from its port."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def reason(err):
    """The system's words for an OSError ('Connection refused'), else the message itself."""
    return err.strerror or str(err)


def parse_server_args(description):
    parser = argparse.ArgumentParser(prog=PROG, description=description, allow_abbrev=False)
    parser.add_argument("--host", type=host_name, default="::",
                        help="address or name to listen on (default ::, which takes IPv4 too)")
    parser.add_argument("--port", type=port_number, default=2000,
                        help="port to listen on, 0 for any free one (default 2000)")
    return parser.parse_args()


def exit_on_signals():
    """Make SIGTERM and SIGINT end the program with status 0. SystemExit interrupts the
    blocking accept() or recv(), and the with-blocks on the way out close the sockets."""
    def stop(signum, frame):
        sys.exit(0)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, stop)


def listen(host, port):
    """Open the listening socket and announce it on stdout; exit 1 if that is impossible."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
        server = socket.socket(family, kind, proto)
        # A restarted server may bind its port while old connections sit in TIME_WAIT.
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # guide:dual-stack begin
        if family == socket.AF_INET6:
            # Dual stack: IPv4 clients reach this IPv6 socket as ::ffff:a.b.c.d, so the
            # default host :: serves both families.
            server.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        # guide:dual-stack end
        # guide:errors-port-in-use begin
        server.bind(address)
        # A deep accept queue: with the default, a burst of clients overflows it and is reset.
        server.listen(socket.SOMAXCONN)
    except OSError as err:  # socket.gaierror (unknown name) is an OSError too
        sys.exit(f"{PROG}: cannot listen on {host_port(host, port)}: {reason(err)}")
    # guide:errors-port-in-use end
    bound_host, bound_port = server.getsockname()[:2]
    print(f"listening on {host_port(bound_host, bound_port)}", flush=True)
    return server
