"""Starting again: a restart over TIME_WAIT, and bad command lines."""

from __future__ import annotations

import asyncio
import socket
import time
from concurrent.futures import ThreadPoolExecutor

from conformance import process
from conformance.cases.arguments import BAD_SERVER_ARGS, UNRESOLVABLE, ZONED, refusal_problem
from conformance.cases.case import MUST, Context, Fail, case
from conformance.cases.robust import HOST, half_close, pick, rule, serving
from conformance.net import load
from conformance.procfs import time_wait_count

TIME_WAIT = rule("A restart with thousands of TIME_WAIT sockets on the port binds at once.")
BAD_INPUT = rule("Bad input (unknown flags, port 70000, port abc, an empty host, an unresolvable host, "
                 "an IPv6 literal with a zone): one clear line, exit 2 or 1, no crash, no hang.")


def fill_time_wait(count: int) -> int:
    """A port with `count` connections in TIME_WAIT on its side: a listener on :: accepts them
    and closes first (the side that closes first keeps TIME_WAIT), then goes away, as a server
    that stops does. Like any server meant to restart, it set SO_REUSEADDR: Linux lets a new
    socket bind over TIME_WAIT only when both sides asked for it."""
    listener = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        listener.bind(("::", 0))
        listener.listen(128)
        port = listener.getsockname()[1]
        for _ in range(count):
            with socket.create_connection((HOST, port), timeout=5) as client:
                accepted, _ = listener.accept()
                accepted.close()
                client.recv(1)
        return port
    finally:
        listener.close()


@case("robust/time-wait", MUST, 1, TIME_WAIT)
def time_wait(ctx: Context) -> None:
    """With 5,000 (bounded: 1,000) connections in TIME_WAIT on its port, the server started
    again on that port binds at once (SO_REUSEADDR) and serves."""
    count = pick(ctx, 5000, 1000)
    port = fill_time_wait(count)
    waiting = time_wait_count(port)
    if waiting < count // 2:
        raise OSError(f"only {waiting} of {count} connections are in TIME_WAIT on port {port}")
    started = time.monotonic()
    try:
        with serving(ctx, port=port) as server:
            ready = time.monotonic() - started
            problem = asyncio.run(load.echo_client(HOST, server.port, b"after a restart\n", half_close(ctx),
                                                   timeout=10))
    except Fail as e:
        e.note(f"{waiting} connections were in TIME_WAIT on port {port}: set SO_REUSEADDR on the "
               f"listening socket before bind, and the port can be bound again at once")
        raise
    ctx.note(f"bound port {port} over {waiting} TIME_WAIT sockets; ready in {ready:.2f} s")
    if problem:
        raise Fail(f"started again over TIME_WAIT, the server did not serve: {problem}")


@case("robust/bad-input", MUST, 2, BAD_INPUT)
def bad_input(ctx: Context) -> None:
    """The server started with port 70000, port abc, port -1, an empty host or an unknown flag
    prints a usage text and exits 2; with an unresolvable host, an IPv6 literal with a zone that
    names no interface, or a port in use, one line naming the address, exit 1 (or 2 for the
    first two); never a crash or a hang."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind((HOST, 0))
        taken.listen()
        busy = taken.getsockname()[1]
        checks = [(what, host, port, options, (2,), None, True)
                  for what, host, port, options in BAD_SERVER_ARGS]
        if "{options}" not in ctx.server.run:
            untried = [c[0] for c in checks if c[3]]
            checks = [c for c in checks if not c[3]]
            ctx.note(f"not tried ({', '.join(untried)}): the command has no {{options}} to pass flags through")
        checks += [("an unresolvable host", UNRESOLVABLE, "0", (), (1, 2), UNRESOLVABLE, False),
                   ("an IPv6 literal with a zone", ZONED, "0", (), (1, 2), "fe80::1", False),
                   ("a port in use", HOST, str(busy), (), (1,), f"{HOST}:{busy}", False)]

        def one(check) -> str | None:
            what, host, port, options, statuses, naming, usage = check
            done = process.run(ctx.server.command(host, port, options), ctx.server.directory, timeout=15)
            ctx.runs.append(done)
            problem = refusal_problem(done, statuses, naming, usage)
            return done.describe(f"given {what}: {problem}") if problem else None
        with ThreadPoolExecutor(4) as pool:
            problems = [p for p in pool.map(one, checks) if p]
    ctx.note(f"{len(checks) - len(problems)}/{len(checks)} bad command lines refused cleanly")
    if problems:
        raise Fail(f"{len(problems)} of {len(checks)} bad command lines were not refused cleanly",
                   notes=tuple(problems))
