"""Echo Lab conformance harness: `python3 -m conformance list | matrix | grade` (README.md here).

`conformance.manifest` discovers the lab's programs from their `echo-lab.json` manifests,
`conformance.cases` defines what is checked, `conformance.engine` runs it, `conformance.explain`
turns a mismatch into text a student can act on, `conformance.report` writes the reports, and
`conformance/tests` is the pytest suite (the harness's self-test and every program through the
launch contract, CONTRACT.md).
"""
