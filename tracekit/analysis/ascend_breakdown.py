"""Per-step Ascend findings over grouped rows: the compute / communication / free breakdown, and the
grouping helpers the per-step findings share (one sort of the rows, one sweep for all per-step
unions: cost grows with the rows, not with steps x rows)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from tracekit.model.schema import NONE, Kind

if TYPE_CHECKING:
    from tracekit.analysis.ascend import _View

OVERLAP_LAYER = "Overlap Analysis"
OVERLAP_KEYS = {
    "Computing": "compute_ns",
    "Communication": "communication_ns",
    "Communication(Not Overlapped)": "communication_not_overlapped_ns",
    "Free": "free_ns",
}


def group_rows(keys: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """The distinct keys of `rows` (sorted) and, for each, its rows in table order: one sort, no
    per-key mask over the table."""
    order = rows[np.argsort(keys[rows], kind="stable")]
    distinct, first = np.unique(keys[order], return_index=True)
    return distinct, np.split(order, first[1:]) if len(order) else []


def step_bounds(view: _View, rows: np.ndarray, steps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per step of `steps` (sorted): the first start and the last end of `rows` in that step
    (int64 max and 0 where it has none), from one sort of `rows`."""
    order = rows[np.argsort(view.step[rows], kind="stable")]
    found, first = np.unique(view.step[order], return_index=True)
    starts = np.full(len(steps), np.iinfo(np.int64).max, dtype=np.int64)
    ends = np.zeros(len(steps), dtype=np.int64)
    if len(order):
        slot = np.minimum(np.searchsorted(found, steps), len(found) - 1)
        present = found[slot] == steps
        starts[present] = np.minimum.reduceat(view.start[order], first)[slot[present]]
        ends[present] = np.maximum.reduceat(view.end[order], first)[slot[present]]
    return starts, ends


def time_breakdown(view: _View, step_trace_time: list[dict]) -> list[dict[str, object]]:
    """Per device and step: our breakdown, the Overlap Analysis layer's, step_trace_time's, differences."""
    tasks = np.flatnonzero(np.isin(view.kind, [Kind.KERNEL, Kind.COMMUNICATION]) & (view.device != NONE))
    overlap = np.flatnonzero((view.kind == Kind.MARKER) & (view.text["layer"] == OVERLAP_LAYER))
    devices, steps, ours = _breakdowns(view, tasks)
    layer_devices = set(view.device[overlap].tolist())
    layer_rows = _rows_by_device_step(view, overlap)
    csv_rows = _step_trace_index(step_trace_time)
    result = []
    for device, step, mine in zip(devices.tolist(), steps.tolist(), ours, strict=True):
        rows = layer_rows.get((device, step), overlap[:0])
        from_layer = _overlap_sums(view, rows) if device in layer_devices else None
        from_csv = _step_trace(csv_rows.get(str(step), []), device)
        result.append(
            {
                "device": device,
                "step": None if step == NONE else step,
                "tracekit": mine,
                "overlap_analysis": from_layer,
                "step_trace_time": from_csv,
                "difference_vs_overlap_analysis": _difference(mine, from_layer),
                "difference_vs_step_trace_time": _difference(mine, from_csv),
            }
        )
    return result


def _breakdowns(view: _View, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[dict[str, int]]]:
    """Per (device, step) of `rows` (in that order): compute, communication and free time, all
    segments at once (one sort; no per-step pass over the table)."""
    order = rows[np.lexsort((view.step[rows], view.device[rows]))]
    device, step = view.device[order], view.step[order]
    new = np.r_[True, (device[1:] != device[:-1]) | (step[1:] != step[:-1])][: len(order)]
    heads, segment = np.flatnonzero(new), np.cumsum(new) - 1
    start, end, kind, n = view.start[order], view.end[order], view.kind[order], len(heads)
    if not n:
        return device[:0], step[:0], []
    e2e = np.maximum.reduceat(end, heads) - np.minimum.reduceat(start, heads)
    covered = segment_lengths(segment, start, end, n)
    compute = segment_lengths(*_of_kind(kind == Kind.KERNEL, segment, start, end), n)
    comm = segment_lengths(*_of_kind(kind == Kind.COMMUNICATION, segment, start, end), n)
    columns = {
        "e2e_ns": e2e, "compute_ns": compute, "communication_ns": comm,
        "communication_not_overlapped_ns": covered - compute,  # |comm - compute| = |both| - |compute|
        "free_ns": e2e - covered,
    }  # fmt: skip
    lists = {key: values.tolist() for key, values in columns.items()}
    return (
        device[heads],
        step[heads],
        [dict(zip(lists, values, strict=True)) for values in zip(*lists.values(), strict=True)],
    )


