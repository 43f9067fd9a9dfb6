"""Per-step latency: the host-side step spans (ProfilerStep#N) and their durations."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from tracekit.analysis.stats import distribution
from tracekit.model.steps import step_spans

SERIES_MAX_POINTS = 2000  # the per-step series keeps every k-th step beyond this


def step_summary(table: pa.Table) -> dict[str, object]:
    """Number of steps and the distribution of their durations (ns)."""
    numbers, starts, ends = step_spans(table)
    stats = distribution(ends - starts)
    return {
        "count": len(numbers),
        "first": int(numbers.min()) if len(numbers) else None,
        "last": int(numbers.max()) if len(numbers) else None,
        "duration_ns": {key: stats[key] for key in ("p50", "p90", "p99", "mean", "max")},
        "throughput_per_s": 1e9 / stats["mean"] if stats["mean"] else None,
        "series": _series(numbers, ends - starts),
    }


def _series(numbers: np.ndarray, durations: np.ndarray) -> dict[str, object]:
    """Step numbers and durations in start order; every `stride`-th step when there are many."""
    stride = max(1, -(-len(numbers) // SERIES_MAX_POINTS))
    return {
        "step": numbers[::stride].tolist(),
        "duration_ns": durations[::stride].tolist(),
        "stride": stride,
    }
