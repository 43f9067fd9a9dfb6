"""What the user asks of an analysis (`analyze`'s options), apart from the analyses: the command line
builds them before it imports any analysis."""

from __future__ import annotations

from dataclasses import dataclass

NSYS_GAP_THRESHOLD_NS = 500_000_000  # nsys analyze gpu_gaps' default: 500 ms


@dataclass(frozen=True)
class Options:
    """What the user asked for: hotspot count and grouping, bubble and gap thresholds, and which
    steps: a range of them, or an annotation (NVTX range) whose instances become the steps."""

    top: int = 10
    bubble_threshold_ns: int = 0
    gap_threshold_ns: int = NSYS_GAP_THRESHOLD_NS
    steps: tuple[int, int] | None = None
    step_marker: str | None = None
    full_kernel_names: bool = False
    measures_only: bool = False  # only what comparisons read: no what-if, operators, blocking, timeline...
    device: str | None = None  # hardware-table row for the operators' roofline (--device); None: the trace's
    unprofiled_step_ns: int | None = None  # step time measured without the profiler (--unprofiled-step)