def _of_kind(mask: np.ndarray, *columns: np.ndarray) -> tuple[np.ndarray, ...]:
    return tuple(column[mask] for column in columns)


def segment_lengths(segment: np.ndarray, starts: np.ndarray, ends: np.ndarray, count: int) -> np.ndarray:
    """|union| of the intervals [starts, ends) of each segment 0..count-1, all segments in one sweep:
    +1 at each start, -1 at each end, sorted by (segment, time); a segment's depth returns to 0 at
    its last point, so the running depth never carries from one segment to the next."""
    keep = ends > starts
    points = np.concatenate([starts[keep], ends[keep]])
    owner = np.concatenate([segment[keep], segment[keep]])
    delta = np.concatenate([np.ones(keep.sum(), dtype=np.int64), -np.ones(keep.sum(), dtype=np.int64)])
    order = np.lexsort((points, owner))
    points, owner, depth = points[order], owner[order], np.cumsum(delta[order])
    covered = np.where(depth[:-1] > 0, np.diff(points), 0)
    lengths = np.zeros(count, dtype=np.int64)
    np.add.at(lengths, owner[:-1], covered)
    return lengths


def _rows_by_device_step(view: _View, rows: np.ndarray) -> dict[tuple[int, int], np.ndarray]:
    """`rows` by (device, step), table order kept within each."""
    grouped: dict[tuple[int, int], np.ndarray] = {}
    for device, mine in zip(*group_rows(view.device, rows), strict=True):
        for step, in_step in zip(*group_rows(view.step, mine), strict=True):
            grouped[(int(device), int(step))] = in_step
    return grouped


def _overlap_sums(view: _View, rows: np.ndarray) -> dict[str, int]:
    sums = {key: int(view.dur[rows[view.name[rows] == name]].sum()) for name, key in OVERLAP_KEYS.items()}
    sums["e2e_ns"] = sums["compute_ns"] + sums["communication_not_overlapped_ns"] + sums["free_ns"]
    return sums


def _step_trace_index(rows: list[dict]) -> dict[str, list[dict]]:
    """step_trace_time rows by their step, as text (file order kept)."""
    index: dict[str, list[dict]] = {}
    for row in rows:
        index.setdefault(str(row.get("step")), []).append(row)
    return index


def _step_trace(rows: list[dict], device: int) -> dict[str, int | None] | None:
    """The first of one step's step_trace_time rows that is for `device` (or for any device)."""
    for row in rows:
        if row.get("device", device) not in (device, NONE):
            continue
        stage, bubble = row.get("stage_ns"), row.get("bubble_ns") or 0
        return {
            "e2e_ns": stage + bubble if stage is not None else None,
            "compute_ns": row.get("computing_ns"),
            "communication_ns": row.get("communication_ns"),
            "communication_not_overlapped_ns": row.get("communication_not_overlapped_ns"),
            "free_ns": row.get("free_ns"),
            "bubble_ns": row.get("bubble_ns"),
            "preparing_ns": row.get("preparing_ns"),
        }
    return None


def _difference(ours: dict, other: dict | None) -> dict[str, int | None] | None:
    if other is None:
        return None
    return {
        key: (ours[key] - other[key]) if other.get(key) is not None else None
        for key in ("e2e_ns", "compute_ns", "communication_ns", "communication_not_overlapped_ns", "free_ns")
    }
