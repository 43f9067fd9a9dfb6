"""The changes a what-if replay can apply to a step (tracekit/analysis/replay.py): each edits the
step's host entries and device operations and says which time it acts on. docs/metrics.md,
"What-if estimates"; the rules (tracekit/rules/) name the change each recommends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from tracekit.analysis.columns import Columns
from tracekit.analysis.copies import host_memory
from tracekit.analysis.precision import Bf16
from tracekit.analysis.replay import Entry, Op, StepModel
from tracekit.model.intervals import total_length, union
from tracekit.model.schema import CopyDirection, Kind, MemoryKind

BATCH_FACTOR = 2
GRAPH_LAUNCH_PER_KERNEL_NS = 950  # cudaGraphLaunch of 48 kernels took 45.5 us (H200, tests/data/gpu)
GRAPH_KERNEL_GAP_NS = 112  # median gap between a graph's kernels, same recording


@dataclass(frozen=True)
class CopyCost:
    """Duration of a copy of n bytes: fixed_ns + n * ns_per_byte, fitted on the trace's copies."""

    fixed_ns: float
    ns_per_byte: float
    fitted_on: str

    def of(self, nbytes: int) -> int:
        return round(self.fixed_ns + self.ns_per_byte * max(nbytes, 0))


Edit = Callable[[StepModel, Columns], "Edited | None"]


@dataclass(frozen=True)
class Edited:
    """A step after a change: new entries and detached operations, and the time the change targets."""

    entries: list[Entry]
    detached: list[tuple[int, Op]]
    targeted: list[tuple[int, int]]  # host or device intervals the change acts on (for f)
    floor_ns: int = 0  # the step cannot get shorter than this (e.g. copies moved off the critical path)


# --- units: the host work that belongs to one copy or launch ------------------------------------


def units(model: StepModel, targets: list[int], allowed: set[int]) -> list[tuple[int, int, list[int]]]:
    """For each target entry, the outermost CPU operation around it whose entries are all `allowed`
    (e.g. `aten::to` around a copy), else the entry itself: (start, end, entry indices), by start."""
    starts = np.array([e.a for e in model.entries], dtype=np.int64)
    ends = np.array([e.b for e in model.entries], dtype=np.int64)
    found: dict[tuple[int, int], list[int]] = {}
    for target in targets:
        entry = model.entries[target]
        span = next(
            (
                (a, b)
                for a, b in model.cpu_ops  # sorted by start: outer operations come first
                if a <= entry.a and entry.b <= b and set(_inside(starts, ends, a, b)) <= allowed
            ),
            (entry.a, entry.b),
        )
        found.setdefault(span, _inside(starts, ends, *span) or [target])
    return sorted((a, b, inside) for (a, b), inside in found.items())


def _inside(starts: np.ndarray, ends: np.ndarray, a: int, b: int) -> list[int]:
    return np.flatnonzero((starts >= a) & (ends <= b)).tolist()


def rebuild(
    model: StepModel, replaced: list[tuple[int, int, list[int]]], make: Callable[[int, int, list[int]], Entry]
) -> tuple[list[Entry], list[tuple[int, Op]]]:
    """Entries with each unit's entries replaced by the one entry `make` returns (a zero-time entry
    removes the unit); detached operations are re-anchored to the new entry list."""
    first_of = {inside[0]: (a, b, inside) for a, b, inside in replaced}
    dropped = {i for _, _, inside in replaced for i in inside}
    entries: list[Entry] = []
    new_index: dict[int, int] = {}
    for index, entry in enumerate(model.entries):
        if index in first_of:
            entries.append(make(*first_of[index]))
        elif index not in dropped:
            entries.append(entry)
        new_index[index] = len(entries) - 1
    detached = [(new_index.get(i, -1), op) for i, op in model.detached]
    return entries, detached


def waiting_ns(entries: list[Entry]) -> int:
    """Host time the synchronizing entries spent waiting for the device, as measured."""
    return sum(e.dur - e.ret for e in entries if e.ret is not None)


def _copy_targets(model: StepModel, cols: Columns, keep: Callable[[Op], bool]) -> tuple[list[int], set[int]]:
    """Entries launching H2D copies that `keep` selects; entries any unit may contain (copies, syncs,
    calls that launch nothing)."""
    targets, allowed = [], set()
    for index, entry in enumerate(model.entries):
        copies = [op for op in entry.ops if _is_h2d(cols, op)]
        if copies and len(copies) == len(entry.ops) and all(keep(op) for op in copies):
            targets.append(index)
        if all(_is_h2d(cols, op) for op in entry.ops):
            allowed.add(index)
    return targets, allowed


