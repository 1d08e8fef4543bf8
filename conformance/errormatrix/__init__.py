"""The error-handling matrix: every program of the lab through the faults a network program
meets, from real runs, as a Markdown page (lab-guides/error-matrix.md) that guide 03 includes
and the HTML report shows.

    python3 -m conformance errors                       # print the page
    python3 -m conformance errors --write lab-guides/error-matrix.md
    python3 -m conformance errors --check lab-guides/error-matrix.md --only 'go-*'

faults.py stages each fault and observes the program; table.py writes the page, reads it back
cell by cell and compares two pages; partner.py is the server a client faces; command.py is
the command line.
"""
