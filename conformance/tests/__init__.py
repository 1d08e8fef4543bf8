"""The conformance test suite: `pytest -q conformance/tests`."""
