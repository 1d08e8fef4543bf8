"""The network a run works in: a private user + network namespace of its own when the machine
allows one (fixed ports never collide, packets are captured, faults injected, and a graded
program reaches nothing beyond its loopback), else the host's loopback with ephemeral ports.

    network = private.setup()      # first thing in a command, while single-threaded
    private.current().capture      # None when packets are captured, else why not

The commands that run programs call setup(); code that runs without it (the pytest suite calling
the engine directly) gets the host's loopback, and says so. A caller that is already
multi-threaded (a test session) can still run one function inside a private network:

    data = private.in_fresh_process(run_matrix, impls)   # a new interpreter that calls setup() first
"""

from __future__ import annotations

import multiprocessing
import sys
from dataclasses import dataclass

from conformance.net import capture, namespace, sandbox


@dataclass(frozen=True)
class Network:
    private: bool
    note: str  # one line for the reports
    capture: str | None  # None: every case's packets are captured; else why not
    sandbox: str | None  # None: untrusted programs run under bubblewrap; else why not


_current: Network | None = None


def setup(quiet: bool = False) -> Network:
    """Enter the private namespace if possible; say in one line (on stderr) when not."""
    global _current
    if namespace.enter():
        capture.prepare()
        note = "a private network namespace of its own (loopback only)"
    else:
        why = namespace.why_unavailable() or "no private namespace"
        note = f"the host's loopback, with ephemeral ports ({why})"
        if not quiet:
            print(f"no private network here: {why}; using the host's loopback with ephemeral ports",
                  file=sys.stderr, flush=True)
    _current = Network(namespace.inside(), note, capture.why_unavailable(), sandbox.why_unavailable())
    return _current


def current() -> Network:
    global _current
    if _current is None or _current.private != namespace.inside():
        _current = Network(namespace.inside(), "the host's loopback (the run did not set up a network)",
                           capture.why_unavailable(), sandbox.why_unavailable())
    return _current


def in_fresh_process(function, *args):
    """function(*args) in a new interpreter that has entered the private network first (a user
    namespace needs a single-threaded process); its result comes back pickled. `function` must
    be importable by name (a module-level function)."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_set_up_then, (function, args))


def _set_up_then(function, args):
    setup(quiet=True)
    return function(*args)
