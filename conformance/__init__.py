"""Echo Lab conformance harness.

`conformance.manifest` discovers the lab's programs from their `echo-lab.json` manifests,
`conformance.diff` explains byte mismatches, and `conformance/tests` is the pytest suite that
drives every peer through the launch contract (CONTRACT.md).
"""
