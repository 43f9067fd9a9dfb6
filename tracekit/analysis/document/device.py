"""A device's block: window, utilization, bubbles, gaps, copies, memsets, hotspots, launch, memory."""

from __future__ import annotations

from tracekit.analysis.document.base import Block
from tracekit.analysis.document.communication import Communication
from tracekit.analysis.document.operators import Hardware, Operator, OperatorsSummary
from tracekit.analysis.document.stats import Distribution, Interval, KernelHotspot, Span
from tracekit.analysis.document.trace import CallGroup
from tracekit.analysis.document.whatif import Whatif


class HistogramBin(Block, kw_only=True):
    bin: str
    lo_ns: int
    hi_ns: int | None
    count: int
    total_ns: int


class CauseTotal(Block, kw_only=True):
    count: int
    total_ns: int


class ByCause(Block, kw_only=True):
    sync_wait: CauseTotal
    host_wait: CauseTotal
    other: CauseTotal


class Bubble(Block, kw_only=True):
    start_ns: int
    dur_ns: int
    cause: str


class Bubbles(Block, kw_only=True):
    threshold_ns: int
    count: int
    total_ns: int
    p50_ns: int | None
    p90_ns: int | None
    max_ns: int | None
    histogram: list[HistogramBin]
    by_cause: ByCause
    largest: list[Bubble]


class LongGaps(Block, kw_only=True):
    threshold_ns: int
    count: int
    total_ns: int
    gaps: list[Interval]


class CopySummary(Block, kw_only=True):
    """One copy direction (h2d, d2h, d2d) of a device."""

    count: int
    per_step: float | None
    total_ns: int
    bytes: int
    bytes_unknown_count: int
    busy_ns: int
    share_of_busy: float | None
    exposed_ns: int
    exposed_share: float | None
    pageable_count: int
    pageable_bytes: int
    pinned_count: int
    pinned_bytes: int
    bandwidth_gbps: float | None
    durations: Distribution
    sizes: Distribution


class Memset(Block, kw_only=True):
    count: int
    bytes: int
    total_ns: int
    busy_ns: int
    durations: Distribution
    sizes: Distribution


class Blocking(Block, kw_only=True):
    pageable_async_copies: CallGroup
    sync_copies: CallGroup
    sync_memsets: CallGroup


class Launch(Block, kw_only=True):
    kernels_with_launch: int
    delay_p50_ns: int | None
    delay_p90_ns: int | None
    delay_mean_ns: float | None
    delay_max_ns: int | None
    call_p50_ns: int | None
    short_kernel_count: int
    short_kernel_share: float | None


class StepMemory(Block, kw_only=True):
    step: int
    allocated_bytes: int | None  # None: no sample yet at the step's end


class MemorySeries(Block, kw_only=True):
    time_ns: list[int]
    allocated_bytes: list[int]


class Memory(Block, kw_only=True):
    samples: int
    peak_bytes: int
    peak_ns: int
    start_bytes: int
    end_bytes: int
    growth_per_step_bytes: float | None
    growing_steps_share: float | None
    per_step: list[StepMemory]
    series: MemorySeries


class Device(Block, kw_only=True):
    """Every metric of one device; the blocks after `memset` are absent under measures_only."""

    id: int
    operations: int
    window: Span
    window_ns: int
    busy_ns: int
    utilization: float | None
    utilization_sum: float | None
    kernel_busy_ns: int
    kernel_utilization: float | None
    bubbles: Bubbles
    long_gaps: LongGaps
    h2d: CopySummary
    d2h: CopySummary
    d2d: CopySummary
    memset: Memset
    hotspots: list[KernelHotspot]
    communication: Communication | None = None
    blocking: Blocking | None = None
    launch: Launch | None = None
    operators: list[Operator] | None = None
    operators_summary: OperatorsSummary | None = None
    hardware: Hardware | None = None
    memory: Memory | None = None
    whatif: Whatif | None = None

    def copies(self, direction: str) -> CopySummary:
        """The copy summary of `direction` (h2d, d2h or d2d)."""
        return {"h2d": self.h2d, "d2h": self.d2h, "d2d": self.d2d}[direction]
