"""What a run found (model.py: one data model) and the writers that render it: the terminal,
report.json, HTML, JUnit XML, Gradescope's results.json, the robustness table, the
error-handling matrix page, and the class summary."""

from __future__ import annotations

from pathlib import Path

from conformance.report.model import Blame, Report, blame, impl_json
from conformance.report import gradescope, html, junit
from conformance.weights import Weights


def write_reports(report: Report, json_path: Path | None, html_path: Path | None, junit_path: Path | None,
                  weights: Weights | None = None, robustness_table: dict | None = None,
                  error_matrix: str = "") -> dict[str, str]:
    """Write the reports asked for; what was written, by name."""
    paths = {}
    if json_path:
        report.write_json(json_path)
        paths["report.json"] = str(json_path)
    if html_path:
        html.write(report, html_path, weights, robustness_table, error_matrix)
        paths["HTML report"] = str(html_path)
    if junit_path:
        junit.write(report, junit_path)
        paths["JUnit XML"] = str(junit_path)
    return paths


__all__ = ["Blame", "Report", "blame", "gradescope", "html", "impl_json", "junit", "write_reports"]