def _is_h2d(cols: Columns, op: Op) -> bool:
    return bool(cols.kind[op.row] == Kind.MEMCPY and cols.copy_direction[op.row] == CopyDirection.H2D)


def _unit_cost(model: StepModel, unit: tuple[int, int, list[int]]) -> int:
    """Host time of a unit without the time it spent waiting for the device."""
    a, b, inside = unit
    return max(b - a - waiting_ns([model.entries[i] for i in inside]), 0)


def _device_intervals(ops: list[Op]) -> list[tuple[int, int]]:
    return [(op.start, op.start + op.dur) for op in ops]


# --- the changes --------------------------------------------------------------------------------


def batch_h2d(model: StepModel, cols: Columns, cost: CopyCost) -> Edited | None:
    """All H2D copies of the step become one copy from one pinned buffer, issued where the first was,
    for the host cost of the cheapest one; host time between consecutive copies goes with them."""
    targets, allowed = _copy_targets(model, cols, lambda op: True)
    if len(targets) < 2:
        return None
    found = units(model, targets, allowed)
    cheapest = min(_unit_cost(model, unit) for unit in found)
    found = merge_adjacent(found)
    copies = [op for i in targets for op in model.entries[i].ops]
    total_bytes = int(sum(max(int(cols.bytes[op.row]), 0) for op in copies))
    merged = replace(copies[0], dur=cost.of(total_bytes), lag=model.min_lag, host_bound=True)
    first = found[0]

    def make(a: int, b: int, inside: list[int]) -> Entry:
        if (a, b, inside) == first:
            return Entry(a=a, b=b, dur=cheapest, ops=(merged,))
        return Entry(a=a, b=b, dur=0)

    entries, detached = rebuild(model, found, make)
    targeted = [(a, b) for a, b, _ in found] + _device_intervals(copies)
    return Edited(entries, detached, targeted)


def pin_memory(model: StepModel, cols: Columns, cost: CopyCost) -> Edited | None:
    """H2D copies from pageable memory come from pinned memory: each copy runs at the pinned rate
    (`cost`: fitted on the trace's pinned copies, else the GPU's host link), and its call, which
    staged the data through a driver buffer or waited for the copy, costs what an asynchronous
    launch call costs in this step."""

    def pageable(op: Op) -> bool:
        return host_memory(cols, np.array([op.row]))[0] == MemoryKind.PAGEABLE

    targets, allowed = _copy_targets(model, cols, pageable)
    if not targets:
        return None
    found = units(model, targets, allowed)
    async_call = _async_call_ns(model, set(targets))

    def make(a: int, b: int, inside: list[int]) -> Entry:
        copies = [i for i in inside if i in targets]
        ops = tuple(
            replace(op, dur=cost.of(int(cols.bytes[op.row]))) for i in inside for op in model.entries[i].ops
        )
        staged = sum(model.entries[i].dur for i in copies) - waiting_ns([model.entries[i] for i in copies])
        host = _unit_cost(model, (a, b, inside)) - staged + async_call * len(copies)
        return Entry(a=a, b=b, dur=max(host, 0), ops=ops)

    entries, detached = rebuild(model, found, make)
    copies = [op for i in targets for op in model.entries[i].ops]
    targeted = [(model.entries[i].a, model.entries[i].b) for i in targets] + _device_intervals(copies)
    return Edited(entries, detached, targeted)


def _async_call_ns(model: StepModel, excluded: set[int]) -> int:
    """The median duration of the step's other launch calls (asynchronous ones), 0 without any."""
    calls = [e.dur for i, e in enumerate(model.entries) if e.ops and e.ret is None and i not in excluded]
    return int(np.median(calls)) if calls else 0


def overlap_copies(model: StepModel, cols: Columns) -> Edited | None:
    """H2D copies move to their own stream and run ahead (prefetch during the previous step): the
    step keeps issuing them, without waiting, but no longer waits for them; it still takes at least
    the copies' own time (the copy engine's share)."""
    targets, allowed = _copy_targets(model, cols, lambda op: True)
    if not targets:
        return None
    found = units(model, targets, allowed)
    copies = [op for i in targets for op in model.entries[i].ops]

    def make(a: int, b: int, inside: list[int]) -> Entry:
        return Entry(a=a, b=b, dur=_unit_cost(model, (a, b, inside)))

    entries, detached = rebuild(model, found, make)
    copy_time = total_length(union(*interval_arrays(_device_intervals(copies))))
    return Edited(entries, detached, _device_intervals(copies), floor_ns=copy_time)


