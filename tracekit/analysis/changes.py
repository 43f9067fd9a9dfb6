"""The machinery of the what-if changes a replay can apply to a step (tracekit/analysis/replay.py).

A change is named by its spec (`Change`): a factory that, given what a change may read about the
device (`ChangeInputs`), returns the edit of one step (`Edit`), and which changes establish its
precondition. An edit gives the step's new host entries and detached device operations and the time
it acts on (`Edited`). The changes themselves belong to the rules that recommend them
(tracekit/rules/library/); the analysis gets them as a parameter. docs/metrics.md, "What-if
estimates"; docs/rules.md, "Adding a rule".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from operator import attrgetter

import numpy as np
import pyarrow as pa

from tracekit.analysis.batch_growth import doubled_work_factors
from tracekit.analysis.columns import Columns
from tracekit.analysis.copies import host_memory
from tracekit.analysis.precision import Bf16, bf16_effects
from tracekit.analysis.replay import Entry, Op, StepModel, interval_arrays
from tracekit.analysis.row_values import RowValues
from tracekit.model.intervals import (
    Intervals,
    clip,
    first_holder,
    held_by_any,
    holds_any,
    total_length,
    union,
)
from tracekit.model.schema import CopyDirection, Kind, MemoryKind
from tracekit.perfmodel.hardware import Hardware


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


class ChangeInputs:
    """What a change may read about one device: its events and, computed once on first use, the
    copy cost fitted on its H2D copies, the cost of a copy from pinned memory, its shortest kernel,
    what bf16 autocast would do to its work and how its kernels grow with twice the work."""

    def __init__(self, table: pa.Table, cols: Columns, device: int, hardware: Hardware | None) -> None:
        self.table, self.cols, self.device, self.hardware = table, cols, device, hardware

    @cached_property
    def copy_cost(self) -> CopyCost:
        return copy_cost(self.cols, self.device)

    @cached_property
    def pinned_cost(self) -> CopyCost | None:
        return pinned_cost(self.cols, self.device, self.hardware)

    @cached_property
    def kernel_floor_ns(self) -> int:
        return kernel_floor(self.cols, self.device)

    @cached_property
    def bf16(self) -> Bf16:
        return bf16_effects(self.table, self.cols, self.device, self.hardware)

    @cached_property
    def doubled_work(self) -> RowValues:
        return doubled_work_factors(self.table, self.cols, self.device, self.hardware)


Throughput = Callable[[dict, list[StepModel], ChangeInputs], dict]


@dataclass(frozen=True)
class Change:
    """A replay change: its name (its `whatif` key), the factory of its edit (None: it cannot be
    predicted on this device), the changes that establish its precondition (the plan may apply one
    of them first), and for a throughput lever the hook that turns its replayed estimate into a
    throughput estimate (such a change is estimated alone, not planned)."""

    name: str
    edit: Callable[[ChangeInputs], Edit | None]
    enabled_by: tuple[str, ...] = ()
    throughput: Throughput | None = None

    @property
    def latency(self) -> bool:
        """True for a change that shortens a step (the plan orders these)."""
        return self.throughput is None


# --- the copy cost ------------------------------------------------------------------------------


def fit_copy_cost(cols: Columns, rows: np.ndarray) -> CopyCost:
    """Least-squares fixed cost and per-byte cost of the copies; per-byte only with one size."""
    sizes, durations = cols.bytes[rows].astype(float), cols.dur[rows].astype(float)
    if len(np.unique(sizes)) >= 2:
        slope, fixed = np.polyfit(sizes, durations, 1)
        if slope > 0 and fixed >= 0:
            return CopyCost(float(fixed), float(slope), f"{len(rows)} copies, least squares")
    if len(rows) and sizes.sum() > 0:
        return CopyCost(
            0.0, float(durations.sum() / sizes.sum()), f"{len(rows)} copies of one size: no fixed cost"
        )
    return CopyCost(0.0, 0.0, "no copies")


def copy_cost(cols: Columns, device: int) -> CopyCost:
    """The copy cost fitted on the pinned H2D copies when they have two sizes or more, else on all."""
    h2d = _h2d_rows(cols, device)
    pinned = h2d[host_memory(cols, h2d) == MemoryKind.PINNED]
    return fit_copy_cost(cols, pinned if len(np.unique(cols.bytes[pinned])) >= 2 else h2d)


def pinned_cost(cols: Columns, device: int, hardware: Hardware | None) -> CopyCost | None:
    """What a copy from pinned memory costs: fitted on the trace's pinned H2D copies when they have
    two sizes or more, else the device's shortest operation plus bytes over the GPU's host link
    (hardware table); None when neither is known."""
    h2d = _h2d_rows(cols, device)
    pinned = h2d[host_memory(cols, h2d) == MemoryKind.PINNED]
    if len(np.unique(cols.bytes[pinned])) >= 2:
        return fit_copy_cost(cols, pinned)
    if hardware is None or hardware.host_link_gbps is None:
        return None
    fixed = float(kernel_floor(cols, device))
    return CopyCost(
        fixed,
        1 / hardware.host_link_gbps,
        f"host link of the {hardware.name}, {hardware.host_link_gbps:g} GB/s",
    )


def kernel_floor(cols: Columns, device: int) -> int:
    """The device's shortest kernel: the fixed cost a kernel takes whatever its work."""
    kernels = cols.kernels(cols.device_ops(device))
    positive = cols.dur[kernels][cols.dur[kernels] > 0]
    return int(positive.min()) if len(positive) else 0


