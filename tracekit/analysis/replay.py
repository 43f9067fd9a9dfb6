"""Replay one step's timeline: the host thread that drives the device, and the device streams.

A step becomes a list of host entries (runtime calls, in order, each with the host range it took)
and the device operations each entry launched. Replaying advances a host clock through the
entries, keeping every host gap as measured, and starts each operation at

    max(launch entry start + lag, previous end on its stream + gap)

where, per operation, the term that bound it in the trace keeps its measured value (lag or gap) and
the other term takes the smallest value seen in the step. A synchronizing entry (a synchronize call,
or a copy call that returned only after its copy ended) returns `ret` after the work it waits for.
Replaying an unchanged step reproduces its measured duration exactly; what-if changes
(tracekit/analysis/whatif.py) edit entries and operations, then replay. `replay_timeline` keeps
where everything ran and what bound it: the critical path (tracekit/analysis/attribution.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from itertools import pairwise
from typing import NamedTuple

import numpy as np
import pyarrow as pa

from tracekit.analysis.columns import Columns
from tracekit.gcpause import gc_paused
from tracekit.model.intervals import Intervals
from tracekit.model.schema import DEVICE_KINDS, NONE, Kind

UNBOUNDED = -(1 << 62)
DYNAMIC_SHAPE_OPS = frozenset(
    {"aten::nonzero", "aten::masked_select", "aten::unique", "aten::_unique", "aten::_unique2",
     "aten::unique_consecutive", "aten::unique_dim", "aten::argwhere"}
)  # fmt: skip
"""Operators whose output size depends on the data: the host must read it from the device."""
SCALAR_READS = frozenset({"aten::item", "aten::_local_scalar_dense", "aten::is_nonzero"})
"""Operators that read one device value on the host (`.item()`, `if tensor:`)."""


@dataclass(frozen=True)
class Op:
    """A device operation: its row, stream, duration, and the launch lag / stream gap it showed;
    an operation that started only when one of another stream ended (a cross-stream event) waits
    for that one in the replay too."""

    row: int
    stream: int
    start: int
    dur: int
    lag: int
    gap: int
    host_bound: bool
    after: int = -1  # row of an operation on another stream it waited for (an event), or -1
    after_gap: int = 0  # measured time from that operation's end to this start


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
    markers: list[tuple[int, int]] = field(default_factory=list)  # annotations on the driving thread
    dynamic_ops: list[tuple[int, int]] = field(default_factory=list)  # data-dependent-shape operators
    scalar_reads: list[tuple[int, int]] = field(default_factory=list)  # .item() and kin on the host

    @cached_property
    def entry_spans(self) -> Intervals:
        """The entries' measured host ranges [a, b), in entry order (made once per model: the
        changes ask for them per step; models are not changed in place)."""
        return _read_only(interval_arrays([(e.a, e.b) for e in self.entries]))

    @cached_property
    def cpu_spans(self) -> Intervals:
        """`cpu_ops` as arrays (made once per model)."""
        return _read_only(interval_arrays(self.cpu_ops))


def _read_only(arrays: tuple[np.ndarray, np.ndarray]) -> Intervals:
    for array in arrays:
        array.setflags(write=False)  # shared by every change that reads them
    return Intervals(*arrays)


def interval_arrays(intervals: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends) arrays of a list of intervals."""
    if not intervals:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    starts, ends = zip(*intervals, strict=True)
    return np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64)


_MODEL_FIELDS = fields(StepModel)
_REPLAYED_FIELDS = ("start", "end", "prior_end", "min_lag", "min_gap")  # what a replay reads besides
# the entries and detached operations


class OpRun(NamedTuple):
    """Where the replay put one operation, and what bound its start: its launch (`host`; `by` is the
    launching entry's index), the previous operation on its stream (`stream`; `by` is that run's
    index in Timeline.ops), or neither (`measured`: a detached operation at its measured start).
    A named tuple: one is made per operation per replay, at a third of a frozen dataclass's cost."""

    op: Op
    start: int
    end: int
    bound: str
    by: int


