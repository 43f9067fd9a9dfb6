"""Step-time attribution along the critical path (docs/metrics.md, "Step-time attribution").

The replay of a step (tracekit/analysis/replay.py) records what bound every start: an operation
waits for its launch or for the previous operation on its stream; a host entry waits for the host
work before it, and a synchronizing entry for the operation it awaits. Walking these links back from
the step's end gives one chain of segments that covers the step exactly once: its critical path, in
the spirit of HTA's lightweight critical path. Each segment gets one category:

- `compute` (kernels, memsets), `communication` (collectives),
- `copy_h2d_pageable`, `copy_h2d_pinned`, `copy_h2d` (pinning unknown), `copy_d2h`, `copy_d2d`,
  `copy_other`,
- `launch_overhead`: launch calls and their launch lag, gaps between back-to-back operations on a
  stream (or after the operation of another stream it waited for), host time inside CPU operators
  that launch (dispatch), and host time outside any operator before a launch call, up to the step's
  median such time (the framework's glue between two launches),
- `sync`: synchronizing calls (their return after the awaited work; the wait itself is the awaited
  work's time, attributed to that work),
- `host_cpu`: host work that launches nothing: CPU operators and annotated ranges without launch
  calls, and host time outside any operator beyond the median glue,
- `other`: work of the previous step still running.

The categories sum to the replayed step time, which equals the measured one for an unchanged step.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import NamedTuple

import numpy as np

from tracekit.analysis.columns import Columns
from tracekit.analysis.replay import Entry, StepModel, Timeline, replay_timeline
from tracekit.model.intervals import Intervals, lengths_within, union
from tracekit.model.schema import CopyDirection, Kind, MemoryKind

CATEGORIES = (
    "compute",
    "communication",
    "copy_h2d_pageable",
    "copy_h2d_pinned",
    "copy_h2d",
    "copy_d2h",
    "copy_d2d",
    "copy_other",
    "launch_overhead",
    "sync",
    "host_cpu",
    "other",
)
# plain ints: the walk looks them up per operation on the path (an enum member's lookup is slow)
_COMMUNICATION, _MEMCPY, _H2D = int(Kind.COMMUNICATION), int(Kind.MEMCPY), int(CopyDirection.H2D)
_COPY_DIRECTIONS = {
    int(CopyDirection.H2D): "copy_h2d",
    int(CopyDirection.D2H): "copy_d2h",
    int(CopyDirection.D2D): "copy_d2d",
}
_H2D_PINNING = {int(MemoryKind.PAGEABLE): "copy_h2d_pageable", int(MemoryKind.PINNED): "copy_h2d_pinned"}


class Segment(NamedTuple):
    """One piece of the critical path: [start, end) of replayed time, its category, and what it
    belongs to: ("op", table row), ("entry", entry index) or ("gap", index of the entry after it).
    A named tuple: the walk makes one per piece, at a third of a frozen dataclass's cost."""

    start: int
    end: int
    category: str
    owner: tuple[str, int]

    @property
    def length(self) -> int:
        return self.end - self.start


def critical_path(
    model: StepModel, cols: Columns, entries: list[Entry] | None = None, detached=None
) -> list[Segment]:
    """The step's critical path as replayed with `entries` and `detached` (default: as measured)."""
    entries = model.entries if entries is None else entries
    timeline = replay_timeline(model, entries, detached)
    return _Walk(model, cols, entries, timeline).segments()


def attribution(segments: list[Segment]) -> dict[str, int]:
    """Nanoseconds per category (every category present, zeros included)."""
    totals = dict.fromkeys(CATEGORIES, 0)
    for segment in segments:
        totals[segment.category] += segment.length
    return totals


