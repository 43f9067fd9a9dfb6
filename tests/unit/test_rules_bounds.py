"""The rules whose gain is a bound read from the document, not a replay (ai-cpu, int64, core-limit),
fired on tiny built traces: exact shares, speedups, evidence and offenders."""

from __future__ import annotations

from pathlib import Path

import pytest
from ascend_builder import api, kernel_row, python_op, task, write_rank
from kineto_builder import kernel, runtime, step, write_trace

from tracekit.analysis.analyze import analyze
from tracekit.analysis.document.recommendations import Fired
from tracekit.readers import read_trace, read_traces
from tracekit.rules import CHANGES, recommend
from tracekit.rules.library.int64 import INT64_TO_INT32


def _fired(document, rule_id: str) -> Fired:
    return {finding.id: finding for finding in recommend(document).fired}[rule_id]


def _ascend(tmp_path: Path, events: list[dict], kernels: list[dict] | None = None):
    start = [python_op("ProfilerStep#1", "0.000", 900.0), api("AscendCL@aclnnAdd", "10.000", 5.0)]
    return analyze(read_traces(write_rank(tmp_path, 0, start + events, kernels))[0], changes=CHANGES)


def test_ai_cpu_operators_removed_bound_the_step(tmp_path: Path) -> None:
    """Two AI CPU operators, 300 of the device window's 600 us: removing them is at most x2."""
    events = [task("Add", "100.000", 80.0)]
    events += [
        task("Unique", "300.000", 200.0, task_type="AI_CPU"),
        task("Unique", "600.000", 100.0, task_type="AI_CPU"),
    ]
    document = _ascend(tmp_path, events)
    assert document.devices[0].window_ns == 600_000
    finding = _fired(document, "ai-cpu")
    assert finding.gain.removable_share == 0.5 and finding.gain.speedup == 2.0 == finding.gain.amdahl_bound
    assert [(e.label, e.value) for e in finding.evidence] == [
        ("operators", "2"),
        ("their device time", "300 us"),
        ("share of the step the change targets", "50.0 %"),
    ]
    assert finding.offenders.rows == [["Unique", 2, "300 us"]]


def test_int64_operators_shortened_to_their_int32_time(tmp_path: Path) -> None:
    """An int64 Equal of 230 us in a 430 us window: at case 001's int32 / int64 ratio (30 / 230) it
    takes 30 us, so the step is 430 / (430 - 200) = x1.87 shorter at most."""
    events = [task("Add", "100.000", 80.0), task("Equal", "300.000", 230.0)]
    kernels = [
        kernel_row("Add", "100.000", "80.0"),
        kernel_row("Equal", "300.000", "230.0", dtypes="INT64;INT64"),
    ]
    finding = _fired(_ascend(tmp_path, events, kernels), "int64")
    share = 230 / 430
    assert finding.gain.removable_share == pytest.approx(share)
    assert (
        finding.gain.speedup
        == pytest.approx(1 / (1 - share * (1 - INT64_TO_INT32)))
        == pytest.approx(430 / 230)
    )
    assert finding.summary.startswith("1 operators take int64 inputs (230 us)")
    assert finding.offenders.rows == [["Equal", 1, "230 us"]]


def test_core_limit_on_two_instances_that_never_overlap(tmp_path: Path) -> None:
    """Two host threads, each launching on its own stream, kernels one after another: 600 of 750 us
    busy (utilization 0.8), no overlap; limiting cores could overlap half of it: x1/(1 - 0.4)."""
    events = [step(1, 0.0, 1000.0)]
    for i in range(4):
        at = 100.0 + 200 * i
        events.append({**runtime("cudaLaunchKernel", at, 5.0, i + 1), "tid": 1 + i % 2})
        events.append(kernel("gemm", at + 10, 150.0, i + 1, stream=7 + i % 2))
    document = analyze(read_trace(write_trace(tmp_path / "two.json", events)), changes=CHANGES)
    kernels = document.devices[0].whatif.kernels
    assert (kernels.instances, kernels.streams, kernels.union_ns, kernels.sum_ns) == (2, 2, 600_000, 600_000)
    finding = _fired(document, "core-limit")
    assert finding.group == "throughput"
    assert finding.gain.removable_share == pytest.approx(0.4) and finding.gain.speedup == pytest.approx(
        1 / 0.6
    )
    assert [e.value for e in finding.evidence] == ["2", "0.0 %", "80.0 %"]
