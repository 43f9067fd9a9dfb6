"""Hotspots: operations grouped by name, ranked by total time (docs/metrics.md, "Hotspots")."""

from __future__ import annotations

import numpy as np

from tracekit.analysis.columns import Columns
from tracekit.analysis.names import short_kernel_name
from tracekit.analysis.stats import median
from tracekit.model.schema import NONE, Kind


def kernel_hotspots(
    cols: Columns, kernels: np.ndarray, top: int, full_names: bool = False
) -> list[dict[str, object]]:
    """Top kernels by total time, grouped by short (or full) name, with the CPU op that launched them."""
    group_name = str if full_names else short_kernel_name
    labels, label_code = np.unique([group_name(n) for n in cols.names] or [""], return_inverse=True)
    codes = label_code[cols.name_code[kernels]]
    groups = group_durations(codes, labels.tolist(), cols.dur[kernels], top)
    callers = _launching_op_codes(cols, kernels)
    for group, code in zip(groups, _ranked_codes(groups, labels), strict=True):
        group["launched_by"] = _most_common_name(cols, callers[codes == code])
    return groups


def cpu_op_hotspots(cols: Columns, top: int) -> list[dict[str, object]]:
    """Top host operations by total (inclusive) time, grouped by name."""
    rows = np.flatnonzero(cols.kind == Kind.CPU_OP)
    return group_durations(cols.name_code[rows], cols.names, cols.dur[rows], top)


def group_durations(codes: np.ndarray, labels: list[str], durations: np.ndarray, top: int) -> list[dict]:
    """Per label (rows carry its index in `labels`): count, total, mean, min, median, p50 and p99
    (nearest rank), max, sample standard deviation and share of all time; the `top` labels by total,
    ties by name."""
    if len(codes) == 0:
        return []
    count = np.bincount(codes, minlength=len(labels))
    total = np.bincount(codes, weights=durations, minlength=len(labels)).astype(np.int64)
    order = np.lexsort((durations, codes))
    sorted_dur = durations[order]
    first = np.searchsorted(codes[order], np.arange(len(labels)))
    present = np.flatnonzero(count)
    names = np.array(labels, dtype=object)[present].astype(str)
    ranked = present[np.lexsort((names, -total[present]))][:top]
    grand_total = int(durations.sum())
    spread = _sample_stddev(codes, durations, total / np.maximum(count, 1), count)
    return [
        {
            "name": labels[g],
            "count": int(count[g]),
            "total_ns": int(total[g]),
            "mean_ns": float(total[g] / count[g]),
            "min_ns": int(sorted_dur[first[g]]),
            "median_ns": median(sorted_dur[first[g] : first[g] + count[g]]),
            "p50_ns": _rank_in_group(sorted_dur, first[g], count[g], 50),
            "p99_ns": _rank_in_group(sorted_dur, first[g], count[g], 99),
            "max_ns": int(sorted_dur[first[g] + count[g] - 1]),
            "stddev_ns": float(spread[g]),
            "share": float(total[g] / grand_total) if grand_total else None,
        }
        for g in ranked
    ]


def _rank_in_group(sorted_dur: np.ndarray, first: int, count: int, percent: int) -> int:
    rank = max(1, int(np.ceil(percent / 100.0 * count)))
    return int(sorted_dur[first + rank - 1])


def _sample_stddev(
    codes: np.ndarray, durations: np.ndarray, mean: np.ndarray, count: np.ndarray
) -> np.ndarray:
    """Per label, the sample standard deviation (n - 1 in the denominator; 0 for a single value)."""
    squares = np.bincount(codes, weights=(durations - mean[codes]) ** 2, minlength=len(count))
    return np.sqrt(squares / np.maximum(count - 1, 1))


def _ranked_codes(groups: list[dict], labels: np.ndarray) -> list[int]:
    return [int(np.searchsorted(labels, group["name"])) for group in groups]


def _launching_op_codes(cols: Columns, kernels: np.ndarray) -> np.ndarray:
    """Name code of the CPU op that issued each kernel's launch call (via its external id), or NONE."""
    ops = np.flatnonzero((cols.kind == Kind.CPU_OP) & (cols.external_id != NONE))
    ops = ops[np.argsort(cols.external_id[ops], kind="stable")]
    calls = cols.launch[kernels]
    ids = np.where(calls != NONE, cols.external_id[np.maximum(calls, 0)], NONE)
    if len(ops) == 0:
        return np.full(len(kernels), NONE, dtype=np.int64)
    slot = np.minimum(np.searchsorted(cols.external_id[ops], ids), len(ops) - 1)
    found = (cols.external_id[ops[slot]] == ids) & (ids != NONE)
    return np.where(found, cols.name_code[ops[slot]], NONE)


def _most_common_name(cols: Columns, codes: np.ndarray) -> str | None:
    known = codes[codes != NONE]
    return cols.names[int(np.bincount(known).argmax())] if len(known) else None
