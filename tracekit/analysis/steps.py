"""Per-step latency: the host-side step spans (ProfilerStep#N) and their durations."""

from __future__ import annotations

import pyarrow as pa

from tracekit.analysis.stats import distribution
from tracekit.model.steps import step_spans


def step_summary(table: pa.Table) -> dict[str, object]:
    """Number of steps and the distribution of their durations (ns)."""
    numbers, starts, ends = step_spans(table)
    stats = distribution(ends - starts)
    return {
        "count": len(numbers),
        "first": int(numbers.min()) if len(numbers) else None,
        "last": int(numbers.max()) if len(numbers) else None,
        "duration_ns": {key: stats[key] for key in ("p50", "p90", "p99", "mean", "max")},
    }
