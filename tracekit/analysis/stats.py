"""Summary statistics used by every metric: nearest-rank percentiles over int64 samples."""

from __future__ import annotations

import math

import numpy as np


def nearest_rank(sorted_values: np.ndarray, percent: float) -> int:
    """The ceil(p/100 * n)-th smallest value (1-based) of an ascending array; an observed value."""
    rank = max(1, math.ceil(percent / 100.0 * len(sorted_values)))
    return int(sorted_values[rank - 1])


def distribution(
    values: np.ndarray, percents: tuple[int, ...] = (50, 90, 99)
) -> dict[str, float | int | None]:
    """count, p<N>, mean and max of integer samples; None for each statistic when there are none."""
    ordered = np.sort(np.asarray(values, dtype=np.int64))
    summary: dict[str, float | int | None] = {"count": len(ordered)}
    for percent in percents:
        summary[f"p{percent}"] = nearest_rank(ordered, percent) if len(ordered) else None
    summary["mean"] = float(ordered.mean()) if len(ordered) else None
    summary["max"] = int(ordered[-1]) if len(ordered) else None
    return summary


def ratio(numerator: float, denominator: float) -> float | None:
    """numerator / denominator, or None when the denominator is zero."""
    return numerator / denominator if denominator else None
