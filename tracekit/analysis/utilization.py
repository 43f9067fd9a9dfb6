"""Window, busy time and utilization of one device (docs/metrics.md, "Utilization")."""

from __future__ import annotations

import numpy as np

from tracekit.analysis.columns import Columns
from tracekit.analysis.stats import ratio
from tracekit.model.intervals import Intervals, total_length, union


def window(cols: Columns, ops: np.ndarray) -> tuple[int, int]:
    """[first start, last end] of the device's operations: the analysis window W."""
    return int(cols.start[ops].min()), int(cols.end[ops].max())


def busy_set(cols: Columns, rows: np.ndarray) -> Intervals:
    """Union over streams of the rows' intervals."""
    return union(cols.start[rows], cols.end[rows])


def utilization(cols: Columns, ops: np.ndarray) -> dict[str, object]:
    """Busy (union) and sum-based utilization, and kernel-only utilization, over W."""
    lo, hi = window(cols, ops)
    span = hi - lo
    busy_ns = total_length(busy_set(cols, ops))
    kernel_busy_ns = total_length(busy_set(cols, cols.kernels(ops)))
    return {
        "window": {"start_ns": lo, "end_ns": hi},
        "window_ns": span,
        "busy_ns": busy_ns,
        "utilization": ratio(busy_ns, span),
        "utilization_sum": ratio(int(cols.dur[ops].sum()), span),
        "kernel_busy_ns": kernel_busy_ns,
        "kernel_utilization": ratio(kernel_busy_ns, span),
    }
