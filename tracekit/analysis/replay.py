"""Replay one step's timeline: the host thread that drives the device, and the device streams.

A step becomes a list of host entries (runtime calls, in order, each with the host range it took)
and the device operations each entry launched. Replaying advances a host clock through the
entries, keeping every host gap as measured, and starts each operation at

    max(launch entry start + lag, previous end on its stream + gap)

where, per operation, the term that bound it in the trace keeps its measured value (lag or gap) and
the other term takes the smallest value seen in the step. A synchronizing entry (a synchronize call,
or a copy call that returned only after its copy ended) returns `ret` after the work it waits for.
Replaying an unchanged step reproduces its measured duration exactly; what-if changes
(tracekit/analysis/whatif.py) edit entries and operations, then replay.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pyarrow as pa

from tracekit.analysis.columns import Columns
from tracekit.model.schema import DEVICE_KINDS, NONE, Kind

UNBOUNDED = -(1 << 62)


@dataclass(frozen=True)
class Op:
    """A device operation: its row, stream, duration, and the launch lag / stream gap it showed."""

    row: int
    stream: int
    start: int
    dur: int
    lag: int
    gap: int
    host_bound: bool


@dataclass(frozen=True)
class Entry:
    """A host entry covering [a, b) of the measured host timeline; replayed it takes `dur`.

    `ret` (synchronizing entries only) is the time from the awaited work's end to the return;
    `waits_own` makes it await its own operations instead of everything launched so far."""

    a: int
    b: int
    dur: int
    ops: tuple[Op, ...] = ()
    ret: int | None = None
    waits_own: bool = False


@dataclass
class StepModel:
    """One step ready to replay, plus what changes need to find their targets."""

    step: int
    start: int
    end: int
    entries: list[Entry]
    detached: list[tuple[int, Op]]  # (index of the entry they follow, op) for ops with no launch entry
    prior_end: dict[int, int]  # stream -> end of the last earlier operation
    min_lag: int
    min_gap: int
    rows: np.ndarray  # device operation rows of the step
    cpu_ops: list[tuple[int, int]] = field(default_factory=list)  # (start, end) on the driving thread


def replay(model: StepModel, entries: list[Entry] | None = None, detached=None) -> int:
    """The step's duration when its entries and operations run as given (default: as measured)."""
    entries = model.entries if entries is None else entries
    detached = model.detached if detached is None else detached
    after = _detached_by_entry(detached, len(entries))
    stream_end = dict(model.prior_end)
    clock, previous_b = model.start, model.start
    for _, op in after.get(-1, []):
        _run(op, UNBOUNDED, stream_end, model)
    for index, entry in enumerate(entries):
        begin = clock + (entry.a - previous_b)
        ends = [
            _run(op, begin + op.lag if op.host_bound else begin + model.min_lag, stream_end, model)
            for op in entry.ops
        ]
        clock = _entry_end(entry, begin, ends, stream_end)
        previous_b = entry.b
        for _, op in after.get(index, []):
            _run(op, UNBOUNDED, stream_end, model)
    host_end = clock + (model.end - previous_b)
    return max(host_end, max(stream_end.values(), default=host_end)) - model.start


def _detached_by_entry(detached: list[tuple[int, Op]], count: int) -> dict[int, list[tuple[int, Op]]]:
    grouped: dict[int, list[tuple[int, Op]]] = {}
    for index, op in detached:
        grouped.setdefault(min(index, count - 1), []).append((index, op))
    return grouped


def _run(op: Op, ready: int, stream_end: dict[int, int], model: StepModel) -> int:
    previous = stream_end.get(op.stream, UNBOUNDED)
    gap = model.min_gap if op.host_bound else op.gap
    if previous == UNBOUNDED and ready == UNBOUNDED:
        ready = op.start  # a detached operation first on its stream keeps its measured start
    start = max(ready, previous + gap if previous > UNBOUNDED else UNBOUNDED)
    stream_end[op.stream] = start + op.dur
    return start + op.dur


def _entry_end(entry: Entry, begin: int, own_ends: list[int], stream_end: dict[int, int]) -> int:
    if entry.ret is None:
        return begin + entry.dur
    awaited = max(own_ends, default=begin) if entry.waits_own else max(stream_end.values(), default=begin)
    return max(begin, awaited) + entry.ret


def build_step(table: pa.Table, cols: Columns, step: int, start: int, end: int) -> StepModel | None:
    """The replay model of one step, or None when the step launched no device operation."""
    rows = np.flatnonzero((cols.step == step) & np.isin(cols.kind, DEVICE_KINDS))
    if len(rows) == 0:
        return None
    rows = rows[np.lexsort((cols.start[rows], cols.stream[rows]))]
    thread_col = table.column("thread").to_numpy()
    driver = _driving_thread(cols, rows, thread_col)
    calls = _host_calls(cols, thread_col, step, driver)
    ops, min_lag, min_gap, prior_end = _ops(cols, rows, calls)
    entries, detached = _entries(cols, calls, ops, rows, prior_end)
    cpu = np.flatnonzero((cols.kind == Kind.CPU_OP) & (cols.step == step) & (thread_col == driver))
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
        cpu_ops=sorted((int(cols.start[r]), int(cols.end[r])) for r in cpu),
    )


