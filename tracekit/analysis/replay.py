"""Replay one step's timeline: the host thread that drives the device, and the device streams.

A step becomes a list of host entries (runtime calls, in order, each with the host range it took)
and the device operations each entry launched (tracekit/analysis/step_model.py builds it).
Replaying advances a host clock through the entries, keeping every host gap as measured, and
starts each operation at

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
from typing import NamedTuple, TypeVar

import numpy as np

from tracekit.gcpause import gc_paused
from tracekit.model.intervals import Intervals

UNBOUNDED = -(1 << 62)
Record = TypeVar("Record", "Op", "Entry")


class Op(NamedTuple):
    """A device operation: its row, stream, duration, and the launch lag / stream gap it showed;
    an operation that started only when one of another stream ended (a cross-stream event) waits
    for that one in the replay too. A named tuple, as are entries: a step model makes one per
    operation and the edits copy them (`made` builds one from its fields without the Python-level
    __new__, at a tenth of a frozen dataclass's __init__)."""

    row: int
    stream: int
    start: int
    dur: int
    lag: int
    gap: int
    host_bound: bool
    after: int = -1  # row of an operation on another stream it waited for (an event), or -1
    after_gap: int = 0  # measured time from that operation's end to this start

    def with_dur(self, dur: int) -> Op:
        """This operation taking `dur` (the edits make one per operation)."""
        row, stream, start, _, lag, gap, host_bound, after, after_gap = self
        return made(Op, (row, stream, start, dur, lag, gap, host_bound, after, after_gap))

    def changed(self, **values: object) -> Op:
        """This operation with other values for some fields."""
        return _changed(self, values)


class Entry(NamedTuple):
    """A host entry covering [a, b) of the measured host timeline; replayed it takes `dur`.

    `ret` (synchronizing entries only) is the time from the awaited work's end to the return;
    `waits_own` makes it await its own operations instead of everything launched so far."""

    a: int
    b: int
    dur: int
    ops: tuple[Op, ...] = ()
    ret: int | None = None
    waits_own: bool = False

    def with_ops(self, ops: tuple[Op, ...]) -> Entry:
        """This entry launching `ops` instead."""
        a, b, dur, _, ret, waits_own = self
        return made(Entry, (a, b, dur, ops, ret, waits_own))

    def changed(self, **values: object) -> Entry:
        """This entry with other values for some fields."""
        return _changed(self, values)


made = tuple.__new__
"""made(Op, fields) / made(Entry, fields): the named tuple of these fields, all given, in order."""


def _changed(record: Record, values: dict[str, object]) -> Record:
    try:
        return record._replace(**values)
    except ValueError:  # the named tuple's "unexpected field names"
        unknown = sorted(set(values) - set(record._fields))
        raise TypeError(f"{type(record).__name__} has no field {unknown[0]!r}") from None


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
    # host ranges of the driving thread, each sorted by (start, end), read-only arrays
    cpu_ops: Intervals = field(default_factory=Intervals.empty)  # CPU operators
    markers: Intervals = field(default_factory=Intervals.empty)  # annotations
    dynamic_ops: Intervals = field(default_factory=Intervals.empty)  # data-dependent-shape operators
    scalar_reads: Intervals = field(default_factory=Intervals.empty)  # .item() and kin

    @cached_property
    def entry_spans(self) -> Intervals:
        """The entries' measured host ranges [a, b), in entry order (made once per model: the
        changes ask for them per step; models are not changed in place)."""
        return read_only(interval_arrays([(e.a, e.b) for e in self.entries]))

    @property
    def host_spans(self) -> Intervals:
        """`cpu_ops` then `markers`, as one set of ranges (not sorted as a whole)."""
        return Intervals(*(np.concatenate(pair) for pair in zip(self.cpu_ops, self.markers, strict=True)))


def read_only(arrays: tuple[np.ndarray, np.ndarray]) -> Intervals:
    """The arrays as Intervals, made read-only: a model's ranges are shared by every change."""
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
        return _duration(model, entries, detached)
    key = (*(id(getattr(model, name)) for name in _REPLAYED_FIELDS), id(entries), id(detached))
    if key not in durations:  # the value holds what the key's ids name, so no id is reused meanwhile
        durations[key] = (_duration(model, entries, detached), model, entries, detached)
    return durations[key][0]


_DURATIONS: ContextVar[dict | None] = ContextVar("replay_durations", default=None)


@contextmanager
def shared_replays() -> Iterator[None]:
    """Within the block, `replay` of a step whose replayed fields (_REPLAYED_FIELDS), entries and
    detached operations are the same objects as in an earlier replay returns that replay's
    duration. Models, entries and operations are never changed in place (changes build new ones:
    `dataclasses.replace`, `changed`), so the same objects replay to the same duration; the what-if's plan
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
        return _replayed(model, model.entries if entries is None else entries, detached, True)


def _duration(model: StepModel, entries: list[Entry], detached) -> int:
    """The replayed step's duration: the same replay, keeping no operation's run (a quarter faster)."""
    with gc_paused():
        return _replayed(model, entries, detached, False).duration


def _replayed(model: StepModel, entries: list[Entry], detached, keep_runs: bool) -> Timeline:
    detached = model.detached if detached is None else detached
    after = _detached_by_entry(detached, len(entries))
    timeline = Timeline(model.start)
    state = _State(model.min_gap, timeline.ops if keep_runs else None, dict(model.prior_end))
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
    """The replay in progress: each stream's end and latest operation, every operation's end, and
    its run where the timeline is kept (the inner loop of every replay: plain attributes, each read
    once per operation)."""

    __slots__ = ("ends", "last_on", "min_gap", "run_of", "runs", "stream_end")

    def __init__(self, min_gap: int, runs: list[OpRun] | None, stream_end: dict[int, int]) -> None:
        self.min_gap, self.runs, self.stream_end = min_gap, runs, stream_end
        self.ends: list[int] = []  # by index in timeline.ops
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
        ends = self.ends
        if op.after >= 0:
            waited = self.run_of.get(op.after, -1)
            if waited >= 0 and ends[waited] + op.after_gap > ready:
                ready, bound, by = ends[waited] + op.after_gap, "stream", waited
        index = len(ends)
        end = ready + op.dur
        self.run_of[op.row] = index
        self.stream_end[stream] = end
        self.last_on[stream] = index
        ends.append(end)
        if self.runs is not None:
            self.runs.append(_new_run(OpRun, (op, ready, end, bound, by)))
        return index

    def returned(self, entry: Entry, begin: int, own: list[int]) -> tuple[int, int]:
        """When a synchronizing entry returns (`ret` after the work it awaits), and the operation it
        waited for (its index in ops, or -1)."""
        ends = self.ends
        pool = own if entry.waits_own else list(self.last_on.values())
        awaited = max(pool, key=ends.__getitem__, default=-1)
        until = ends[awaited] if awaited >= 0 else begin
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


def host_scaled(model: StepModel, k: float) -> StepModel:
    """The step with its host timeline scaled by `k` about the step's start: every host entry's
    position, duration and return, the host ranges, and the host tail (the profiler inflates host
    work; tracekit/analysis/calibration.py finds k). Device operations keep their durations."""

    def at(t: int) -> int:
        return model.start + round((t - model.start) * k)

    def ranges(spans: Intervals) -> Intervals:  # `at` on arrays: np.rint rounds half to even, as round
        return read_only(tuple(model.start + np.rint((t - model.start) * k).astype(np.int64) for t in spans))

    entries = [
        e.changed(a=at(e.a), b=at(e.b), dur=round(e.dur * k), ret=None if e.ret is None else round(e.ret * k))
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
