"""The document's trace, options, steps, host and timeline blocks."""

from __future__ import annotations

from typing import Any

import msgspec

from tracekit.analysis.document.base import Block
from tracekit.analysis.document.stats import Hotspot


class Workload(Block, kw_only=True):
    kind: str
    evidence: list[str]


class CaptureSpan(Block, kw_only=True):
    start_ns: int | None
    end_ns: int | None
    duration_ns: int | None


class TraceInfo(Block, kw_only=True):
    source: str
    format: str
    events: int
    workload: Workload | None = None
    capture_span: CaptureSpan
    metadata: dict[str, Any]  # the reader's metadata (docs/model.md), free-form per format
    marker_names: list[str] = msgspec.field(default_factory=list)


class OptionsInfo(Block, kw_only=True):
    top: int
    bubble_threshold_ns: int
    gap_threshold_ns: int
    steps: list[int] | None
    step_marker: str | None = None
    kernel_names: str
    device: str | None = None
    unprofiled_step_ns: int | None = None


class StepDurations(Block, kw_only=True):
    p50: int | None
    p90: int | None
    p99: int | None
    mean: float | None
    max: int | None


class StepSeries(Block, kw_only=True):
    step: list[int]
    duration_ns: list[int]
    stride: int


class Steps(Block, kw_only=True):
    count: int
    first: int | None
    last: int | None
    duration_ns: StepDurations
    throughput_per_s: float | None
    series: StepSeries | None = None


class HostCall(Block, kw_only=True):
    start_ns: int
    dur_ns: int
    name: str
    bytes: int | None
    call: str | None


class CallGroup(Block, kw_only=True):
    """Host calls or device operations of one kind: count, Σ durations, Σ known bytes, the longest."""

    count: int
    total_ns: int
    bytes: int
    largest: list[HostCall]


class Host(Block, kw_only=True):
    cpu_op_hotspots: list[Hotspot]
    sync_calls: CallGroup | None


class Lane(Block, kw_only=True):
    id: int
    label: str
    kind: str


class TimelineEvents(Block, kw_only=True):
    lane: list[int]
    start_ns: list[int]
    dur_ns: list[int]
    kind: list[str]
    name: list[str]


class Timeline(Block, kw_only=True):
    step: int | None
    selection: str
    start_ns: int
    end_ns: int
    lanes: list[Lane]
    events: TimelineEvents
    total_events: int
    shown_events: int
