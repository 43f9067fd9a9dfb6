"""Steps: which iteration each event belongs to.

A reader marks step spans as STEP rows whose `step` column holds the step number (for Kineto,
`ProfilerStep#N`). `assign_steps` gives every other event a step: host events by the span that
contains their start, device events by the step of the call that launched them (correlation id),
falling back to their own start time when no launch call is known.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa

from tracekit.model.correlation import launch_rows
from tracekit.model.schema import NONE, Kind

STEP_NAME = re.compile(r"^ProfilerStep#(\d+)$")


def step_spans(table: pa.Table) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(numbers, starts, ends) of the step spans, sorted by start; host-side spans preferred."""
    kind = table.column("kind").to_numpy()
    step = table.column("step").to_numpy()
    device = table.column("device").to_numpy()
    marked = (kind == Kind.STEP) & (step != NONE)
    host = marked & (device == NONE)
    chosen = np.flatnonzero(host if host.any() else marked)
    start = table.column("start_ns").to_numpy()[chosen]
    order = np.argsort(start, kind="stable")
    chosen, start = chosen[order], start[order]
    end = start + table.column("dur_ns").to_numpy()[chosen]
    return step[chosen], start, end


def assign_steps(table: pa.Table) -> pa.Table:
    """Return the table with the `step` column filled for every event inside a step."""
    numbers, starts, ends = step_spans(table)
    if len(numbers) == 0:
        return table
    step = table.column("step").to_numpy().copy()
    open_rows = step == NONE
    start = table.column("start_ns").to_numpy()
    by_time = _step_at(start, numbers, starts, ends)
    step[open_rows] = by_time[open_rows]
    launch = launch_rows(table)
    launched = np.where(launch != NONE, by_time[np.maximum(launch, 0)], NONE)
    device_rows = open_rows & (table.column("device").to_numpy() != NONE) & (launched != NONE)
    step[device_rows] = launched[device_rows]
    index = table.schema.get_field_index("step")
    return table.set_column(index, "step", pa.array(step, type=pa.int64()))


def _step_at(times: np.ndarray, numbers: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Step number of the span holding each time, NONE outside every span."""
    slot = np.searchsorted(starts, times, side="right") - 1
    inside = (slot >= 0) & (times < ends[np.maximum(slot, 0)])
    return np.where(inside, numbers[np.maximum(slot, 0)], NONE)
