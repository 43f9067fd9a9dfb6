"""The timeline of one representative step: every event in it, by lane (host thread or device
stream), downsampled so a report stays small whatever the trace size."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from tracekit.model.arrays import arrow, numeric
from tracekit.model.schema import DEVICE_KINDS, NONE, Kind
from tracekit.model.steps import step_spans

MAX_EVENTS = 3000  # events kept for the chart
RESOLUTION_PARTS = 2000  # events shorter than window / this merge with their neighbours
NAME_CHARS = 120
NO_STEP_WINDOW_NS = 5_000_000
SHOWN_KINDS = (*DEVICE_KINDS, Kind.CPU_OP, Kind.RUNTIME, Kind.SYNC, Kind.MARKER)


def representative_step(table: pa.Table) -> tuple[int | None, int, int, str]:
    """(step, start, end, why): the step of median duration, else the start of the device window."""
    numbers, starts, ends = step_spans(table)
    if len(numbers):
        order = np.argsort(ends - starts, kind="stable")
        pick = order[(len(order) - 1) // 2]
        return int(numbers[pick]), int(starts[pick]), int(ends[pick]), "median-duration step"
    kind = numeric(table.column("kind"))
    start = numeric(table.column("start_ns"))
    on_device = np.isin(kind, DEVICE_KINDS)
    if not len(start):
        return None, 0, 0, "empty trace"
    lo = int(start[on_device].min()) if on_device.any() else int(start.min())
    return None, lo, lo + NO_STEP_WINDOW_NS, "first 5 ms of the device window (no steps in the trace)"


def step_timeline(table: pa.Table) -> dict[str, object] | None:
    """Lanes and events of the representative step, times relative to its start."""
    step, lo, hi, why = representative_step(table)
    if step is None and hi == lo:
        return None
    rows = _rows_in(table, step, lo, hi)
    start, dur = _column(table, "start_ns")[rows], _column(table, "dur_ns")[rows]
    hi = max(hi, int((start + dur).max())) if len(rows) else hi
    lane_keys, lanes = _lanes(table, rows)
    kinds = _column(table, "kind")[rows]
    names = table.column("name").take(arrow(np.asarray(rows, dtype=np.int64))).to_pylist()
    events = _downsample(lane_keys, start - lo, dur, kinds, names, max(1, (hi - lo) // RESOLUTION_PARTS))
    return {
        "step": step,
        "selection": why,
        "start_ns": lo,
        "end_ns": hi,
        "lanes": lanes,
        "events": events,
        "total_events": len(rows),
        "shown_events": len(events["lane"]),
    }


def _column(table: pa.Table, name: str) -> np.ndarray:
    return numeric(table.column(name))


def _rows_in(table: pa.Table, step: int | None, lo: int, hi: int) -> np.ndarray:
    """Rows shown: the step's events (device ops by launch), or every event overlapping [lo, hi)."""
    kind = _column(table, "kind")
    shown = np.isin(kind, SHOWN_KINDS)
    if step is not None:
        return np.flatnonzero(shown & (_column(table, "step") == step))
    start = _column(table, "start_ns")
    end = start + _column(table, "dur_ns")
    return np.flatnonzero(shown & (start < hi) & (end > lo))


def _lanes(table: pa.Table, rows: np.ndarray) -> tuple[np.ndarray, list[dict[str, object]]]:
    """Lane index per row and the lane list: host threads first, then device streams."""
    device = _column(table, "device")[rows]
    on_device = device != NONE
    thread = _column(table, "thread")[rows]
    stream = _column(table, "stream")[rows]
    keys = np.where(on_device, stream, thread)
    row_lanes = list(zip(on_device.tolist(), device.tolist(), keys.tolist(), strict=True))
    pairs = sorted(set(row_lanes))
    index = {pair: i for i, pair in enumerate(pairs)}
    lane_of = np.array([index[pair] for pair in row_lanes], dtype=np.int64)
    return lane_of, [_lane(i, *pair) for i, pair in enumerate(pairs)]


def _lane(index: int, on_device: bool, device: int, key: int) -> dict[str, object]:
    if on_device:
        return {"id": index, "label": f"device {device} stream {key}", "kind": "stream"}
    return {"id": index, "label": f"host thread {key}", "kind": "host"}


def _downsample(
    lanes: np.ndarray, start: np.ndarray, dur: np.ndarray, kinds: np.ndarray, names: list, resolution: int
) -> dict[str, list]:
    """Columnar events; when there are too many, runs of sub-resolution events merge into one bar."""
    order = np.lexsort((start, lanes))
    events = [(int(lanes[i]), int(start[i]), int(dur[i]), int(kinds[i]), names[i]) for i in order]
    if len(events) > MAX_EVENTS:
        events = _merge_short(events, resolution)
        events = sorted(events, key=lambda e: -e[2])[:MAX_EVENTS]
    return {
        "lane": [e[0] for e in events],
        "start_ns": [e[1] for e in events],
        "dur_ns": [e[2] for e in events],
        "kind": [Kind(e[3]).name.lower() for e in events],
        "name": [e[4][:NAME_CHARS] for e in events],
    }


def _merge_short(events: list[tuple], resolution: int) -> list[tuple]:
    """Consecutive events of one lane shorter than `resolution` and closer than it become one bar
    named "N events", with the kind of the first."""
    merged: list[list] = []
    for lane, start, dur, kind, name in events:
        last = merged[-1] if merged else None
        joinable = last is not None and last[0] == lane and last[5] and dur < resolution
        if joinable and start - (last[1] + last[2]) < resolution:
            last[2] = max(last[2], start + dur - last[1])
            last[6] += 1
            continue
        merged.append([lane, start, dur, kind, name, dur < resolution, 1])
    return [
        (lane, start, dur, kind, name if count == 1 else f"{count} events")
        for lane, start, dur, kind, name, _, count in merged
    ]
