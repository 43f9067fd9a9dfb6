"""Build one step's replay model (tracekit/analysis/replay.py) from the event table.

`build_step` reads only the step's own rows: its device operations (each with the launch lag and
stream gap it showed, whether its launch bound it, the cross-stream operation it waited for), the
host entries of the thread that drove the device (runtime and synchronize calls, with what each
synchronizing one waited for), and the host ranges the changes look for (operators, annotations,
scalar reads, data-dependent shapes).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import pyarrow as pa

from tracekit.analysis.columns import Columns
from tracekit.analysis.replay import UNBOUNDED, Entry, Op, StepModel, made, read_only
from tracekit.gcpause import gc_paused
from tracekit.model.intervals import Intervals
from tracekit.model.schema import DEVICE_KINDS, NONE, Kind

DYNAMIC_SHAPE_OPS = frozenset(
    {"aten::nonzero", "aten::masked_select", "aten::unique", "aten::_unique", "aten::_unique2",
     "aten::unique_consecutive", "aten::unique_dim", "aten::argwhere"}
)  # fmt: skip
"""Operators whose output size depends on the data: the host must read it from the device."""
SCALAR_READS = frozenset({"aten::item", "aten::_local_scalar_dense", "aten::is_nonzero"})
"""Operators that read one device value on the host (`.item()`, `if tensor:`)."""


def build_step(table: pa.Table, cols: Columns, step: int, start: int, end: int) -> StepModel | None:
    """The replay model of one step, or None when the step launched no device operation.

    Only the step's own rows are read (Columns.step_rows), so a step costs its operations."""
    own = cols.step_rows(step)
    rows = own[np.isin(cols.kind[own], DEVICE_KINDS)]
    if len(rows) == 0:
        return None
    rows = rows[np.lexsort((cols.start[rows], cols.stream[rows]))]
    driver = _driving_thread(cols, rows)
    on_driver = own[cols.thread[own] == driver]
    calls = _host_calls(cols, on_driver, driver)
    with gc_paused():
        ops, min_lag, min_gap, prior_end = _ops(cols, rows, calls)
        entries, detached = _entries(cols, calls, ops, rows, prior_end)
    cpu = on_driver[cols.kind[on_driver] == Kind.CPU_OP]
    markers = on_driver[(cols.kind[on_driver] == Kind.MARKER) & (cols.device[on_driver] == NONE)]
    return StepModel(
        step=step,
        start=start,
        end=end,
        entries=entries,
        detached=detached,
        prior_end=prior_end,
        min_lag=min_lag,
        min_gap=min_gap,
        rows=rows,
        cpu_ops=_spans(cols, cpu),
        markers=_spans(cols, markers),
        scalar_reads=_spans(cols, cpu, SCALAR_READS),
        dynamic_ops=_spans(cols, cpu, DYNAMIC_SHAPE_OPS),
    )


def _spans(cols: Columns, rows: np.ndarray, names: frozenset[str] | None = None) -> Intervals:
    """(start, end) of the rows (only those whose name is in `names`, when given), sorted."""
    if names is not None:
        wanted = np.array([name in names for name in cols.names] or [False], dtype=bool)
        rows = rows[wanted[cols.name_code[rows]]]
    order = np.lexsort((cols.end[rows], cols.start[rows]))
    return read_only((cols.start[rows][order], cols.end[rows][order]))


def _driving_thread(cols: Columns, rows: np.ndarray) -> int:
    """The host thread that launched most of the step's device operations (NONE when unknown)."""
    calls = cols.launch[rows]
    calls = calls[calls != NONE]
    if len(calls) == 0:
        return NONE
    values, counts = np.unique(cols.thread[calls], return_counts=True)
    return int(values[np.argmax(counts)])


def _host_calls(cols: Columns, on_driver: np.ndarray, thread: int) -> np.ndarray:
    """Runtime and synchronize calls among the step's rows on the driving thread, by start."""
    if thread == NONE:
        return np.empty(0, dtype=np.int64)
    kind = cols.kind[on_driver]
    calls = on_driver[((kind == Kind.RUNTIME) | (kind == Kind.SYNC)) & (cols.device[on_driver] == NONE)]
    return calls[np.argsort(cols.start[calls], kind="stable")]


def _ops(
    cols: Columns, rows: np.ndarray, calls: np.ndarray
) -> tuple[dict[int, Op], int, int, dict[int, int]]:
    """Each operation's lag and gap, whether the host bound it, and each stream's earlier end."""
    stream = cols.stream[rows]
    first = np.r_[True, stream[1:] != stream[:-1]]
    prior_end = {
        int(s): _end_before(cols, int(s), int(cols.start[r]))
        for s, r in zip(stream[first], rows[first], strict=True)
    }
    previous_end = np.r_[0, cols.end[rows][:-1]]
    previous_end[first] = [prior_end[s] for s in stream[first].tolist()]
    launched = np.isin(cols.launch[rows], calls)
    call_start = np.where(launched, cols.start[np.maximum(cols.launch[rows], 0)], cols.start[rows])
    lag = np.maximum(cols.start[rows] - call_start, 0)
    has_previous = previous_end > UNBOUNDED
    gap = np.where(has_previous, np.maximum(cols.start[rows] - previous_end, 0), 0)
    min_lag = int(lag[launched].min()) if launched.any() else 0
    min_gap = int(gap[has_previous].min()) if has_previous.any() else 0
    host_bound = launched & ((lag - min_lag <= gap - min_gap) | ~has_previous)
    ready = np.maximum(call_start + min_lag, np.where(has_previous, previous_end + min_gap, 0))
    after = _waited_for(cols, rows, ready, min_lag + min_gap)
    waited = np.where(after >= 0, cols.start[rows] - cols.end[np.maximum(after, 0)], 0)
    bound = host_bound & (after < 0)
    columns = (rows, stream, cols.start[rows], cols.dur[rows], lag, gap, bound, after, waited)
    ops = {fields[0]: made(Op, fields) for fields in zip(*(c.tolist() for c in columns), strict=True)}
    return ops, min_lag, min_gap, prior_end