@dataclass
class Timeline:
    """A replayed step: each host entry's begin and end, the operation each synchronizing entry
    waited for (its index in `ops`, or -1), and every operation's run."""

    start: int
    end: int = 0
    host_end: int = 0
    begins: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    awaited: list[int] = field(default_factory=list)
    ops: list[OpRun] = field(default_factory=list)

    @property
    def duration(self) -> int:
        return self.end - self.start


def replay(model: StepModel, entries: list[Entry] | None = None, detached=None) -> int:
    """The step's duration when its entries and operations run as given (default: as measured);
    inside `shared_replays`, a replay of the same objects again is looked up, not replayed."""
    entries = model.entries if entries is None else entries
    detached = model.detached if detached is None else detached
    durations = _DURATIONS.get()
    if durations is None:
        return replay_timeline(model, entries, detached).duration
    key = (*(id(getattr(model, name)) for name in _REPLAYED_FIELDS), id(entries), id(detached))
    if key not in durations:  # the value holds what the key's ids name, so no id is reused meanwhile
        durations[key] = (replay_timeline(model, entries, detached).duration, model, entries, detached)
    return durations[key][0]


_DURATIONS: ContextVar[dict | None] = ContextVar("replay_durations", default=None)


@contextmanager
def shared_replays() -> Iterator[None]:
    """Within the block, `replay` of a step whose replayed fields (_REPLAYED_FIELDS), entries and
    detached operations are the same objects as in an earlier replay returns that replay's
    duration. Models, entries and operations are never changed in place (changes build new ones:
    `dataclasses.replace`), so the same objects replay to the same duration; the what-if's plan
    replays the same steps many times."""
    token = _DURATIONS.set({})
    try:
        yield
    finally:
        _DURATIONS.reset(token)


def model_identity(model: StepModel) -> tuple[int, ...]:
    """The identities of the model's field values: equal for a model and its `replace` copy with the
    same values, so a cache holding the model may key on it."""
    return tuple(id(getattr(model, f.name)) for f in _MODEL_FIELDS)


def replay_timeline(model: StepModel, entries: list[Entry] | None = None, detached=None) -> Timeline:
    """The replayed step, with every start and what bound it (for the critical path)."""
    with gc_paused():
        return _replayed(model, model.entries if entries is None else entries, detached)


def _replayed(model: StepModel, entries: list[Entry], detached) -> Timeline:
    detached = model.detached if detached is None else detached
    after = _detached_by_entry(detached, len(entries))
    timeline = Timeline(model.start)
    state = _State(model.min_gap, timeline.ops, dict(model.prior_end))
    run, min_lag = state.run, model.min_lag
    begins, ends, awaited = timeline.begins, timeline.ends, timeline.awaited
    clock = previous_b = model.start
    for _, op in after.get(-1, ()):
        run(op, UNBOUNDED, -1)
    for index, entry in enumerate(entries):
        begin = clock + (entry.a - previous_b)
        own = [run(op, begin + (op.lag if op.host_bound else min_lag), index) for op in entry.ops]
        clock, waited = (begin + entry.dur, -1) if entry.ret is None else state.returned(entry, begin, own)
        begins.append(begin)
        ends.append(clock)
        awaited.append(waited)
        previous_b = entry.b
        for _, op in after.get(index, ()):
            run(op, UNBOUNDED, -1)
    timeline.host_end = clock + (model.end - previous_b)
    timeline.end = max(timeline.host_end, max(state.stream_end.values(), default=timeline.host_end))
    return timeline