def median_attribution(per_step: list[dict[str, int]]) -> dict[str, int]:
    """The attribution of the median step (by length): its categories sum to its time."""
    if not per_step:
        return dict.fromkeys(CATEGORIES, 0)
    lengths = [sum(step.values()) for step in per_step]
    return dict(per_step[int(np.argsort(lengths, kind="stable")[len(lengths) // 2])])


class _Walk:
    """Walks the replayed step back from its end (see the module docstring)."""

    def __init__(self, model: StepModel, cols: Columns, entries: list[Entry], timeline: Timeline) -> None:
        self.model, self.cols, self.entries, self.timeline = model, cols, entries, timeline
        self.splits = _gap_splits(model, entries)
        self.glue_ns = self._median_glue()
        ends = np.array([run.end for run in timeline.ops], dtype=np.int64)
        by_end = np.argsort(ends, kind="stable")
        # lists: the walk searches them once per operation on the path, where bisect on a list
        # costs a tenth of np.searchsorted on a scalar
        self.by_end: list[int] = by_end.tolist()
        self.sorted_ends: list[int] = ends[by_end].tolist()
        self.out: list[Segment] = []

    def segments(self) -> list[Segment]:
        timeline = self.timeline
        device_end = max((run.end for run in timeline.ops), default=timeline.start)
        if timeline.host_end >= device_end:
            last = len(self.entries) - 1
            self._gap(last + 1, timeline.ends[last] if last >= 0 else timeline.start, timeline.host_end)
            self._from_host(last)
        else:
            self._from_op(self.by_end[-1])
        return list(reversed(self.out))

    def _from_host(self, index: int) -> None:
        """Continue from the host at the end of entry `index` (-1: the step's start)."""
        while index >= 0:
            begin, end = self.timeline.begins[index], self.timeline.ends[index]
            awaited = self.timeline.awaited[index]
            if awaited >= 0:
                self._add(self.timeline.ops[awaited].end, end, "sync", ("entry", index))
                self._from_op(awaited)
                return
            self._add(begin, end, _entry_category(self.entries[index]), ("entry", index))
            index = self._before(index)

    def _before(self, index: int) -> int:
        """Add the host gap before entry `index`; the entry whose end the host then stands at."""
        previous_end = self.timeline.ends[index - 1] if index > 0 else self.timeline.start
        self._gap(index, previous_end, self.timeline.begins[index])
        return index - 1

    def _from_op(self, k: int) -> None:
        """Continue from operation run `k` back to what bound its start."""
        while True:
            run = self.timeline.ops[k]
            self._add(run.start, run.end, _op_category(self.cols, run.op.row), ("op", run.op.row))
            if run.bound == "stream" and run.by >= 0:
                k = self._dependency(run.start, self.timeline.ops[run.by].end, run.by)
                self._add(self.timeline.ops[k].end, run.start, "launch_overhead", ("op", run.op.row))
            elif run.bound == "host":
                launched = self.timeline.begins[run.by]
                k = self._dependency(run.start, launched + self.model.min_lag, -1)
                if k < 0:  # the launch itself bound the start
                    self._add(launched, run.start, "launch_overhead", ("op", run.op.row))
                    self._from_host(self._before(run.by))
                    return
                self._add(self.timeline.ops[k].end, run.start, "launch_overhead", ("op", run.op.row))
            else:
                self._from_time(run.start, run.bound == "stream")
                return

    def _dependency(self, start: int, previous_end: int, previous: int) -> int:
        """The operation a start waited for: the last one of any stream to end after `previous_end`
        (the previous operation on its stream, or its launch) and by the start (a cross-stream
        event), else `previous`."""
        slot = bisect_right(self.sorted_ends, start) - 1
        if slot >= 0 and self.sorted_ends[slot] > previous_end:
            return self.by_end[slot]
        return previous

    def _from_time(self, time: int, previous_step: bool) -> None:
        """Continue from the host at `time` (an operation bound by earlier work or by nothing)."""
        begins = self.timeline.begins  # sorted where the entries do not overlap; bisect as searchsorted
        j = bisect_right(begins, time) - 1
        if previous_step or j < 0:
            self._add(self.timeline.start, time, "other", ("gap", max(j, 0)))
            return
        if time < self.timeline.ends[j]:
            self._add(begins[j], time, _entry_category(self.entries[j]), ("entry", j))
            self._from_host(self._before(j))
            return
        self._gap(j + 1, self.timeline.ends[j], time)
        self._from_host(j)

    def _gap(self, index: int, start: int, end: int) -> None:
        """Host time before entry `index`, split as measured into pure host work, dispatch inside
        launching operators and glue outside any operator (see the module docstring)."""
        if end <= start:
            return
        pure, dispatch, glue = self._split(index)
        glue_launch = min(glue, self.glue_ns) if self._issues_launches(index) else 0
        total = pure + dispatch + glue
        launch = round((end - start) * (dispatch + glue_launch) / total) if total else 0
        self._add(end - launch, end, "launch_overhead", ("gap", index))
        self._add(start, end - launch, "host_cpu", ("gap", index))

    def _split(self, index: int) -> tuple[int, int, int]:
        """(pure host work, dispatch, glue) in the measured gap before entry `index`."""
        pure, dispatch, glue = self.splits
        return int(pure[index]), int(dispatch[index]), int(glue[index])

    def _median_glue(self) -> int:
        """The step's median glue time before a launch call."""
        glues = [self._split(i)[2] for i in range(1, len(self.entries)) if self._issues_launches(i)]
        return int(np.median(glues)) if glues else 0

    def _issues_launches(self, index: int) -> bool:
        return index < len(self.entries) and bool(self.entries[index].ops)

    def _add(self, start: int, end: int, category: str, owner: tuple[str, int]) -> None:
        if end > start:
            self.out.append(_new_segment(Segment, (start, end, category, owner)))


_new_segment = tuple.__new__  # Segment without its Python-level __new__ (one per piece of the path)


def _gap_splits(model: StepModel, entries: list[Entry]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each measured host gap (before entry i; the last one before the step's end): the time
    in it of pure host work, of dispatch (inside launching operators) and of glue (outside any)."""
    lo = np.array([model.start, *(e.b for e in entries)], dtype=np.int64)
    hi = np.array([*(e.a for e in entries), model.end], dtype=np.int64)
    pure_ranges, launching = _host_ranges(model, entries)
    pure = lengths_within(pure_ranges, lo, hi)
    covered = lengths_within(_merged(pure_ranges, launching), lo, hi)
    glue = np.where(hi > lo, (hi - lo) - covered, 0)
    return pure, covered - pure, glue


def _host_ranges(model: StepModel, entries: list[Entry]) -> tuple[Intervals, Intervals]:
    """The driving thread's CPU operators and annotations as two interval sets: those that hold no
    host entry (work that launches nothing: pre- and post-processing) and those that do."""
    lo, hi = model.host_spans
    starts = np.sort(np.array([e.a for e in entries], dtype=np.int64))
    holds = np.zeros(len(lo), dtype=bool)
    if len(starts):
        first = np.searchsorted(starts, lo, side="left")
        holds = (first < len(starts)) & (starts[np.minimum(first, len(starts) - 1)] < hi)
    return union(lo[~holds], hi[~holds]), union(lo[holds], hi[holds])


def _merged(*sets: Intervals) -> Intervals:
    return union(np.concatenate([s.starts for s in sets]), np.concatenate([s.ends for s in sets]))


def _entry_category(entry: Entry) -> str:
    return "sync" if entry.ret is not None else "launch_overhead"


def _op_category(cols: Columns, row: int) -> str:
    kind = cols.kind.item(row)
    if kind == _COMMUNICATION:
        return "communication"
    if kind != _MEMCPY:
        return "compute"
    direction = cols.copy_direction.item(row)
    if direction == _H2D:
        return _H2D_PINNING.get(cols.src_memory.item(row), "copy_h2d")
    return _COPY_DIRECTIONS.get(direction, "copy_other")
