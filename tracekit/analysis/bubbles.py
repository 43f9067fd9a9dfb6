"""Bubbles: maximal idle intervals of a device inside its window, their sizes and causes."""

from __future__ import annotations

import numpy as np

from tracekit.analysis.columns import Columns
from tracekit.analysis.stats import distribution
from tracekit.model.intervals import Intervals, gaps, union
from tracekit.model.schema import NONE, Kind

HISTOGRAM_EDGES_NS = (1_000, 10_000, 100_000, 1_000_000, 10_000_000)
HISTOGRAM_LABELS = ("<1 us", "1-10 us", "10-100 us", "100 us-1 ms", "1-10 ms", ">10 ms")
CAUSES = ("sync_wait", "host_wait", "other")


def find_bubbles(cols: Columns, ops: np.ndarray, lo: int, hi: int, threshold_ns: int) -> Intervals:
    """Idle intervals inside [lo, hi) no shorter than the threshold."""
    idle = gaps(union(cols.start[ops], cols.end[ops]), lo, hi)
    keep = (idle.ends - idle.starts) >= max(threshold_ns, 1)
    return Intervals(idle.starts[keep], idle.ends[keep])


def bubble_causes(cols: Columns, ops: np.ndarray, bubbles: Intervals, device: int) -> np.ndarray:
    """Index into CAUSES for each bubble: sync-wait, else host-wait, else other."""
    cause = np.full(len(bubbles), CAUSES.index("other"), dtype=np.int64)
    cause[_launched_late(cols, ops, bubbles)] = CAUSES.index("host_wait")
    cause[_overlaps_sync(cols, bubbles, device)] = CAUSES.index("sync_wait")
    return cause


def bubble_summary(cols: Columns, ops: np.ndarray, lo: int, hi: int, threshold_ns: int, device: int) -> dict:
    """Count, total, percentiles, decade histogram and causes of the device's bubbles."""
    bubbles = find_bubbles(cols, ops, lo, hi, threshold_ns)
    lengths = bubbles.ends - bubbles.starts
    causes = bubble_causes(cols, ops, bubbles, device)
    stats = distribution(lengths, (50, 90))
    return {
        "threshold_ns": threshold_ns,
        "count": len(bubbles),
        "total_ns": int(lengths.sum()),
        "p50_ns": stats["p50"],
        "p90_ns": stats["p90"],
        "max_ns": stats["max"],
        "histogram": _histogram(lengths),
        "by_cause": {
            name: {"count": int((causes == i).sum()), "total_ns": int(lengths[causes == i].sum())}
            for i, name in enumerate(CAUSES)
        },
        "largest": _largest(bubbles, lengths, causes),
    }


def _launched_late(cols: Columns, ops: np.ndarray, bubbles: Intervals) -> np.ndarray:
    """The next operation's launch call started after the bubble began."""
    rows = ops[np.argsort(cols.start[ops], kind="stable")]
    slot = np.minimum(np.searchsorted(cols.start[rows], bubbles.ends), max(len(rows) - 1, 0))
    call = cols.launch[rows[slot]] if len(rows) else np.empty(0, dtype=np.int64)
    return (call != NONE) & (cols.start[np.maximum(call, 0)] > bubbles.starts)


def _overlaps_sync(cols: Columns, bubbles: Intervals, device: int) -> np.ndarray:
    """A synchronization (host call, or device-side sync on this device) overlaps the bubble."""
    syncs = np.flatnonzero((cols.kind == Kind.SYNC) & np.isin(cols.device, [NONE, device]))
    merged = union(cols.start[syncs], cols.end[syncs])
    slot = np.searchsorted(merged.ends, bubbles.starts, side="right")
    found = slot < len(merged)
    overlap = np.zeros(len(bubbles), dtype=bool)
    overlap[found] = merged.starts[slot[found]] < bubbles.ends[found]
    return overlap


def _histogram(lengths: np.ndarray) -> list[dict[str, object]]:
    bins = np.searchsorted(np.array(HISTOGRAM_EDGES_NS), lengths, side="right")
    edges = (0, *HISTOGRAM_EDGES_NS, None)
    return [
        {
            "bin": label,
            "lo_ns": edges[i],
            "hi_ns": edges[i + 1],
            "count": int((bins == i).sum()),
            "total_ns": int(lengths[bins == i].sum()),
        }
        for i, label in enumerate(HISTOGRAM_LABELS)
    ]


def _largest(bubbles: Intervals, lengths: np.ndarray, causes: np.ndarray, n: int = 5) -> list[dict]:
    order = np.argsort(-lengths, kind="stable")[:n]
    return [
        {"start_ns": int(bubbles.starts[i]), "dur_ns": int(lengths[i]), "cause": CAUSES[causes[i]]}
        for i in order
    ]
