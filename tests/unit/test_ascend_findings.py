"""Each Ascend finding on built traces: one where it must fire, one where it must not."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from ascend_builder import (
    api,
    collective,
    kernel_row,
    overlap,
    python_op,
    step_trace_row,
    task,
    write_rank,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from tracekit.analysis.analyze import Options, analyze
from tracekit.analysis.ascend_breakdown import segment_lengths
from tracekit.analysis.document import plain
from tracekit.analysis.document.ascend import AscendFindings, BlockDimFinding
from tracekit.model.intervals import total_length, union
from tracekit.readers import read_trace

STEP = python_op("ProfilerStep#1", "0.000", 1000.0)


def _findings(tmp_path: Path, events: list[dict], **files: object) -> AscendFindings:
    root = write_rank(tmp_path, 0, [STEP, *events], **files)
    return analyze(read_trace(root)).ascend


def _copy(ts: str, dur: float, size: int, connection: int) -> dict:
    return task("MEMCPY_ASYNC", ts, dur, "PCIE_DMA_SQE", connection=connection, **{"size(B)": size})


def test_h2d_separate_copies_fire(tmp_path: Path) -> None:
    events = [
        api("AscendCL@aclrtMemcpyAsync", "10.000", 1.0, connection=1),
        api("AscendCL@aclrtMemcpyAsync", "11.000", 1.0, connection=2),
        _copy("20.000", 30.0, 4096, 1),
        _copy("50.000", 10.0, 1024, 2),
        _copy("70.000", 10.0, 2048, 3),
        task("MatMul", "80.000", 20.0),
        _copy("100.000", 5.0, 512, 4),
    ]
    h2d = _findings(tmp_path, events).h2d
    assert h2d.detected is True
    assert (h2d.count, h2d.total_ns, h2d.busy_ns, h2d.bytes) == (4, 55000, 55000, 7680)
    assert (h2d.bytes_min, h2d.bytes_p50, h2d.bytes_max) == (512, 1024, 4096)
    assert h2d.launched_by == {"AscendCL@aclrtMemcpyAsync": 2, "(no launch call in trace)": 2}
    (step,) = h2d.per_step
    assert (step.step, step.count, step.before_first_compute) == (1, 4, 3)
    assert step.step_span_ns == 85000 and step.share == 55000 / 85000


def test_h2d_single_copy_per_step_does_not_fire(tmp_path: Path) -> None:
    events = [_copy("20.000", 30.0, 4096, 1), task("MatMul", "80.000", 20.0)]
    h2d = _findings(tmp_path, events).h2d
    assert h2d.detected is False and h2d.count == 1 and h2d.max_per_step == 1


def test_ai_cpu_operators_fire(tmp_path: Path) -> None:
    events = [
        task("aclnnWhere", "10.000", 40.0, "AI_CPU"),
        task("aclnnUnique", "60.000", 25.0, "AI_CPU"),
        task("aclnnWhere", "90.000", 20.0, "AI_CPU"),
        task("Add", "120.000", 15.0),
    ]
    kernels = [
        kernel_row("aclnnWhere", "10.000", "40.0", core="AI_CPU", op_type="Where"),
        kernel_row("aclnnUnique", "60.000", "25.0", core="AI_CPU", op_type="Unique"),
        kernel_row("aclnnWhere", "90.000", "20.0", core="AI_CPU", op_type="Where"),
        kernel_row("Add", "120.000", "15.0", core="AI_VECTOR_CORE", op_type="Add"),
    ]
    ai_cpu = _findings(tmp_path, events, kernels=kernels).ai_cpu
    assert ai_cpu.detected is True
    assert (ai_cpu.count, ai_cpu.total_ns, ai_cpu.share_of_compute) == (3, 85000, 0.85)
    assert [(g.op_type, g.count, g.total_ns, g.max_ns) for g in ai_cpu.by_op_type] == [
        ("Where", 2, 60000, 40000),
        ("Unique", 1, 25000, 25000),
    ]


def test_ai_cpu_absent_does_not_fire(tmp_path: Path) -> None:
    kernels = [kernel_row("Add", "120.000", "15.0", core="AI_VECTOR_CORE", op_type="Add")]
    ai_cpu = _findings(tmp_path, [task("Add", "120.000", 15.0)], kernels=kernels).ai_cpu
    assert ai_cpu.evaluated is True and ai_cpu.detected is False and ai_cpu.count == 0


def test_dynamic_shape_operators_and_their_wait_fire(tmp_path: Path) -> None:
    events = [
        task("Gather", "10.000", 10.0, connection=1),
        api("Node@launch", "25.000", 5.0, connection=2),
        task("Where", "50.000", 10.0, connection=2),  # device idle 30 µs before it, launched 20 µs late
        task("Add", "60.000", 5.0),
    ]
    kernels = [
        kernel_row("Gather", "10.000", "10.0", state="static"),
        kernel_row("Where", "50.000", "10.0", state="dynamic", wait="30.0", op_type="Where"),
        kernel_row("Add", "60.000", "5.0", state="static"),
    ]
    dynamic = _findings(tmp_path, events, kernels=kernels).dynamic_shape
    assert dynamic.detected is True and dynamic.all_dynamic is False
    assert (dynamic.count, dynamic.static_count, dynamic.total_ns) == (1, 2, 10000)
    assert (dynamic.task_wait_ns, dynamic.idle_before_ns, dynamic.task_wait_per_step_ns) == (
        30000,
        30000,
        30000.0,
    )
    assert dynamic.launch_delay_p50_ns == 20000
    assert dynamic.largest_waits[0].name == "Where"


def test_static_operators_do_not_fire_and_missing_state_is_not_evaluated(tmp_path: Path) -> None:
    events = [task("Add", "60.000", 5.0)]
    static = _findings(tmp_path / "a", events, kernels=[kernel_row("Add", "60.000", "5.0", state="static")])
    assert static.dynamic_shape.evaluated is True and static.dynamic_shape.detected is False
    unknown = _findings(tmp_path / "b", events, kernels=[kernel_row("Add", "60.000", "5.0", state="N/A")])
    assert unknown.dynamic_shape.evaluated is False and unknown.dynamic_shape.detected is None


def test_int64_operators_fire(tmp_path: Path) -> None:
    events = [task("Equal", "10.000", 230.0), task("Add", "300.000", 5.0)]
    kernels = [
        kernel_row(
            "Equal",
            "10.000",
            "230.0",
            core="AI_VECTOR_CORE",
            op_type="Equal",
            dtypes="DT_INT64;DT_INT64",
            shapes="1,4000;400,1",
        ),
        kernel_row("Add", "300.000", "5.0", core="AI_VECTOR_CORE", op_type="Add", dtypes="INT32;INT32"),
    ]
    int64 = _findings(tmp_path, events, kernels=kernels).int64
    assert int64.detected is True and (int64.count, int64.total_ns) == (1, 230000)
    (group,) = int64.by_op_type
    assert group.op_type == "Equal" and group.input_shapes == ["1,4000;400,1"]


def test_int32_operators_do_not_fire(tmp_path: Path) -> None:
    kernels = [kernel_row("Add", "300.000", "5.0", core="AI_VECTOR_CORE", dtypes="INT32;INT32")]
    int64 = _findings(tmp_path, [task("Add", "300.000", 5.0)], kernels=kernels).int64
    assert int64.evaluated is True and int64.detected is False


def _block_dim_trace(tmp_path: Path, blocks: list[tuple[str, str]], info: dict | None) -> BlockDimFinding:
    events, kernels = [], []
    for i, (core, block) in enumerate(blocks):
        start = f"{10 + 20 * i}.000"
        events.append(task(f"Op{i}", start, 10.0 + i))
        kernels.append(kernel_row(f"Op{i}", start, f"{10.0 + i}", core=core, block=block))
    return _findings(tmp_path, events, kernels=kernels, device_info=info).block_dim


def test_block_dim_below_core_count_fires_and_a_global_limit_explains_it(tmp_path: Path) -> None:
    blocks = [
        ("AI_CORE", "16"),
        ("AI_CORE", "16"),
        ("AI_CORE", "16"),
        ("AI_VECTOR_CORE", "48"),
        ("AI_VECTOR_CORE", "72"),
    ]
    found = _block_dim_trace(tmp_path, blocks, {"ai_core_num": 24, "aiv_num": 48})
    assert found.detected is True and found.core_counts == {"ai_core": 24, "vector_core": 48}
    assert (found.count, found.below_core_count, found.not_a_multiple) == (4, 3, 1)
    assert found.total_ns == 10000 + 11000 + 12000 + 14000
    assert plain(found.global_limit.cube) == {"max_block_dim": 16, "share_at_max": 1.0, "likely_limit": 16}
    assert found.global_limit.vector.likely_limit is None
    assert found.explained_by_global_limit == 3
    assert plain(found.largest[0]) == {
        "name": "Op4",
        "op_type": "Op4",
        "core_type": "AI_VECTOR_CORE",
        "block_dim": 72,
        "core_count": 48,
        "dur_ns": 14000,
    }


def test_block_dim_filling_the_cores_does_not_fire(tmp_path: Path) -> None:
    blocks = [("AI_CORE", "24"), ("MIX_AIC", "48"), ("AI_VECTOR_CORE", "48"), ("AI_CPU", "1")]
    found = _block_dim_trace(tmp_path, blocks, {"ai_core_num": 24, "aiv_num": 48})
    assert found.evaluated is True and found.detected is False and found.count == 0


def test_block_dim_without_core_counts_is_not_evaluated(tmp_path: Path) -> None:
    found = _block_dim_trace(tmp_path, [("AI_CORE", "16")], None)
    assert found.evaluated is False and found.detected is None
    assert plain(found.observed.cube) == {"operators": 1, "max": 16, "most_common": 16}


def test_time_breakdown_reconciles_with_overlap_layer_and_step_trace_time(tmp_path: Path) -> None:
    events = [
        task("MatMul", "100.000", 40.0),  # compute 100-140
        collective("hcom_allReduce__1_0_1", "120.000", 60.0),  # communication 120-180, 40 µs not overlapped
        task("Add", "200.000", 10.0),  # free 180-200
        overlap("Computing", "100.000", 40.0),
        overlap("Computing", "200.000", 10.0),
        overlap("Communication", "120.000", 60.0),
        overlap("Communication(Not Overlapped)", "140.000", 40.0),
        overlap("Free", "180.000", 20.001),
    ]
    rows = [step_trace_row(1, "50.0", "40.0", "60.0", "20.0", "110.0", preparing="100.0")]
    (entry,) = _findings(tmp_path, events, step_trace=rows).time_breakdown
    assert entry.step == 1 and entry.device == 0
    assert plain(entry.tracekit) == {
        "e2e_ns": 110000,
        "compute_ns": 50000,
        "communication_ns": 60000,
        "communication_not_overlapped_ns": 40000,
        "free_ns": 20000,
    }
    assert entry.overlap_analysis.free_ns == 20001 and entry.overlap_analysis.e2e_ns == 110001
    assert entry.difference_vs_overlap_analysis.free_ns == -1
    assert entry.step_trace_time.preparing_ns == 100000
    assert plain(entry.difference_vs_step_trace_time) == {
        "e2e_ns": 0,
        "compute_ns": 0,
        "communication_ns": 0,
        "communication_not_overlapped_ns": 0,
        "free_ns": 0,
    }


def test_time_breakdown_without_reference_layers(tmp_path: Path) -> None:
    (entry,) = _findings(tmp_path, [task("MatMul", "100.000", 40.0)]).time_breakdown
    assert entry.overlap_analysis is None and entry.step_trace_time is None
    assert entry.difference_vs_step_trace_time is None
    assert entry.tracekit.compute_ns == 40000 and entry.tracekit.free_ns == 0


def test_steps_selection_keeps_ascend_columns(tmp_path: Path) -> None:
    events = [
        python_op("ProfilerStep#2", "1000.000", 1000.0),
        task("Where", "1500.000", 10.0, "AI_CPU"),
        task("Where", "500.000", 10.0, "AI_CPU"),
    ]
    root = write_rank(tmp_path, 0, [STEP, *events])
    document = analyze(read_trace(root), Options(steps=(2, 2)))
    assert document.ascend.ai_cpu.count == 1


def test_per_step_findings_keep_each_step_to_its_own_rows(tmp_path: Path) -> None:
    """Steps listed out of order, overlapping copies: each step's numbers come from its rows only."""
    events = [
        python_op("ProfilerStep#2", "1000.000", 1000.0),
        _copy("1100.000", 20.0, 100, 1),  # step 2: two copies, 1100-1120 and 1110-1150: busy 50
        _copy("1110.000", 40.0, 200, 2),
        task("MatMul", "1200.000", 100.0),  # step 2 compute 1200-1300
        _copy("10.000", 5.0, 300, 3),  # step 1: one copy 10-15
        task("Add", "20.000", 30.0),  # step 1 compute 20-50
        collective("hcom_allReduce__1_0_1", "40.000", 20.0),  # step 1 communication 40-60
    ]
    found = _findings(tmp_path, events)
    steps = {s.step: s for s in found.h2d.per_step}
    assert (steps[1].count, steps[1].busy_ns, steps[1].step_span_ns) == (1, 5000, 50000)
    assert (steps[2].count, steps[2].busy_ns, steps[2].step_span_ns) == (2, 50000, 200000)
    assert steps[2].before_first_compute == 2 and steps[2].bytes == 300
    breakdown = {entry.step: entry.tracekit for entry in found.time_breakdown}
    assert plain(breakdown[1]) == {
        "e2e_ns": 40000,
        "compute_ns": 30000,
        "communication_ns": 20000,
        "communication_not_overlapped_ns": 10000,
        "free_ns": 0,
    }
    assert breakdown[2].e2e_ns == 100000 and breakdown[2].free_ns == 0


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(-50, 50), st.integers(-5, 30)), max_size=40))
def test_segment_lengths_match_the_union_of_each_segment(intervals: list[tuple[int, int, int]]) -> None:
    segment = np.array([s for s, _, _ in intervals], dtype=np.int64)
    starts = np.array([a for _, a, _ in intervals], dtype=np.int64)
    ends = starts + np.array([d for _, _, d in intervals], dtype=np.int64)
    expected = [total_length(union(starts[segment == k], ends[segment == k])) for k in range(4)]
    assert segment_lengths(segment, starts, ends, 4).tolist() == expected
