"""Bad command lines, and how a careful program refuses them: one clear message, the contract's
exit status, nothing on stdout, never a crash or a hang. Shared by client/errors/bad-arguments
and robust/bad-input."""

from __future__ import annotations

from conformance.process import Run, crashed

# (what the user typed, host, port, extra options): each must be refused with a usage text, exit 2.
BAD_SERVER_ARGS = [
    ("port 70000", "::", "70000", ()),
    ("port abc", "::", "abc", ()),
    ("port -1", "::", "-1", ()),
    ("empty host", "", "0", ()),
    ("unknown flag", "::", "0", ("--bogus",)),
]
BAD_CLIENT_ARGS = [
    ("port 70000", "127.0.0.1", "70000", ()),
    ("port abc", "127.0.0.1", "abc", ()),
    ("empty host", "", "2000", ()),
    ("unknown flag", "127.0.0.1", "2000", ("--bogus",)),
]
UNRESOLVABLE = "no-such-host.invalid"  # .invalid never resolves (RFC 6761)
ZONED = "fe80::1%no-such-interface"  # link-local, on an interface that does not exist


def refusal_problem(done: Run, statuses: tuple[int, ...], naming: str | None = None,
                    usage: bool = False) -> str | None:
    """None when the program refused as the contract says: no crash, nothing on stdout, an exit
    status from `statuses`, and on stderr a usage text (`usage`) or exactly one line naming
    `naming`. Otherwise what is wrong, in one sentence."""
    if done.killed:
        return f"it {done.killed} (killed): bad input must be refused at once, never hang"
    if done.ending.signal or crashed(done.stderr):
        return "it crashed instead of explaining the problem"
    lines = [line for line in done.stderr.decode("utf-8", errors="replace").splitlines() if line.strip()]
    explained = bool(lines) if usage else (len(lines) == 1 and naming in lines[0])
    if done.returncode not in statuses or done.stdout or not explained:
        wanted = "a usage text on stderr" if usage else f"exactly one stderr line naming {naming}"
        return (f"the contract wants {wanted}, nothing on stdout, and exit status "
                f"{' or '.join(map(str, statuses))}")
    return None
