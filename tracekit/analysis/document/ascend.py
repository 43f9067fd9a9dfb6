"""The Ascend-only findings (tracekit/analysis/ascend.py), on Ascend traces only."""

from __future__ import annotations

from typing import Any

import msgspec

from tracekit.analysis.document.base import Block


class KernelDetails(Block, kw_only=True):
    rows: int
    matched: int


class Source(Block, kw_only=True):
    producer: str | None
    rank: int | None
    events_from: str | None
    profiler_level: str | None
    kernel_details: KernelDetails | None
    core_counts: dict[str, Any] | None  # the reader's counts (ints) and the info.json they came from (str)


class SizedCopy(Block, kw_only=True):
    start_ns: int
    dur_ns: int
    bytes: int | None


class StepCopies(Block, kw_only=True):
    step: int | None
    count: int
    before_first_compute: int
    total_ns: int
    busy_ns: int
    step_span_ns: int
    share: float | None
    bytes: int
    bytes_unknown_count: int
    bytes_min: int | None
    bytes_p50: int | None
    bytes_max: int | None


class H2dFinding(Block, kw_only=True):
    evaluated: bool
    detected: bool
    count: int
    total_ns: int
    busy_ns: int
    bytes: int
    bytes_unknown_count: int
    bytes_min: int | None
    bytes_p50: int | None
    bytes_max: int | None
    max_per_step: int
    launched_by: dict[str, int]
    largest: list[SizedCopy]
    per_step: list[StepCopies]


class OpTypeGroup(Block, kw_only=True):
    op_type: str
    count: int
    total_ns: int
    max_ns: int
    core_types: list[str]
    input_dtypes: list[str]
    input_shapes: list[str]


class AiCpuFinding(Block, kw_only=True):
    evaluated: bool
    detected: bool | None
    count: int
    total_ns: int
    share_of_compute: float | None
    by_op_type: list[OpTypeGroup]
    op_statistic: list[dict[str, Any]]  # op_statistic.csv's AI_CPU rows, as the reader gives them


class Wait(Block, kw_only=True):
    name: str
    op_type: str
    start_ns: int
    task_wait_ns: int | None
    idle_before_ns: int


class DynamicShapeFinding(Block, kw_only=True):
    evaluated: bool
    detected: bool | None
    count: int
    static_count: int
    all_dynamic: bool
    total_ns: int
    task_wait_ns: int | None
    idle_before_ns: int
    steps: int
    task_wait_per_step_ns: float | None
    idle_before_per_step_ns: float | None
    launch_delay_p50_ns: int | None
    largest_waits: list[Wait]
    host_compile_apis: list[dict[str, Any]]  # api_statistic.csv's compile rows, as the reader gives them


class Int64Finding(Block, kw_only=True):
    evaluated: bool
    detected: bool | None
    count: int
    total_ns: int
    by_op_type: list[OpTypeGroup]


class BlockDims(Block, kw_only=True):
    operators: int
    max: int | None
    most_common: int | None


class ObservedBlockDims(Block, kw_only=True):
    cube: BlockDims
    vector: BlockDims


class GlobalLimit(Block, kw_only=True):
    max_block_dim: int | None
    share_at_max: float | None
    likely_limit: int | None


class GlobalLimits(Block, kw_only=True):
    cube: GlobalLimit
    vector: GlobalLimit


class NarrowOperator(Block, kw_only=True):
    name: str
    op_type: str
    core_type: str
    block_dim: int
    core_count: int
    dur_ns: int


class BlockDimFinding(Block, kw_only=True):
    """Evaluated only with the core counts (absent: only `observed`)."""

    evaluated: bool
    detected: bool | None
    core_counts: dict[str, int] | None
    observed: ObservedBlockDims
    count: int | None = None
    below_core_count: int | None = None
    not_a_multiple: int | None = None
    total_ns: int | None = None
    share_of_compute: float | None = None
    global_limit: GlobalLimits | None = None
    explained_by_global_limit: int | None = None
    largest: list[NarrowOperator] = msgspec.field(default_factory=list)


class Breakdown(Block, kw_only=True):
    """tracekit's own (every field known) or msprof's (a CSV cell may be empty: null)."""

    e2e_ns: int | None
    compute_ns: int | None
    communication_ns: int | None
    communication_not_overlapped_ns: int | None
    free_ns: int | None


class StepTraceTime(Breakdown, kw_only=True):
    bubble_ns: int | None
    preparing_ns: int | None


class StepBreakdown(Block, kw_only=True):
    device: int
    step: int | None
    tracekit: Breakdown
    overlap_analysis: Breakdown | None
    step_trace_time: StepTraceTime | None
    difference_vs_overlap_analysis: Breakdown | None
    difference_vs_step_trace_time: Breakdown | None


class AscendFindings(Block, kw_only=True):
    source: Source
    h2d: H2dFinding
    ai_cpu: AiCpuFinding
    dynamic_shape: DynamicShapeFinding
    int64: Int64Finding
    block_dim: BlockDimFinding
    time_breakdown: list[StepBreakdown]
    definitions: dict[str, str]