def _driving_thread(cols: Columns, rows: np.ndarray, thread_col: np.ndarray) -> int:
    """The host thread that launched most of the step's device operations (NONE when unknown)."""
    calls = cols.launch[rows]
    calls = calls[calls != NONE]
    if len(calls) == 0:
        return NONE
    values, counts = np.unique(thread_col[calls], return_counts=True)
    return int(values[np.argmax(counts)])


def _host_calls(cols: Columns, thread_col: np.ndarray, step: int, thread: int) -> np.ndarray:
    """Runtime and synchronize calls of the driving thread in the step, by start."""
    if thread == NONE:
        return np.empty(0, dtype=np.int64)
    mask = np.isin(cols.kind, [Kind.RUNTIME, Kind.SYNC]) & (cols.device == NONE)
    calls = np.flatnonzero(mask & (cols.step == step) & (thread_col == thread))
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
    previous_end = np.where(first, [prior_end[int(s)] for s in stream], np.r_[0, cols.end[rows][:-1]])
    launched = np.isin(cols.launch[rows], calls)
    call_start = np.where(launched, cols.start[np.maximum(cols.launch[rows], 0)], cols.start[rows])
    lag = np.maximum(cols.start[rows] - call_start, 0)
    has_previous = previous_end > UNBOUNDED
    gap = np.where(has_previous, np.maximum(cols.start[rows] - previous_end, 0), 0)
    min_lag = int(lag[launched].min()) if launched.any() else 0
    min_gap = int(gap[has_previous].min()) if has_previous.any() else 0
    host_bound = launched & ((lag - min_lag <= gap - min_gap) | ~has_previous)
    ops = {
        int(r): Op(int(r), int(s), int(cols.start[r]), int(cols.dur[r]), int(lg), int(g), bool(h))
        for r, s, lg, g, h in zip(rows, stream, lag, gap, host_bound, strict=True)
    }
    return ops, min_lag, min_gap, prior_end


def _end_before(cols: Columns, stream: int, time: int) -> int:
    """End of the latest operation on `stream` that started before `time` (UNBOUNDED when none)."""
    on_stream = (cols.stream == stream) & np.isin(cols.kind, DEVICE_KINDS) & (cols.start < time)
    return int(cols.end[on_stream].max()) if on_stream.any() else UNBOUNDED


def _entries(
    cols: Columns, calls: np.ndarray, ops: dict[int, Op], rows: np.ndarray, prior_end: dict[int, int]
) -> tuple[list[Entry], list[tuple[int, Op]]]:
    """Host entries with the operations they launched; operations launched elsewhere are detached."""
    by_call: dict[int, list[Op]] = {}
    detached: list[tuple[int, Op]] = []
    known_calls = set(calls.tolist())
    call_starts = cols.start[calls]
    for row in rows.tolist():
        call = int(cols.launch[row])
        if call in known_calls:
            by_call.setdefault(call, []).append(ops[row])
        else:
            index = int(np.searchsorted(call_starts, cols.start[row], side="right")) - 1
            detached.append((index, ops[row]))
    entries = [_entry(cols, c, tuple(by_call.get(c, ()))) for c in calls.tolist()]
    return _with_waits(entries, cols, calls, detached, prior_end), detached


def _entry(cols: Columns, call: int, ops: tuple[Op, ...]) -> Entry:
    return Entry(a=int(cols.start[call]), b=int(cols.end[call]), dur=int(cols.dur[call]), ops=ops)


def _with_waits(
    entries: list[Entry],
    cols: Columns,
    calls: np.ndarray,
    detached: list[tuple[int, Op]],
    prior_end: dict[int, int],
) -> list[Entry]:
    """Mark synchronize calls, and copy calls that returned after their copy, as synchronizing.

    What a synchronize call awaits is what the replay awaits: everything run before it (earlier
    streams' work, operations of earlier entries, detached operations placed before it)."""
    after = _detached_by_entry(detached, len(entries))
    launched_end = max([*prior_end.values(), *(_end(cols, op) for _, op in after.get(-1, []))])
    result = []
    for index, (entry, call) in enumerate(zip(entries, calls.tolist(), strict=True)):
        own_end = max((_end(cols, op) for op in entry.ops), default=UNBOUNDED)
        launched_end = max(launched_end, own_end)
        if cols.kind[call] == Kind.SYNC and UNBOUNDED < launched_end <= entry.b:
            entry = replace(entry, ret=entry.b - max(entry.a, launched_end))
        elif _is_copy_call(cols, entry) and own_end <= entry.b:
            entry = replace(entry, ret=entry.b - max(entry.a, own_end), waits_own=True)
        launched_end = max([launched_end, *(_end(cols, op) for _, op in after.get(index, []))])
        result.append(entry)
    return result


def _end(cols: Columns, op: Op) -> int:
    return int(cols.end[op.row])


def _is_copy_call(cols: Columns, entry: Entry) -> bool:
    return bool(entry.ops) and all(cols.kind[op.row] in (Kind.MEMCPY, Kind.MEMSET) for op in entry.ops)
