"""What the fault cases (conformance/cases/fault.py) need beyond a plain client: a look at the
server process from /proc (probe), many clients at once on one event loop (load), and the bad
command lines every program must refuse cleanly (badinput)."""