def _waited_for(cols: Columns, rows: np.ndarray, ready: np.ndarray, latency: int) -> np.ndarray:
    """For each operation that started more than the device's scheduling `latency` after it was
    ready on its own (launched, the previous one on its stream done), the operation of another
    stream that ended last before its start, after it was ready: what it waited for (a cross-stream
    event); -1 for the others. One search in the sorted ends per operation."""
    ends = cols.end[rows]
    order = np.argsort(ends, kind="stable")
    slot = np.searchsorted(ends[order], cols.start[rows], side="right") - 1
    candidate = rows[order[np.maximum(slot, 0)]]
    delayed = cols.start[rows] - ready > latency
    waited = (
        delayed & (slot >= 0) & (cols.end[candidate] > ready) & (cols.stream[candidate] != cols.stream[rows])
    )
    return np.where(waited, candidate, -1)


def _end_before(cols: Columns, stream: int, time: int) -> int:
    """End of the latest operation on `stream` that started before `time` (UNBOUNDED when none)."""
    end = cols.stream_end_before(stream, time)
    return UNBOUNDED if end is None else end


def _entries(
    cols: Columns, calls: np.ndarray, ops: dict[int, Op], rows: np.ndarray, prior_end: dict[int, int]
) -> tuple[list[Entry], list[tuple[int, Op]]]:
    """Host entries with the operations they launched; operations launched elsewhere are detached
    (placed after the last call that started before them)."""
    launched = np.isin(cols.launch[rows], calls)
    own = _Launched(rows[launched], _positions(calls, cols.launch[rows[launched]]))
    loose = rows[~launched]
    follows = np.searchsorted(cols.start[calls], cols.start[loose], side="right") - 1
    detached = [(index, ops[row]) for index, row in zip(follows.tolist(), loose.tolist(), strict=True)]
    ret, waits_own = _waits(cols, calls, own, _Launched(loose, follows), prior_end)
    columns = (cols.start[calls], cols.end[calls], cols.dur[calls], ret, waits_own)
    entries = [
        made(Entry, (a, b, dur, launched_ops, None if r < 0 else r, w))
        for (a, b, dur, r, w), launched_ops in zip(
            zip(*(c.tolist() for c in columns), strict=True), own.ops_by_entry(ops, len(calls)), strict=True
        )
    ]
    return entries, detached


@dataclass(frozen=True)
class _Launched:
    """Operation rows and, for each, the index of the entry it belongs to (launched by, or placed
    after)."""

    rows: np.ndarray
    entry: np.ndarray

    def ops_by_entry(self, ops: dict[int, Op], count: int) -> list[tuple[Op, ...]]:
        """Each entry's operations, in the order of `rows`."""
        order = np.argsort(self.entry, kind="stable")
        bounds = np.searchsorted(self.entry[order], np.arange(count + 1)).tolist()
        listed = [ops[row] for row in self.rows[order].tolist()]
        return [tuple(listed[lo:hi]) for lo, hi in pairwise(bounds)]

    def latest_end(self, cols: Columns, count: int, offset: int = 0) -> np.ndarray:
        """Per entry index (shifted by `offset`), the latest end of its operations (UNBOUNDED: none)."""
        ends = np.full(count, UNBOUNDED, dtype=np.int64)
        np.maximum.at(ends, self.entry + offset, cols.end[self.rows])
        return ends


def _positions(values: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Index in `values` (distinct) of each element of `wanted` (all present)."""
    order = np.argsort(values, kind="stable")
    return order[np.searchsorted(values[order], wanted)]


def _waits(
    cols: Columns, calls: np.ndarray, own: _Launched, loose: _Launched, prior_end: dict[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Each entry's `ret` (-1: not synchronizing) and `waits_own`: synchronize calls, and copy calls
    that returned after their copy, synchronize.

    What a synchronize call awaits is what the replay awaits: everything run before it (earlier
    streams' work, operations of earlier entries, detached operations placed before it)."""
    count = len(calls)
    own_end = own.latest_end(cols, count)
    placed = loose.latest_end(cols, count + 1, offset=1) if count else np.empty(0, dtype=np.int64)
    placed = np.maximum(placed, max(prior_end.values()))  # [0]: before every entry, [i + 1]: after entry i
    launched_end = np.maximum(np.maximum.accumulate(placed)[:count], np.maximum.accumulate(own_end))
    a, b = cols.start[calls], cols.end[calls]
    sync = (cols.kind[calls] == Kind.SYNC) & (launched_end > UNBOUNDED) & (launched_end <= b)
    copy_kinds = np.isin(cols.kind[own.rows], [Kind.MEMCPY, Kind.MEMSET])
    launches = np.bincount(own.entry, minlength=count)
    copies = np.bincount(own.entry, weights=copy_kinds, minlength=count)
    copy_wait = ~sync & (launches > 0) & (copies == launches) & (own_end <= b)
    ret = np.where(sync, b - np.maximum(a, launched_end), np.where(copy_wait, b - np.maximum(a, own_end), -1))
    return ret, copy_wait
