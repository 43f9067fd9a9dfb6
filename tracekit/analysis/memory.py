"""Device memory over time: level, peak and growth per step, from the MEMORY samples of a device.

A MEMORY row is one allocation or free (PyTorch profiler `[memory]` events, `profile_memory=True`);
its `bytes` is the device's total allocated after it (docs/model.md). A leak shows as allocated
memory at the end of each step rising step after step: a positive `growth_per_step_bytes` and a
`growing_steps_share` near 1.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from tracekit.analysis.columns import Columns
from tracekit.model.arrays import arrow
from tracekit.model.schema import Kind
from tracekit.model.steps import step_spans

PER_STEP_MAX = 2000  # per-step entries beyond this are subsampled evenly (first and last kept)
SERIES_MAX_POINTS = 1000  # chart points: the largest sample of each of this many equal time buckets


def memory_summary(cols: Columns, device: int) -> dict[str, object] | None:
    """Allocated bytes on `device`: samples, peak, first and last level, the level at the end of each
    step, its least-squares growth per step, and a downsampled time series. None without samples."""
    rows = np.flatnonzero((cols.kind == Kind.MEMORY) & (cols.device == device))
    if len(rows) == 0:
        return None
    rows = rows[np.argsort(cols.start[rows], kind="stable")]
    time, allocated = cols.start[rows], cols.bytes[rows]
    peak = int(np.argmax(allocated))
    numbers, _, ends = _step_spans(cols)
    steps, at_end = _end_of_step(time, allocated, numbers, ends)
    known = at_end >= 0
    return {
        "samples": len(rows),
        "peak_bytes": int(allocated[peak]),
        "peak_ns": int(time[peak]),
        "start_bytes": int(allocated[0]),
        "end_bytes": int(allocated[-1]),
        "growth_per_step_bytes": _slope(steps[known], at_end[known]),
        "growing_steps_share": _growing_share(at_end[known]),
        "per_step": _per_step(steps, at_end),
        "series": _series(time, allocated),
    }


def _step_spans(cols: Columns) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(numbers, starts, ends) of the step spans, as tracekit.model.steps chooses them."""
    columns = {
        "kind": cols.kind,
        "step": cols.step,
        "device": cols.device,
        "start_ns": cols.start,
        "dur_ns": cols.dur,
    }
    view = pa.table({name: arrow(values) for name, values in columns.items()})
    return step_spans(view)


def _end_of_step(
    time: np.ndarray, allocated: np.ndarray, numbers: np.ndarray, ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Step numbers in step order and the allocated bytes at each step's end: the last sample at or
    before the end of the step span; -1 when no sample comes that early."""
    order = np.argsort(numbers, kind="stable")
    numbers, ends = numbers[order], ends[order]
    last = np.searchsorted(time, ends, side="right") - 1
    return numbers, np.where(last >= 0, allocated[np.maximum(last, 0)], -1)


def _slope(x: np.ndarray, y: np.ndarray) -> float | None:
    """Least-squares slope of y over x; None with fewer than two distinct x."""
    if len(x) < 2:
        return None
    dx = x - x.mean()
    spread = float((dx * dx).sum())
    return float((dx * (y - y.mean())).sum()) / spread if spread else None


def _growing_share(levels: np.ndarray) -> float | None:
    """Share of consecutive pairs whose second level is higher; None with fewer than two levels."""
    if len(levels) < 2:
        return None
    return float((np.diff(levels) > 0).mean())


def _per_step(steps: np.ndarray, at_end: np.ndarray) -> list[dict[str, int | None]]:
    """{step, allocated_bytes} per step (null when unknown), at most PER_STEP_MAX evenly spaced."""
    keep = np.unique(np.linspace(0, len(steps) - 1, min(len(steps), PER_STEP_MAX)).round().astype(np.int64))
    return [
        {"step": int(steps[i]), "allocated_bytes": int(at_end[i]) if at_end[i] >= 0 else None} for i in keep
    ]


def _series(time: np.ndarray, allocated: np.ndarray) -> dict[str, list[int]]:
    """(time_ns, allocated_bytes) for a chart: every sample, or beyond SERIES_MAX_POINTS the largest
    sample (the earliest of equals) of each of SERIES_MAX_POINTS equal time buckets, so peaks stay."""
    chosen = np.arange(len(time))
    if len(time) > SERIES_MAX_POINTS:
        span = int(time[-1] - time[0]) + 1
        bucket = (time - time[0]) * SERIES_MAX_POINTS // span
        order = np.lexsort((-allocated, bucket))  # by bucket, largest first; stable, so earliest of ties
        chosen = order[np.r_[True, np.diff(bucket[order]) != 0]]
    return {"time_ns": time[chosen].tolist(), "allocated_bytes": allocated[chosen].tolist()}
