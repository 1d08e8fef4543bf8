"""JUnit XML: one testsuite per program (pairs under their client), one testcase per case. A
broken rule (a stall included) is a <failure>, a harness fault an <error>, anything that did not
run (or failed as documented) is <skipped>; a failure's diagnosis is a property of its testcase.
Payload bytes are already hex in the messages; any other character XML 1.0 cannot hold is
escaped, so the file always parses."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from conformance.engine import render
from conformance.outcomes import Outcome
from conformance.report.model import Report

NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean(text: str) -> str:
    return NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def tree(report: Report) -> ET.ElementTree:
    root = ET.Element("testsuites", name=f"echo-lab conformance (seed {report.seed})",
                      time=f"{report.seconds:.3f}")
    suites: dict[str, ET.Element] = {}
    for result in report.results:
        owner = result.client if result.case.role == "pair" else result.subject
        suite = suites.get(owner)
        if suite is None:
            suite = suites[owner] = ET.SubElement(root, "testsuite", name=owner)
        name = result.case.id + (f" with {result.server}" if result.case.role == "pair" else "")
        case = ET.SubElement(suite, "testcase", classname=clean(owner), name=clean(name),
                             time=f"{result.seconds:.3f}")
        text = clean(render(result))
        if result.cause:
            ET.SubElement(ET.SubElement(case, "properties"), "property", name="diagnosis", value=result.cause)
        if result.outcome in (Outcome.FAIL, Outcome.NON_STRICT):
            ET.SubElement(case, "failure", type=result.outcome.value, message=clean(result.summary)).text = text
        elif result.outcome is Outcome.ERROR:
            ET.SubElement(case, "error", type="ERROR", message=clean(result.summary)).text = text
        elif result.outcome is not Outcome.PASS:
            why = result.expected or result.summary
            ET.SubElement(case, "skipped", message=clean(f"{result.outcome.value}: {why}"))
    for suite in suites.values():
        cases = list(suite)
        suite.set("tests", str(len(cases)))
        for tag, attr in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
            suite.set(attr, str(sum(1 for c in cases if c.find(tag) is not None)))
    return ET.ElementTree(root)


def write(report: Report, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    xml = tree(report)
    ET.indent(xml)
    xml.write(path, encoding="utf-8", xml_declaration=True)
