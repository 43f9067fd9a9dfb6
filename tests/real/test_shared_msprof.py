"""Real Ascend profiler output (../shared/traces/msprof), checked against the numbers of each
SOURCE.md and ../shared/docs/formats-msprof.md §5. Each test skips when ../shared is absent."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest
from conftest import shared_trace

from tracekit.analysis.analyze import analyze
from tracekit.analysis.document import Document, plain
from tracekit.model.schema import CopyDirection, Kind
from tracekit.readers import read_trace, read_traces

L1 = "msprof/msinsight-torchnpu-level1"
L1R0 = f"{L1}/rank0_ascend_pt"


@cache
def _document(relative: str) -> Document:
    return analyze(read_trace(shared_trace(relative)))


def test_level1_rank0_pcie_copies_and_compute_match_the_acceptance_numbers() -> None:
    document = _document(L1R0)
    h2d = document.ascend.h2d
    assert h2d.count == 14
    assert h2d.total_ns == 872057  # Σ of per-task ns; the exact decimal sum is 872.0575 µs
    assert h2d.launched_by["AscendCL@aclrtMemcpyAsync"] == 2
    assert h2d.largest[0].dur_ns == 840077  # the 19 MB input batch
    assert document.devices[0].h2d.count == 14 and document.devices[0].d2d.count == 10
    (entry,) = document.ascend.time_breakdown
    assert entry.step == 50
    assert entry.overlap_analysis.compute_ns == 8873756
    assert entry.step_trace_time.compute_ns == 8873756
    assert entry.step_trace_time.e2e_ns == 136581000
    assert entry.overlap_analysis.communication_ns == 105991878
    assert entry.overlap_analysis.communication_not_overlapped_ns == 101963203
    assert entry.overlap_analysis.free_ns == 25744050
    ours = entry.tracekit
    assert abs(ours.compute_ns - 8873756) < 1000  # to the microsecond
    assert abs(ours.e2e_ns - 136581000) < 1000
    for key in ("compute_ns", "communication_ns", "communication_not_overlapped_ns", "free_ns"):
        assert abs(getattr(entry.difference_vs_overlap_analysis, key)) < 1000
        assert abs(getattr(entry.difference_vs_step_trace_time, key)) < 1000


def test_level1_rank0_copy_total_agrees_with_the_exact_decimal_sum() -> None:
    path = shared_trace(f"{L1R0}/ASCEND_PROFILER_OUTPUT/trace_view.json")
    events = json.loads(path.read_text(), parse_float=Decimal)
    exact_ns = sum(
        e["dur"] * 1000
        for e in events
        if e.get("name") == "MEMCPY_ASYNC" and e["args"]["Task Type"] == "PCIE_DMA_SQE"
    )
    assert exact_ns == Decimal("872057.5")
    assert abs(_document(L1R0).ascend.h2d.total_ns - exact_ns) <= Decimal("0.5")


def test_level1_rank0_operator_columns_and_findings() -> None:
    trace = read_trace(shared_trace(L1R0))
    table = trace.events
    kernels = [k == Kind.KERNEL for k in table.column("kind").to_pylist()]
    cores = Counter(
        c for c, kernel in zip(table.column("core_type").to_pylist(), kernels, strict=True) if kernel
    )
    assert cores == {"AI_VECTOR_CORE": 149, "AI_CORE": 23, "MIX_AIV": 13, "DSA_SQE": 2}
    assert trace.metadata["ascend"]["kernel_details"] == {"rows": 191, "matched": 191}
    ascend = _document(L1R0).ascend
    dynamic = ascend.dynamic_shape
    assert dynamic.all_dynamic is True and dynamic.count == 187
    top = dynamic.largest_waits[0]
    assert (top.name, top.task_wait_ns) == ("aclnnInplaceCopy_TensorMoveAiCore_TensorMove", 65650472)
    compile_api = next(a for a in dynamic.host_compile_apis if a["api"] == "aclopCompileAndExecute")
    assert (compile_api["count"], compile_api["total_ns"]) == (19, 14049230)
    assert ascend.ai_cpu.detected is False
    assert ascend.int64.detected is True and "Equal" in [g.op_type for g in ascend.int64.by_op_type]
    assert ascend.block_dim.evaluated is False  # no info.json.N in the trimmed sample


def test_level1_rank0_foundation_metrics() -> None:
    document = _document(L1R0)
    assert document.steps.count == 1 and document.steps.first == 50
    device = document.devices[0]
    assert device.operations == 215
    assert 0 < device.busy_ns <= device.window_ns
    assert device.launch.kernels_with_launch == 191  # CANN connection_id -> device task
    assert device.bubbles.count > 90  # formats-msprof.md §5: 102 device gaps in the compute span
    assert device.hotspots[0].name == "hcom_allReduce__586_0_1"


def test_level1_directory_gives_one_result_per_rank() -> None:
    traces = read_traces(shared_trace(L1))
    assert [t.metadata["ascend"]["rank"] for t in traces] == [0, 1]
    rank1 = analyze(traces[1]).ascend.time_breakdown[0]
    assert rank1.step_trace_time.compute_ns == 8878295  # rank1 step_trace_time.csv Computing
    assert abs(rank1.difference_vs_step_trace_time.compute_ns) < 1000


def test_level0_has_no_cann_layer_and_loads() -> None:
    trace = read_trace(shared_trace("msprof/msinsight-torchnpu-level0/rank0_ascend_pt"))
    assert "CANN" not in trace.metadata["ascend"]["layers"]
    assert Kind.RUNTIME not in set(trace.events.column("kind").to_pylist())
    ascend = analyze(trace).ascend
    assert ascend.dynamic_shape.evaluated is False  # Level0 kernel_details has no OP State
    (entry,) = ascend.time_breakdown
    assert entry.step_trace_time.compute_ns == 8827473
    assert abs(entry.difference_vs_step_trace_time.compute_ns) < 1000


def test_level2_copies_carry_size_and_direction() -> None:
    trace = read_trace(shared_trace("msprof/msinsight-torchnpu-level2/rank0_ascend_pt"))
    rows = [r for r in trace.events.to_pylist() if r["kind"] == Kind.MEMCPY]
    h2d = [r for r in rows if r["copy_direction"] == CopyDirection.H2D]
    assert len(h2d) == 14 and h2d[0]["bytes"] == 19267584
    assert trace.metadata["ascend"]["profiler_level"] == "Level2"


def test_db_export_loads_and_matches_its_overlap_layer() -> None:
    document = _document("msprof/msinsight-torchnpu-db-level1/rank0_ascend_pt")
    assert document.trace.metadata["ascend"]["events_from"] == "database"
    (entry,) = document.ascend.time_breakdown
    assert entry.overlap_analysis.compute_ns == 8903431  # OVERLAP_ANALYSIS type 0
    assert entry.step_trace_time.compute_ns == 8903431  # analysis.db StepTraceTime
    assert plain(entry.difference_vs_overlap_analysis) == {
        "e2e_ns": 0,
        "compute_ns": 0,
        "communication_ns": 0,
        "communication_not_overlapped_ns": 0,
        "free_ns": 0,
    }
    assert document.devices[0].launch.kernels_with_launch > 180


def test_native_msprof_db_fixture_loads() -> None:
    document = _document("msprof/msinsight-msprof-db")
    assert [d.id for d in document.devices] == [2]
    assert document.devices[0].operations == 24  # 24 TASK rows


def test_older_formats_load() -> None:
    old = read_trace(shared_trace("msprof/msprof-analyze-testdata/timeline_advice/trace_view.json"))
    copies = [r for r in old.events.to_pylist() if r["kind"] == Kind.MEMCPY]
    assert len(copies) == 2 and all(c["copy_direction"] == CopyDirection.OTHER for c in copies)
    assert {r["stream"] for r in copies} == {3}  # "Stream Id" in the 2024 format
    ai_cpu = analyze(old).ascend.ai_cpu
    assert ai_cpu.count == 2  # Task Type AI_CPU in the timeline
    details = analyze(
        read_trace(shared_trace("msprof/msprof-analyze-testdata/advisor_backend_compute_advice"))
    )
    assert details.devices[0].operations == 591
    assert [g.op_type for g in details.ascend.ai_cpu.by_op_type] == ["Cast"]


def test_cluster_directory_gives_each_rank() -> None:
    traces = read_traces(shared_trace("msprof/msinsight-cluster"))
    assert [Path(t.source).name for t in traces] == ["test_rank_0", "test_rank_1", "test_kernel_parse"]
    entry = analyze(traces[0]).ascend.time_breakdown[0]
    assert entry.step_trace_time.e2e_ns == 291698000


def test_cli_analyses_the_rank_directory(tmp_path: Path) -> None:
    out = tmp_path / "r0.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tracekit",
            "analyze",
            str(shared_trace(L1R0)),
            "--json",
            str(out),
            "--no-html",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(out.read_text())
    assert document["ascend"]["h2d"]["count"] == 14
    assert document["ascend"]["time_breakdown"][0]["overlap_analysis"]["compute_ns"] == 8873756


@pytest.mark.parametrize(
    "relative",
    [
        "msprof/msinsight-torchnpu-level0",
        "msprof/msinsight-torchnpu-level2",
        "msprof/msinsight-torchnpu-db-level1",
        "msprof/msprof-analyze-testdata",
    ],
)
def test_every_dataset_gives_sane_foundation_metrics(relative: str) -> None:
    for trace in read_traces(shared_trace(relative)):
        document = analyze(trace)
        assert document.devices, trace.source
        for device in document.devices:
            assert 0 < device.busy_ns <= device.window_ns
            assert 0 < device.utilization <= 1
            assert device.bubbles.total_ns + device.busy_ns == device.window_ns