def _h2d_rows(cols: Columns, device: int) -> np.ndarray:
    mask = (cols.kind == Kind.MEMCPY) & (cols.copy_direction == CopyDirection.H2D) & (cols.device == device)
    return np.flatnonzero(mask & (cols.bytes >= 0))


# --- units: the host work that belongs to one copy or launch ------------------------------------


def units(model: StepModel, targets: list[int], allowed: set[int]) -> list[tuple[int, int, list[int]]]:
    """For each target entry, the outermost CPU operation around it whose entries are all `allowed`
    (e.g. `aten::to` around a copy), else the entry itself: (start, end, entry indices), by start."""
    first: dict[tuple[int, int], int] = {}  # each span and the first target it holds
    for target, span in zip(targets, _unit_spans(model, model.entry_spans, targets, allowed), strict=True):
        first.setdefault(span, target)
    inside = _Held(model.entry_spans).inside_each(list(first))
    pairs = zip(first.items(), inside, strict=True)
    return sorted((a, b, held or [target]) for ((a, b), target), held in pairs)


def _unit_spans(
    model: StepModel, entries: Intervals, targets: list[int], allowed: set[int]
) -> list[tuple[int, int]]:
    """Each target's span: the first CPU operation in (start, end) order (the outermost) that holds
    it and no entry outside `allowed`, else the target entry itself. Sorts and searches, no pairs."""
    cpu = model.cpu_ops
    others = [i for i in range(len(model.entries)) if i not in allowed]
    eligible = ~holds_any(cpu, Intervals(entries.starts[others], entries.ends[others]))
    around = Intervals(cpu.starts[eligible], cpu.ends[eligible])
    own = Intervals(entries.starts[targets], entries.ends[targets])
    holder = first_holder(around, own)
    found = holder >= 0
    starts, ends = own.starts.copy(), own.ends.copy()
    starts[found], ends[found] = around.starts[holder[found]], around.ends[holder[found]]
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


class _Held:
    """The entries inside a span [a, b] (start >= a, end <= b), from the entries sorted by start:
    a span costs the entries that start in it."""

    SHORT = 16  # spans starting this few entries or fewer are filtered in Python, not numpy

    def __init__(self, entries: Intervals) -> None:
        self.order = np.argsort(entries.starts, kind="stable")
        self.starts, self.ends = entries.starts[self.order], entries.ends[self.order]

    def inside_each(self, spans: list[tuple[int, int]]) -> list[list[int]]:
        """For each span, the indices of the entries inside it, ascending: two searches for all the
        spans at once, then each span's candidates filtered by end."""
        if not spans:
            return []
        a, b = interval_arrays(spans)
        los = np.searchsorted(self.starts, a, side="left").tolist()
        his = np.searchsorted(self.starts, b, side="right").tolist()
        order, ends = self.order.tolist(), self.ends.tolist()
        return [
            sorted(order[i] for i in range(lo, hi) if ends[i] <= end)
            if hi - lo <= self.SHORT
            else sorted(self.order[lo:hi][self.ends[lo:hi] <= end].tolist())
            for lo, hi, end in zip(los, his, b.tolist(), strict=True)
        ]


