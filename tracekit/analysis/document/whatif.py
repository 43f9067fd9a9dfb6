"""A device's what-if block: each replayed change, the plan, the step attribution and its causes."""

from __future__ import annotations

import msgspec

from tracekit.analysis.document.base import Block


class ReplayEstimate(Block, kw_only=True):
    """A change replayed over the steps: medians of the baseline and predicted step (absent when
    the change is not applicable), speedup, removable share and its Amdahl bound."""

    applicable: bool
    steps: int
    baseline_step_ns: int | None = None
    predicted_step_ns: int | None = None
    speedup: float | None = None
    removable_share: float | None = None
    amdahl_bound: float | None = None


class BatchEstimate(ReplayEstimate, kw_only=True):
    """bigger-batch: the batch `factor` times larger, its latency and throughput."""

    factor: int
    device_busy_ns: int | None = None
    capacity_floor_ns: int | None = None
    throughput_gain: float | None = None


class CopyCost(Block, kw_only=True):
    fixed_ns: float
    ns_per_byte: float
    fitted_on: str


class Instances(Block, kw_only=True):
    applicable: bool
    steps: int
    compute_share: float | None = None
    copy_share: float | None = None
    host_share: float | None = None
    throughput_bound: float | None = None
    suggested_instances: int | None = None


class Pipeline(Block, kw_only=True):
    applicable: bool
    steps: int
    baseline_step_ns: int | None = None
    host_stage_ns: int | None = None
    device_stage_ns: int | None = None
    rest_ns: int | None = None
    predicted_step_ns: int | None = None
    speedup: float | None = None
    workers: int | None = None
    workers_step_ns: int | None = None
    workers_speedup: float | None = None
    removable_share: float | None = None
    amdahl_bound: float | None = None


class KernelProfile(Block, kw_only=True):
    count: int
    median_ns: float | None
    short_share: float | None
    streams: int
    compute_streams: int
    instances: int
    sum_ns: int
    union_ns: int


class Calibration(Block, kw_only=True):
    unprofiled_step_ns: int
    profiled_step_ns: int
    host_bound: bool
    host_scale: float
    calibrated_step_ns: int


class StepTimes(Block, kw_only=True):
    """The step time attributed to categories (ns); they sum to the step."""

    compute: int
    communication: int
    copy_h2d_pageable: int
    copy_h2d_pinned: int
    copy_h2d: int
    copy_d2h: int
    copy_d2d: int
    copy_other: int
    launch_overhead: int
    sync: int
    host_cpu: int
    other: int


class StepAttribution(StepTimes, kw_only=True):
    step: int


class Attribution(Block, kw_only=True):
    categories: list[str]
    median_step: StepTimes | None
    steps: list[StepAttribution]


class PlanStep(Block, kw_only=True):
    change: str
    speedup: float
    predicted_step_ns: int
    cumulative: float
    enables: str | None = None


class Plan(Block, kw_only=True):
    applicable: bool
    steps_used: int | None = None
    baseline_step_ns: int | None = None
    steps: list[PlanStep]


class Whatif(Block, kw_only=True):
    """The replayed changes are the rules' (tracekit.rules.CHANGES, one field each; absent when the
    analysis was given none), then the blocks every analysis has."""

    batch_h2d: ReplayEstimate | None = None
    pin_memory: ReplayEstimate | None = None
    overlap_copies: ReplayEstimate | None = None
    graph_launch: ReplayEstimate | None = None
    remove_host_syncs: ReplayEstimate | None = None
    static_shapes: ReplayEstimate | None = None
    mixed_precision: ReplayEstimate | None = None
    fuse_elementwise: ReplayEstimate | None = None
    bigger_batch: BatchEstimate | None = None
    copy_cost: CopyCost
    more_instances: Instances
    pipeline: Pipeline
    kernels: KernelProfile
    steps_replayed: int
    calibration: Calibration | None = None
    attribution: Attribution | None = None
    plan: Plan
    causes: list[list[str]] = msgspec.field(default_factory=list)

    def change(self, name: str) -> ReplayEstimate | None:
        """The estimate of the change called `name` (None: not replayed in this analysis)."""
        return getattr(self, name) if name in REPLAYED_CHANGES else None


REPLAYED_CHANGES = (
    "batch_h2d",
    "pin_memory",
    "overlap_copies",
    "graph_launch",
    "remove_host_syncs",
    "static_shapes",
    "mixed_precision",
    "fuse_elementwise",
    "bigger_batch",
)
"""The Whatif fields that hold replayed changes (a test keeps them equal to the rules' CHANGES)."""
