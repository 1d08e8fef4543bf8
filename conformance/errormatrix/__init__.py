"""The error-handling matrix: every program of the lab through the failures a network program
meets, from real runs, kept as data (lab-guides/error-matrix.json) and rendered as the page
guide 03 links (lab-guides/error-matrix.md) and a section of the HTML report.

    python3 -m conformance errors                      # print the page of a fresh run
    python3 -m conformance errors --write              # rewrite the committed data and page
    python3 -m conformance errors --check --only 'go-*'

scenarios.py stages each failure and observes the program; page.py holds the data, renders it
and compares two runs cell by cell.
"""