class _State:
    """The replay in progress: each stream's end and latest operation (the inner loop of every
    replay: plain attributes, each read once per operation)."""

    __slots__ = ("last_on", "min_gap", "run_of", "runs", "stream_end")

    def __init__(self, min_gap: int, runs: list[OpRun], stream_end: dict[int, int]) -> None:
        self.min_gap, self.runs, self.stream_end = min_gap, runs, stream_end
        self.last_on: dict[int, int] = {}
        self.run_of: dict[int, int] = {}  # table row -> index in timeline.ops

    def run(self, op: Op, ready: int, entry: int) -> int:
        """Run one operation at max(ready, previous end on its stream + gap, end of the operation it
        waits for + its measured wait); its index in ops."""
        stream = op.stream
        previous = self.stream_end.get(stream, UNBOUNDED)
        if ready > UNBOUNDED:
            bound, by = "host", entry
        else:
            bound, by = "measured", -1
            if previous == UNBOUNDED and ready == UNBOUNDED:
                ready = op.start  # a detached operation first on its stream keeps its measured start
        if previous > UNBOUNDED:
            gap = self.min_gap if op.host_bound or op.after >= 0 else op.gap
            if previous + gap > ready:
                ready, bound, by = previous + gap, "stream", self.last_on.get(stream, -1)
        runs = self.runs
        if op.after >= 0:
            waited = self.run_of.get(op.after, -1)
            if waited >= 0 and runs[waited].end + op.after_gap > ready:
                ready, bound, by = runs[waited].end + op.after_gap, "stream", waited
        index = len(runs)
        end = ready + op.dur
        self.run_of[op.row] = index
        self.stream_end[stream] = end
        self.last_on[stream] = index
        runs.append(_new_run(OpRun, (op, ready, end, bound, by)))
        return index

    def returned(self, entry: Entry, begin: int, own: list[int]) -> tuple[int, int]:
        """When a synchronizing entry returns (`ret` after the work it awaits), and the operation it
        waited for (its index in ops, or -1)."""
        runs = self.runs
        pool = own if entry.waits_own else list(self.last_on.values())
        awaited = max(pool, key=lambda i: runs[i].end, default=-1)
        until = runs[awaited].end if awaited >= 0 else begin
        if not entry.waits_own and max(self.stream_end.values(), default=begin) > until:
            until, awaited = max(self.stream_end.values()), -1  # work from before the step
        return max(begin, until) + entry.ret, awaited if until > begin else -1


_new_run = tuple.__new__  # OpRun without its Python-level __new__ (one per operation per replay)


def _detached_by_entry(detached: list[tuple[int, Op]], count: int) -> dict[int, list[tuple[int, Op]]]:
    grouped: dict[int, list[tuple[int, Op]]] = {}
    last = count - 1
    for item in detached:
        grouped.setdefault(item[0] if item[0] < last else last, []).append(item)
    return grouped


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


def _spans(cols: Columns, rows: np.ndarray, names: frozenset[str] | None = None) -> list[tuple[int, int]]:
    """(start, end) of the rows (only those whose name is in `names`, when given), sorted."""
    if names is not None:
        wanted = np.array([name in names for name in cols.names] or [False], dtype=bool)
        rows = rows[wanted[cols.name_code[rows]]]
    order = np.lexsort((cols.end[rows], cols.start[rows]))
    return list(zip(cols.start[rows][order].tolist(), cols.end[rows][order].tolist(), strict=True))


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
    ops = {fields[0]: Op(*fields) for fields in zip(*(c.tolist() for c in columns), strict=True)}
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
        Entry(a, b, dur, launched_ops, None if r < 0 else r, w)
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


def host_scaled(model: StepModel, k: float) -> StepModel:
    """The step with its host timeline scaled by `k` about the step's start: every host entry's
    position, duration and return, the host ranges, and the host tail (the profiler inflates host
    work; tracekit/analysis/calibration.py finds k). Device operations keep their durations."""

    def at(t: int) -> int:
        return model.start + round((t - model.start) * k)

    def ranges(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
        return [(at(a), at(b)) for a, b in spans]

    entries = [
        replace(
            e, a=at(e.a), b=at(e.b), dur=round(e.dur * k), ret=None if e.ret is None else round(e.ret * k)
        )
        for e in model.entries
    ]
    return replace(
        model,
        end=at(model.end),
        entries=entries,
        cpu_ops=ranges(model.cpu_ops),
        markers=ranges(model.markers),
        dynamic_ops=ranges(model.dynamic_ops),
        scalar_reads=ranges(model.scalar_reads),
    )
