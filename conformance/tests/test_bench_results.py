"""The benchmark's figures are written down once, in lab-guides/bench-results.json: guide 07's
tables and lab-guides/performance.svg must be exactly what that file renders to
(`scripts/bench --render`), and the file must cover what scripts/bench.json asks of it."""

from __future__ import annotations

import copy
import difflib
import importlib.machinery
import importlib.util
import json
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIX = "run scripts/bench --render (or make bench BENCH_ARGS=--record for new figures)"


def load_bench():
    """scripts/bench as a module (it has no .py suffix, so it is loaded by path)."""
    loader = importlib.machinery.SourceFileLoader("echo_lab_bench", str(ROOT / "scripts" / "bench"))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[loader.name] = module  # its dataclasses look their module up there
    loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench():
    return load_bench()


@pytest.fixture(scope="module")
def recorded(bench):
    return json.loads(bench.RESULTS.read_text()), bench.load_config()


def difference(expected: str, actual: str, name: str) -> str:
    diff = difflib.unified_diff(expected.splitlines(), actual.splitlines(), f"rendered from {name}", "committed",
                                lineterm="", n=1)
    return "\n".join(list(diff)[:40])


def test_guide_07_tables_are_what_the_committed_results_render(bench, recorded):
    results, config = recorded
    text = bench.GUIDE.read_text()
    assert set(bench.regions(text)) == {"figures", "experiments"}
    rendered = bench.splice(text, bench.guide_bodies(results, config))
    assert rendered == text, f"guide 07 differs from bench-results.json: {FIX}\n" + difference(
        rendered, text, "bench-results.json")


def test_the_chart_is_what_the_committed_results_render(bench, recorded):
    results, config = recorded
    rendered = bench.render_svg(results, config)
    committed = bench.CHART.read_text()
    assert rendered == committed, f"performance.svg differs from bench-results.json: {FIX}\n" + difference(
        rendered, committed, "bench-results.json")


def test_the_chart_is_svg_with_a_bar_per_figure(bench, recorded):
    results, config = recorded
    root = ElementTree.fromstring(bench.CHART.read_text())
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{ns}svg"
    figures = bench.Figures(results)
    expected = sum(1 for panel in config["guide"]["chart"] for s in figures.servers
                   if (figures.entry(s["id"], panel["workload"]) or {}).get(panel["metric"]) is not None)
    bars = [r for r in root.iter(f"{ns}rect") if r.get("class") == "bar"]
    assert expected > 0 and len(bars) == expected


def test_a_changed_figure_no_longer_matches_the_guide_or_the_chart(bench, recorded, tmp_path):
    results, config = recorded
    changed = copy.deepcopy(results)
    panel = config["guide"]["chart"][0]  # a figure both the chart and a table show
    entry = changed["figures"][config["guide"]["highlight"]][panel["workload"]]
    entry[panel["metric"]] = entry[panel["metric"]] * 2 + 1
    text = bench.GUIDE.read_text()
    assert bench.splice(text, bench.guide_bodies(changed, config)) != text
    assert bench.render_svg(changed, config) != bench.CHART.read_text()
    # --render puts it right again: the guide copy then matches the changed figures.
    guide, chart = tmp_path / "guide.md", tmp_path / "chart.svg"
    guide.write_text(text)
    bench.render(changed, config, guide=guide, chart=chart)
    assert bench.splice(guide.read_text(), bench.guide_bodies(changed, config)) == guide.read_text()
    assert chart.read_text() == bench.render_svg(changed, config)


def test_a_guide_without_the_marked_region_is_refused(bench, recorded):
    results, config = recorded
    with pytest.raises(ValueError, match="figures"):
        bench.splice("# a guide\n\nno region here\n", bench.guide_bodies(results, config))


def test_the_recorded_run_answers_every_target_table_and_panel(bench, recorded):
    results, config = recorded
    assert not results["meta"]["smoke"], "a smoke run was recorded"
    workloads = {w["name"] for w in results["workloads"]}
    servers = {s["id"]: s for s in results["servers"]}
    for t in config["targets"]:
        assert t["workload"] in workloads, t["sentence"]
        for sid in filter(None, (t["server"], t.get("versus"))):
            assert sid in servers, f"{t['sentence']}: {sid} is not in the recorded run"
            if not servers[sid].get("skipped"):
                assert results["figures"][sid][t["workload"]][t["metric"]] is not None, t["sentence"]
    for spec in config["guide"]["tables"] + config["guide"]["chart"]:
        assert set(spec.get("workloads", [spec.get("workload")])) <= workloads, spec["title"]
        assert set(spec.get("metrics", [spec.get("metric")])) <= set(bench.METRICS), spec["title"]


def test_the_recorded_servers_are_the_lab_servers(bench, recorded):
    results, config = recorded
    known = {c.id for c in bench.contenders(config)}
    recorded_ids = [s["id"] for s in results["servers"]]
    assert len(recorded_ids) == len(set(recorded_ids))
    assert set(recorded_ids) <= known, "a recorded server is in no manifest and not derived in scripts/bench.json"
    assert set(recorded_ids) == known, "a server of the lab is missing from the recorded run (measured or skipped)"
