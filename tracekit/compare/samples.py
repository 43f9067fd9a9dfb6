"""Per-step samples: one value per step span, the material of the noise model's tests.

The analysis document gives each metric once per trace; the U test needs one value per step. They
are computed here from the event table: device work belongs to a step through its `step` column
(the step of the call that launched it), the step's duration is its host span.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa

from tracekit.model.arrays import numeric
from tracekit.model.correlation import launch_rows
from tracekit.model.intervals import lengths_by_group
from tracekit.model.schema import DEVICE_KINDS, NONE, CopyDirection, Kind
from tracekit.model.steps import step_spans
from tracekit.model.trace import whole_column

KERNEL_KINDS = (Kind.KERNEL, Kind.COMMUNICATION)
DIRECTIONS = {"h2d": CopyDirection.H2D, "d2h": CopyDirection.D2H, "d2d": CopyDirection.D2D}
GRAPH_LAUNCH = re.compile(r"^(cudaGraphLaunch|cuGraphLaunch|hipGraphLaunch)")


def step_samples(table: pa.Table) -> dict[str, np.ndarray]:
    """Per step, in start order: `duration_ns`, device `busy_ns` (union of its operations, summed
    over devices), `idle_ns` (duration - busy, at least 0), `utilization` (busy / duration),
    `kernel_ns` (sum of kernel durations, communication kernels included) and `<dir>_count`,
    `<dir>_bytes` per copy direction."""
    numbers, starts, ends = step_spans(table)
    steps = len(numbers)
    duration = (ends - starts).astype(np.int64)
    slot = _step_slot(numeric(table.column("step")), numbers)
    kind = numeric(table.column("kind"))
    dur = numeric(table.column("dur_ns"))
    busy = _busy_per_step(table, slot, np.isin(kind, DEVICE_KINDS), steps)
    samples = {
        "duration_ns": duration,
        "busy_ns": busy,
        "idle_ns": np.maximum(duration - busy, 0),
        "utilization": np.divide(busy, duration, out=np.zeros(len(busy)), where=duration > 0),
        "kernel_ns": _sum_per_step(slot, np.isin(kind, KERNEL_KINDS), dur, steps),
    }
    direction = numeric(table.column("copy_direction"))
    nbytes = np.maximum(numeric(table.column("bytes")), 0)
    ones = np.ones(len(kind), dtype=np.int64)
    for key, code in DIRECTIONS.items():
        copies = (kind == Kind.MEMCPY) & (direction == code)
        samples[f"{key}_count"] = _sum_per_step(slot, copies, ones, steps)
        samples[f"{key}_bytes"] = _sum_per_step(slot, copies, nbytes, steps)
    samples.update(_host_samples(table, slot, kind, steps))
    return samples


def _host_samples(table: pa.Table, slot: np.ndarray, kind: np.ndarray, steps: int) -> dict[str, np.ndarray]:
    """Per step: `launch_calls` (host calls that launched device work), `graph_launches`, `sync_calls`
    (host synchronize calls), `cpu_ops`, `kernels`, and `host_cpu_ns`: the busy time of the thread
    that launches most of the device work (union of its CPU operators, annotated ranges and calls)
    net of the time it spent in synchronize calls."""
    ones = np.ones(len(kind), dtype=np.int64)
    launched = np.zeros(len(kind), dtype=bool)
    calls = launch_rows(table)
    launched[calls[calls >= 0]] = True
    names = whole_column(table, "name")
    graph_codes = [i for i, n in enumerate(names.dictionary.to_pylist()) if GRAPH_LAUNCH.match(n)]
    graphs = np.isin(numeric(names.indices), graph_codes)
    host = numeric(table.column("device")) == NONE
    return {
        "launch_calls": _sum_per_step(slot, launched, ones, steps),
        "graph_launches": _sum_per_step(slot, graphs & host, ones, steps),
        "sync_calls": _sum_per_step(slot, (kind == Kind.SYNC) & host, ones, steps),
        "cpu_ops": _sum_per_step(slot, kind == Kind.CPU_OP, ones, steps),
        "kernels": _sum_per_step(slot, np.isin(kind, KERNEL_KINDS), ones, steps),
        "host_cpu_ns": _driver_cpu_per_step(table, slot, kind, launched, steps),
    }


def _driver_cpu_per_step(
    table: pa.Table, slot: np.ndarray, kind: np.ndarray, launched: np.ndarray, steps: int
) -> np.ndarray:
    thread = numeric(table.column("thread"))
    process = numeric(table.column("process"))
    if not launched.any():
        return np.zeros(steps, dtype=np.int64)
    pairs, counts = np.unique(
        np.stack([process[launched], thread[launched]], axis=1), axis=0, return_counts=True
    )
    driver = pairs[np.argmax(counts)]
    mine = (process == driver[0]) & (thread == driver[1]) & (slot >= 0)
    host = mine & np.isin(kind, [Kind.CPU_OP, Kind.RUNTIME, Kind.SYNC, Kind.MARKER])
    start = numeric(table.column("start_ns"))
    end = start + numeric(table.column("dur_ns"))
    rows = np.flatnonzero(host)
    busy = lengths_by_group(slot[rows], start[rows], end[rows], steps)
    waits = _sum_per_step(slot, mine & (kind == Kind.SYNC), end - start, steps)
    return np.maximum(busy - waits, 0)


def _step_slot(step: np.ndarray, numbers: np.ndarray) -> np.ndarray:
    """Position of each row's step among the step spans, -1 for rows outside every step."""
    if len(numbers) == 0:
        return np.full(len(step), -1)
    order = np.argsort(numbers, kind="stable")
    found = np.clip(np.searchsorted(numbers[order], step), 0, len(numbers) - 1)
    return np.where((step != NONE) & (numbers[order][found] == step), order[found], -1)


def _sum_per_step(slot: np.ndarray, rows: np.ndarray, values: np.ndarray, steps: int) -> np.ndarray:
    chosen = rows & (slot >= 0)
    return np.bincount(slot[chosen], weights=values[chosen], minlength=steps).astype(np.int64)


def _busy_per_step(table: pa.Table, slot: np.ndarray, device_rows: np.ndarray, steps: int) -> np.ndarray:
    """|union of each device's operations of the step|, summed over devices."""
    start = numeric(table.column("start_ns"))
    end = start + numeric(table.column("dur_ns"))
    rows = np.flatnonzero(device_rows & (slot >= 0))
    devices, device = np.unique(numeric(table.column("device"))[rows], return_inverse=True)
    count = max(len(devices), 1)
    per_device = lengths_by_group(slot[rows] * count + device, start[rows], end[rows], steps * count)
    return per_device.reshape(steps, count).sum(axis=1)
