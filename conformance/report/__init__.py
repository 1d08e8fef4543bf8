"""What a run found, and the writers that show it: the terminal, report.json, HTML, JUnit XML
and Gradescope's results.json."""

from __future__ import annotations

from pathlib import Path

from conformance.report.model import Blame, Report, blame, impl_json
from conformance.report import gradescope, html, junit


def write_reports(report: Report, json_path: Path | None, html_path: Path | None,
                  junit_path: Path | None) -> dict[str, str]:
    """Write the reports asked for; what was written, by name."""
    paths = {}
    if json_path:
        report.write_json(json_path)
        paths["report.json"] = str(json_path)
    if html_path:
        html.write(report, html_path)
        paths["HTML report"] = str(html_path)
    if junit_path:
        junit.write(report, junit_path)
        paths["JUnit XML"] = str(junit_path)
    return paths


__all__ = ["Blame", "Report", "blame", "gradescope", "html", "impl_json", "junit", "write_reports"]
