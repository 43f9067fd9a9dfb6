"""Summary statistics used by every metric: nearest-rank percentiles over int64 samples, and the
nsys-style summary (median as the mean of the two middle values, sample standard deviation)."""

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


def median(sorted_values: np.ndarray) -> float | None:
    """The middle value of an ascending array, or the mean of the two middle values; None when empty."""
    n = len(sorted_values)
    if n == 0:
        return None
    middle = (n - 1) // 2
    if n % 2:
        return float(sorted_values[middle])
    return (float(sorted_values[middle]) + float(sorted_values[middle + 1])) / 2


def summary(values: np.ndarray) -> dict[str, float | int | None]:
    """count, total, mean, min, median, max and sample standard deviation, as `nsys stats` gives them."""
    ordered = np.sort(np.asarray(values, dtype=np.int64))
    if len(ordered) == 0:
        return dict.fromkeys(("count", "total", "mean", "min", "median", "max", "stddev"), None) | {
            "count": 0
        }
    return {
        "count": len(ordered),
        "total": int(ordered.sum()),
        "mean": float(ordered.mean()),
        "min": int(ordered[0]),
        "median": median(ordered),
        "max": int(ordered[-1]),
        "stddev": float(ordered.std(ddof=1)) if len(ordered) > 1 else 0.0,
    }