def rebuild(
    model: StepModel, replaced: list[tuple[int, int, list[int]]], make: Callable[[int, int, list[int]], Entry]
) -> tuple[list[Entry], list[tuple[int, Op]]]:
    """Entries with each unit's entries replaced by the one entry `make` returns (a zero-time entry
    removes the unit); detached operations are re-anchored to the new entry list (an operation
    placed after a removed entry follows the last entry kept before it)."""
    first_of = {inside[0]: (a, b, inside) for a, b, inside in replaced}
    kept = np.ones(len(model.entries), dtype=bool)
    kept[[i for _, _, inside in replaced for i in inside]] = False
    kept[list(first_of)] = True
    entries = [
        make(*first_of[index]) if index in first_of else entry
        for index, entry, keep in zip(range(len(kept)), model.entries, kept.tolist(), strict=True)
        if keep
    ]
    new_index = (np.cumsum(kept) - 1).tolist()  # old entry index -> index of the entry it became or follows
    detached = [(new_index[i] if 0 <= i < len(new_index) else -1, op) for i, op in model.detached]
    return entries, detached


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


def unit_cost(model: StepModel, unit: tuple[int, int, list[int]]) -> int:
    """Host time of a unit without the time it spent waiting for the device."""
    a, b, inside = unit
    return max(b - a - waiting_ns([model.entries[i] for i in inside]), 0)


def waiting_ns(entries: list[Entry]) -> int:
    """Host time the synchronizing entries spent waiting for the device, as measured."""
    return sum(e.dur - e.ret for e in entries if e.ret is not None)


def copy_targets(model: StepModel, cols: Columns, keep: Callable[[Op], bool]) -> tuple[list[int], set[int]]:
    """Entries launching H2D copies that `keep` selects; entries any unit may contain (copies, syncs,
    calls that launch nothing)."""
    sizes, copies = flagged_ops(model, cols.h2d_copy)
    only_copies = copies == sizes  # entries that launch nothing else (or nothing)
    launching = np.flatnonzero(only_copies & (sizes > 0)).tolist()
    targets = [i for i in launching if all(keep(op) for op in model.entries[i].ops)]
    return targets, set(np.flatnonzero(only_copies).tolist())


def flagged_ops(model: StepModel, flag: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per entry of the step: how many operations it launches, and how many of them `flag` (one bool
    per table row) marks (array passes, not a loop over the entries)."""
    entries = model.entries
    sizes = np.fromiter(map(len, map(attrgetter("ops"), entries)), dtype=np.int64, count=len(entries))
    marked = flag[np.fromiter((op.row for e in entries for op in e.ops), np.int64, int(sizes.sum()))]
    return sizes, np.bincount(np.repeat(np.arange(len(entries)), sizes)[marked], minlength=len(entries))


def synchronizing(model: StepModel) -> list[int]:
    """Entries that made the host wait for the device (synchronize calls, blocking copies)."""
    return [i for i, e in enumerate(model.entries) if e.ret is not None and e.dur > e.ret]


def entries_in(model: StepModel, ranges: Intervals) -> set[int]:
    """Entries inside any of the host ranges."""
    inside = held_by_any(model.entry_spans, ranges)
    return set(np.flatnonzero(inside).tolist())


def launch_host_ns(model: StepModel) -> int:
    """The host's cost of issuing one operation in this step: the median time between the ends of
    consecutive launch calls (dispatch, framework and call), 0 with fewer than two launches."""
    gaps = np.diff([e.b for e in model.entries if e.ops])
    return int(np.median(gaps)) if len(gaps) else 0


# --- operations and intervals -------------------------------------------------------------------


def is_h2d(cols: Columns, op: Op) -> bool:
    return bool(cols.h2d_copy[op.row])


def device_intervals(ops: list[Op]) -> list[tuple[int, int]]:
    return [(op.start, op.start + op.dur) for op in ops]


def busy_ns(cols: Columns, rows: np.ndarray, lo: int | None = None, hi: int | None = None) -> int:
    """Time at least one of the operations `rows` runs (inside [lo, hi) when given)."""
    merged = union(cols.start[rows], cols.end[rows])
    return total_length(merged if lo is None else clip(merged, lo, hi))