def graph_launch(model: StepModel, cols: Columns) -> Edited | None:
    """Each run of consecutive host work that only launches single kernels becomes one graph launch:
    the host issues one call costing GRAPH_LAUNCH_PER_KERNEL_NS per kernel, and the kernels run back
    to back, GRAPH_KERNEL_GAP_NS apart (or the step's smallest gap, if smaller).

    Precondition: no synchronizing call before the step's last one (a graph cannot be captured
    across `.item()`, a data-dependent shape or a pageable copy); the plan removes those first."""
    if len(synchronizing(model)) > 1:
        return None
    launchers = [i for i, e in enumerate(model.entries) if len(e.ops) == 1 and _is_kernel(cols, e.ops[0])]
    allowed = {
        i for i, e in enumerate(model.entries) if e.ret is None and all(_is_kernel(cols, o) for o in e.ops)
    }
    runs = _runs(units(model, launchers, allowed), model)
    if not runs:
        return None
    single_call = int(np.median([model.entries[i].dur for i in launchers]))
    gap = min(model.min_gap, GRAPH_KERNEL_GAP_NS)

    def make(a: int, b: int, inside: list[int]) -> Entry:
        ops = [op for i in inside for op in model.entries[i].ops]
        chained = [replace(op, host_bound=(k == 0), lag=model.min_lag, gap=gap) for k, op in enumerate(ops)]
        call = max(single_call, GRAPH_LAUNCH_PER_KERNEL_NS * len(ops))
        return Entry(a=a, b=b, dur=call, ops=tuple(chained))

    entries, detached = rebuild(model, runs, make)
    return Edited(entries, detached, [(a, b) for a, b, _ in runs])


def _runs(found: list[tuple[int, int, list[int]]], model: StepModel) -> list[tuple[int, int, list[int]]]:
    """Adjacent units merged (merge_adjacent), keeping runs of 2+ launches."""
    runs = merge_adjacent(found)
    return [run for run in runs if sum(1 for i in run[2] if model.entries[i].ops) >= 2]


def merge_adjacent(found: list[tuple[int, int, list[int]]]) -> list[tuple[int, int, list[int]]]:
    """Units with no other host entry between them become one unit spanning both (the host time
    between them, e.g. the loop issuing them, goes with them)."""
    runs: list[list] = []
    for a, b, inside in found:
        if runs and inside[0] == runs[-1][2][-1] + 1:
            runs[-1][1], runs[-1][2] = b, runs[-1][2] + inside
        else:
            runs.append([a, b, list(inside)])
    return [(a, b, inside) for a, b, inside in runs]


def _is_kernel(cols: Columns, op: Op) -> bool:
    return bool(cols.kind[op.row] in (Kind.KERNEL, Kind.MEMSET))


def synchronizing(model: StepModel) -> list[int]:
    """Entries that made the host wait for the device (synchronize calls, blocking copies)."""
    return [i for i, e in enumerate(model.entries) if e.ret is not None and e.dur > e.ret]


def static_shapes(model: StepModel, cols: Columns) -> Edited | None:
    """Operators with a data-dependent output shape (nonzero, masked_select, unique, boolean-mask
    indexing) become static ones (torch.where, a multiply by the mask): the host no longer waits
    for the device to learn the size, and the size computation (its kernels and the copy of the
    count to the host) goes; the work on the data stays."""
    inside = _entries_in(model, model.dynamic_ops)
    if not inside:
        return None
    entries = [
        replace(e, dur=e.ret or 0, ret=None, waits_own=False, ops=()) if i in inside and e.ret is not None
        else replace(e, ops=tuple(op for op in e.ops if not _sizes_only(cols, op))) if i in inside
        else e
        for i, e in enumerate(model.entries)
    ]  # fmt: skip
    removed = [op for i in inside for op in model.entries[i].ops]
    targeted = [(model.entries[i].a, model.entries[i].b) for i in inside] + _device_intervals(removed)
    return Edited(entries, model.detached, targeted)


def _entries_in(model: StepModel, ranges: list[tuple[int, int]]) -> set[int]:
    return {i for i, e in enumerate(model.entries) for a, b in ranges if a <= e.a and e.b <= b}


