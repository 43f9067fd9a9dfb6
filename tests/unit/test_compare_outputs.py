"""CI outputs of a check, read back as CI servers read them, and the diff document."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from conftest import GPU_DATA
from junitparser import Failure, JUnitXml, Skipped

from tracekit.compare.budget import default_budgets, parse_budget
from tracekit.compare.check import check
from tracekit.compare.diff import diff
from tracekit.compare.run import Run, run_of
from tracekit.readers import read_trace
from tracekit.report.ci import junit_xml, markdown, sarif

SARIF_SCHEMA = Path(__file__).resolve().parent.parent / "data" / "sarif" / "sarif-schema-2.1.0.json"


@pytest.fixture(scope="module")
def runs() -> dict[str, Run]:
    names = ("h2d28_separate_run1", "h2d_batched")
    return {name: run_of(read_trace(GPU_DATA / f"{name}.pt.trace.json.gz")) for name in names}


BUDGETS = {
    "step.p50": "+10%",
    "utilization": "-5pp",
    "device.busy_per_step_ns": "+5%",
    "kernel.total_per_step_ns": "+5%",
    "h2d.per_step": "+10%",
    "h2d.bytes_per_step": "+10%",
    "h2d.share_of_busy": "+2pp",
    "d2h.per_step": "+10%",
    "bubbles.count": "+10%",
    "d2h.count": "<= 5",
}
"""Ten budgets of every kind (wall-clock, run-stable, absolute); the outputs' format is under test."""


@pytest.fixture(scope="module")
def regression(runs: dict[str, Run]) -> dict:
    budgets = [parse_budget(path, text) for path, text in BUDGETS.items()]
    return check(runs["h2d28_separate_run1"], [runs["h2d_batched"]], budgets, "built")


def test_junit_has_one_case_per_budget_with_failures_and_skips(regression: dict, tmp_path: Path) -> None:
    path = tmp_path / "check.xml"
    path.write_text(junit_xml(regression))
    suites = list(JUnitXml.fromfile(str(path)))
    cases = {case.name: case for case in suites[0]}
    assert list(cases) == [v["path"] for v in regression["verdicts"]]
    assert len(cases) == 10 and suites[0].tests == 10 and suites[0].failures == 6 and suites[0].skipped == 1
    failed = {name for name, case in cases.items() if any(isinstance(r, Failure) for r in case.result)}
    assert failed == {
        "step.p50",  # +218 % with one baseline run: beyond the 75 % prior, and significant
        "device.busy_per_step_ns",
        "h2d.per_step",
        "h2d.share_of_busy",
        "bubbles.count",
        "d2h.count",
    }
    skipped = {name for name, case in cases.items() if any(isinstance(r, Skipped) for r in case.result)}
    assert skipped == {"utilization"}
    message = next(r.message for r in cases["h2d.per_step"].result)
    assert "new 28; baseline 1 (mean of 1 run); change +2700.0 % (+27); budget +10% (limit 1.1)" in message
    assert "Hodges-Lehmann shift +27 [+27, +27]" in message and "n = 10 new vs 10 baseline steps" in message


def test_sarif_validates_against_the_official_schema(regression: dict) -> None:
    log = json.loads(sarif(regression))
    jsonschema.validate(log, json.loads(SARIF_SCHEMA.read_text()))
    results = log["runs"][0]["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [  # worst first: regressions by size of change
        ("h2d.per_step", "error"),
        ("bubbles.count", "error"),
        ("step.p50", "error"),
        ("device.busy_per_step_ns", "error"),
        ("h2d.share_of_busy", "error"),
        ("d2h.count", "error"),
        ("utilization", "warning"),
    ]
    assert "Hodges-Lehmann shift +702 us [+657 us, +731 us]" in results[2]["message"]["text"]


def test_sarif_of_a_passing_check_is_valid_and_empty(runs: dict[str, Run]) -> None:
    passing = check(runs["h2d_batched"], [runs["h2d_batched"]], default_budgets(), "default")
    log = json.loads(sarif(passing))
    jsonschema.validate(log, json.loads(SARIF_SCHEMA.read_text()))
    assert log["runs"][0]["results"] == []


def test_markdown_table_has_a_row_per_budget(regression: dict) -> None:
    lines = markdown(regression).splitlines()
    assert lines[0] == "### tracekit check: regression"
    rows = [line for line in lines if line.startswith("| `")]
    assert len(rows) == 10
    assert (
        rows[0] == "| `h2d.per_step` | **REGRESSION** | 28 | 1 | +2700.0 % (+27) | `+10%` | +27 [+27, +27] |"
    )
    assert [row.split("|")[2].strip() for row in rows[6:]] == ["inconclusive", "pass", "pass", "pass"]


def test_diff_aligns_operators_and_reports_steps(runs: dict[str, Run]) -> None:
    document = diff(runs["h2d_batched"], runs["h2d28_separate_run1"], top=3)
    assert document["schema"] == "tracekit.diff/1"
    metrics = {row["path"]: row for row in document["metrics"]}
    assert (metrics["h2d.count"]["base"], metrics["h2d.count"]["new"], metrics["h2d.count"]["change"]) == (
        10,
        280,
        270,
    )
    assert metrics["step.p50"]["relative_change"] == pytest.approx(1019546 / 320894 - 1)
    steps = document["steps"]
    assert (steps["base"]["count"], steps["new"]["p50"], steps["shift"]["shift"]) == (10, 1019546, 701987.0)
    kernels = document["kernels"]
    assert len(kernels["aligned"]) == 7 and kernels["appeared"] == [] and kernels["vanished"] == []
    assert kernels["delta_is"] == "per step"
    cpu = document["cpu_ops"]
    assert cpu["vanished"] == ["aten::split_with_sizes"]
    assert [row["name"] for row in cpu["regressions"]] == ["aten::to", "aten::_to_copy", "aten::copy_"]
    top = cpu["regressions"][0]
    assert (top["base_count"], top["new_count"]) == (20, 290)
    assert top["delta_ns"] == pytest.approx(top["new_total_ns"] / 10 - top["base_total_ns"] / 10)


def test_diff_rows_come_worst_first(runs: dict[str, Run]) -> None:
    """Separate copies (new) against batched (base): regressions first, by size of the relative change;
    then improvements, then unchanged metrics."""
    rows = diff(runs["h2d_batched"], runs["h2d28_separate_run1"])["metrics"]
    directions = [row["direction"] for row in rows]
    assert directions == sorted(directions, key=["worse", "better", "same", "unknown"].index)
    worse = [row for row in rows if row["direction"] == "worse"]
    sizes = [abs(r["relative_change"]) if r["relative_change"] is not None else float("inf") for r in worse]
    assert sizes == sorted(sizes, reverse=True) and worse[0]["path"] in ("h2d.per_step", "h2d.count")
