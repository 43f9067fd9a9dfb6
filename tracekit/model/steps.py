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

from tracekit import resident
from tracekit.model.arrays import arrow, numeric
from tracekit.model.correlation import launch_pairs
from tracekit.model.intervals import latest_started
from tracekit.model.schema import NONE, Kind
from tracekit.model.trace import whole_column

STEP_NAME = re.compile(r"^ProfilerStep#(\d+)$")


def step_spans(table: pa.Table) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(numbers, starts, ends) of the step spans, sorted by start; host-side spans preferred."""
    kind = numeric(table.column("kind"))
    step = numeric(table.column("step"))
    device = numeric(table.column("device"))
    marked = (kind == Kind.STEP) & (step != NONE)
    host = marked & (device == NONE)
    chosen = np.flatnonzero(host if host.any() else marked)
    start = numeric(table.column("start_ns"))[chosen]
    order = np.argsort(start, kind="stable")
    chosen, start = chosen[order], start[order]
    end = start + numeric(table.column("dur_ns"))[chosen]
    return step[chosen], start, end


def assign_steps(table: pa.Table) -> pa.Table:
    """Return the table with the `step` column filled for every event inside a step."""
    numbers, starts, ends = step_spans(table)
    if len(numbers) == 0:
        return table
    given = numeric(table.column("step"))
    open_rows = given == NONE
    # by time; a spilled table's pages given back after each pass
    step = resident.after(latest_started(starts, ends, numbers, numeric(table.column("start_ns")), NONE))
    rows, calls = resident.after(launch_pairs(table))
    launched = step[calls]  # the launch call's step by time
    taken = open_rows[rows] & (launched != NONE)
    np.copyto(step, given, where=~open_rows)
    if taken.all():  # the usual case: no copy of the rows
        step[rows] = launched
    else:
        step[rows[taken]] = launched[taken]
    index = table.schema.get_field_index("step")
    return table.set_column(index, "step", arrow(step.astype(np.int64, copy=False)))


def steps_from_markers(table: pa.Table, name: str) -> pa.Table | None:
    """The table with steps redefined: each host annotation named `name` (an NVTX range, a Kineto
    user annotation) becomes step 1, 2, ... in start order; other step spans become plain markers.

    `name` may carry nsys' domain prefix (`domain:name`, `:name` for the default domain). None when
    no annotation has the name.
    """
    rows = _host_markers(table, {name, name.partition(":")[2]} - {""})
    if len(rows) == 0:
        return None
    rows = rows[np.argsort(numeric(table.column("start_ns"))[rows], kind="stable")]
    kind = numeric(table.column("kind")).copy()
    kind[kind == Kind.STEP] = Kind.MARKER
    kind[rows] = Kind.STEP
    step = np.full(table.num_rows, NONE, dtype=np.int64)
    step[rows] = np.arange(1, len(rows) + 1)
    table = table.set_column(table.schema.get_field_index("kind"), "kind", arrow(kind))  # int8, as read
    table = table.set_column(table.schema.get_field_index("step"), "step", arrow(step))
    return assign_steps(table)


def marker_names(table: pa.Table) -> list[str]:
    """Names of the host annotations, most frequent first."""
    names = whole_column(table, "name")
    rows = _host_markers(table, None)
    counts = np.bincount(numeric(names.indices)[rows], minlength=len(names.dictionary))
    present = np.flatnonzero(counts)
    ordered = present[np.argsort(-counts[present], kind="stable")]
    return [names.dictionary[int(code)].as_py() for code in ordered]


def _host_markers(table: pa.Table, wanted: set[str] | None) -> np.ndarray:
    """Rows of host-side MARKER or STEP events, optionally only those with one of the wanted names."""
    kind = numeric(table.column("kind"))
    host = np.isin(kind, [Kind.MARKER, Kind.STEP]) & (numeric(table.column("device")) == NONE)
    if wanted is None:
        return np.flatnonzero(host)
    names = whole_column(table, "name")
    by_code = np.array([n in wanted for n in names.dictionary.to_pylist()] or [False], dtype=bool)
    return np.flatnonzero(host & by_code[numeric(names.indices)])