def _sizes_only(cols: Columns, op: Op) -> bool:
    """Work of a dynamic operator that only finds the output size: its kernels and D2H copies."""
    return bool(cols.kind[op.row] != Kind.MEMCPY or cols.copy_direction[op.row] == CopyDirection.D2H)


def mixed_precision(model: StepModel, cols: Columns, bf16: Bf16) -> Edited | None:
    """fp32 work runs under bf16 autocast: each operation bf16 would shorten takes its factor of the
    time, and each autocast operator first launches its casts, each for the step's host cost of one
    launch (tracekit/analysis/precision.py)."""
    factors = bf16.factors
    shortened = [op for e in model.entries for op in e.ops if op.row in factors]
    shortened += [op for _, op in model.detached if op.row in factors]
    if not shortened:
        return None

    def scaled(op: Op) -> Op:
        return replace(op, dur=round(op.dur * factors[op.row])) if op.row in factors else op

    host = launch_host_ns(model)
    entries: list[Entry] = []
    for entry in model.entries:
        for op in entry.ops:
            for dur in bf16.casts.get(op.row, []):
                cast = replace(op, dur=dur, lag=model.min_lag, host_bound=True, after=-1)
                entries.append(Entry(a=entry.a, b=entry.a, dur=host, ops=(cast,)))
        entries.append(replace(entry, ops=tuple(scaled(op) for op in entry.ops)))
    detached = [(_shifted(i, model, bf16), scaled(op)) for i, op in model.detached]
    return Edited(entries, detached, _device_intervals(shortened))


def _shifted(index: int, model: StepModel, bf16: Bf16) -> int:
    """An entry index after the cast entries inserted before it and before earlier entries."""
    added = sum(len(bf16.casts.get(op.row, [])) for e in model.entries[: index + 1] for op in e.ops)
    return index + added


def launch_host_ns(model: StepModel) -> int:
    """The host's cost of issuing one operation in this step: the median time between the ends of
    consecutive launch calls (dispatch, framework and call), 0 with fewer than two launches."""
    gaps = np.diff([e.b for e in model.entries if e.ops])
    return int(np.median(gaps)) if len(gaps) else 0


def remove_host_syncs(model: StepModel, cols: Columns) -> Edited | None:
    """Synchronizing calls before the step's last one no longer wait; those that read one device
    value (`.item()`, `if tensor:`) go with the host work of their read (the value stays on the
    device as a flag tensor, read once at the end)."""
    waiting = synchronizing(model)
    if len(waiting) < 2:
        return None
    middle = set(waiting[:-1])
    inside_reads = _entries_in(model, model.scalar_reads)
    reads = [u for u in units(model, sorted(middle & inside_reads), inside_reads) if _is_read(model, u)]
    in_reads = {i for _, _, inside in reads for i in inside}
    entries = [
        replace(e, dur=e.ret, ret=None, waits_own=False) if i in middle and i not in in_reads else e
        for i, e in enumerate(model.entries)
    ]
    trimmed = replace(model, entries=entries)
    entries, detached = rebuild(trimmed, reads, lambda a, b, inside: Entry(a=a, b=b, dur=0))
    targeted = [(model.entries[i].a, model.entries[i].b) for i in middle] + [(a, b) for a, b, _ in reads]
    return Edited(entries, detached, targeted)


def _is_read(model: StepModel, unit: tuple[int, int, list[int]]) -> bool:
    a, b, _ = unit
    return any(lo <= a and b <= hi for lo, hi in model.scalar_reads)


def bigger_batch(model: StepModel, cols: Columns, cost: CopyCost, floor_ns: int = 0) -> Edited:
    """Work proportional to the batch doubles: each kernel's time beyond the device's fixed kernel
    cost `floor_ns` (its shortest kernel), and each copy's per-byte part; launches, dispatch and host
    time stay. Launch-bound kernels therefore barely grow."""

    def grown(op: Op) -> Op:
        if cols.kind[op.row] == Kind.MEMCPY:
            return replace(op, dur=op.dur + round(cost.ns_per_byte * max(int(cols.bytes[op.row]), 0)))
        return replace(op, dur=op.dur + (BATCH_FACTOR - 1) * max(op.dur - floor_ns, 0))

    entries = [replace(e, ops=tuple(grown(op) for op in e.ops)) for e in model.entries]
    detached = [(i, grown(op)) for i, op in model.detached]
    return Edited(entries, detached, [])


def interval_arrays(intervals: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends) arrays of a list of intervals."""
    if not intervals:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    starts, ends = zip(*intervals, strict=True)
    return np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64)
