"""Hotspots: operations grouped by name, ranked by total time (docs/metrics.md, "Hotspots")."""

from __future__ import annotations

from collections import Counter

import numpy as np

from tracekit.analysis.columns import Columns
from tracekit.analysis.names import short_kernel_name
from tracekit.model.schema import NONE, Kind


def kernel_hotspots(cols: Columns, kernels: np.ndarray, top: int) -> list[dict[str, object]]:
    """Top kernels by total time, grouped by short name, with the CPU op that launched them."""
    short = [short_kernel_name(n) for n in cols.names]
    labels = np.array(short, dtype=object)[cols.name_code[kernels]] if len(kernels) else np.array([])
    groups = group_durations(labels, cols.dur[kernels], top)
    callers = _launching_ops(cols, kernels)
    for group in groups:
        group["launched_by"] = _most_common(callers[labels == group["name"]])
    return groups


def cpu_op_hotspots(cols: Columns, top: int) -> list[dict[str, object]]:
    """Top host operations by total (inclusive) time, grouped by name."""
    rows = np.flatnonzero(cols.kind == Kind.CPU_OP)
    labels = np.array(cols.names, dtype=object)[cols.name_code[rows]] if len(rows) else np.array([])
    return group_durations(labels, cols.dur[rows], top)


def group_durations(labels: np.ndarray, durations: np.ndarray, top: int) -> list[dict[str, object]]:
    """Per label: count, total, mean, p50, p99 (nearest rank), max and share of all time."""
    if len(labels) == 0:
        return []
    unique, code = np.unique(labels.astype(str), return_inverse=True)
    order = np.lexsort((durations, code))
    sorted_dur, sorted_code = durations[order], code[order]
    first = np.searchsorted(sorted_code, np.arange(len(unique)))
    count = np.bincount(code, minlength=len(unique))
    total = np.bincount(code, weights=durations, minlength=len(unique)).astype(np.int64)
    grand_total = int(durations.sum())
    ranked = np.lexsort((unique, -total))[:top]
    return [
        {
            "name": str(unique[g]),
            "count": int(count[g]),
            "total_ns": int(total[g]),
            "mean_ns": float(total[g] / count[g]),
            "p50_ns": _rank_in_group(sorted_dur, first[g], count[g], 50),
            "p99_ns": _rank_in_group(sorted_dur, first[g], count[g], 99),
            "max_ns": int(sorted_dur[first[g] + count[g] - 1]),
            "share": float(total[g] / grand_total) if grand_total else None,
        }
        for g in ranked
    ]


def _rank_in_group(sorted_dur: np.ndarray, first: int, count: int, percent: int) -> int:
    rank = max(1, int(np.ceil(percent / 100.0 * count)))
    return int(sorted_dur[first + rank - 1])


def _launching_ops(cols: Columns, kernels: np.ndarray) -> np.ndarray:
    """Name of the CPU op that issued each kernel's launch call (via its external id), or ''."""
    ops = np.flatnonzero((cols.kind == Kind.CPU_OP) & (cols.external_id != NONE))
    by_id = dict(zip(cols.external_id[ops].tolist(), cols.name_code[ops].tolist(), strict=True))
    calls = cols.launch[kernels]
    ids = np.where(calls != NONE, cols.external_id[np.maximum(calls, 0)], NONE)
    return np.array([cols.names[by_id[i]] if i in by_id else "" for i in ids.tolist()], dtype=object)


def _most_common(names: np.ndarray) -> str | None:
    counts = Counter(n for n in names.tolist() if n)
    return counts.most_common(1)[0][0] if counts else None
