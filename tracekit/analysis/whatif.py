"""What-if estimates: replay steps with one change applied and report the predicted step time.

Each change edits the replay model of a step (tracekit/analysis/replay.py). The `whatif` block of
the analysis gives, per change, the median measured and predicted step time over the replayed
steps, the share f of the step the change targets and its Amdahl bound 1 / (1 - f). The rules
(tracekit/rules/) turn these into ranked recommendations. docs/metrics.md, "What-if estimates".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pyarrow as pa

from tracekit.analysis.columns import Columns
from tracekit.analysis.copies import host_memory
from tracekit.analysis.replay import Entry, Op, StepModel, build_step, replay
from tracekit.model.intervals import clip, total_length, union
from tracekit.model.schema import CopyDirection, Kind, MemoryKind
from tracekit.model.steps import step_spans

MAX_REPLAYED_STEPS = 32
MAX_STEP_OPS = 20_000  # steps with more device operations are not replayed (time)
BATCH_FACTOR = 2
MAX_INSTANCES = 8
GRAPH_LAUNCH_PER_KERNEL_NS = 950  # cudaGraphLaunch of 48 kernels took 45.5 us (H200, tests/data/gpu)
GRAPH_KERNEL_GAP_NS = 112  # median gap between a graph's kernels, same recording
SHORT_KERNEL_NS = 10_000  # kernels shorter than this are dominated by fixed costs


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


def whatif_block(table: pa.Table, cols: Columns, device: int) -> dict[str, object]:
    """Predicted step times for each change, over up to MAX_REPLAYED_STEPS steps of the trace."""
    models = _models(table, cols, device)
    h2d = _h2d_rows(cols, device)
    pinned = h2d[host_memory(cols, h2d) == MemoryKind.PINNED]
    cost = fit_copy_cost(cols, pinned if len(np.unique(cols.bytes[pinned])) >= 2 else h2d)
    changes: dict[str, Edit] = {
        "batch_h2d": lambda m, c: batch_h2d(m, c, cost),
        "pin_memory": lambda m, c: pin_memory(m, c, cost if len(pinned) else None),
        "overlap_copies": overlap_copies,
        "graph_launch": graph_launch,
        "remove_host_syncs": remove_host_syncs,
        "bigger_batch": lambda m, c: bigger_batch(m, c, cost),
    }
    block = {name: _estimate(models, cols, edit) for name, edit in changes.items()}
    block["bigger_batch"].update(_throughput_gain(block["bigger_batch"]))
    block["copy_cost"] = {
        "fixed_ns": cost.fixed_ns,
        "ns_per_byte": cost.ns_per_byte,
        "fitted_on": cost.fitted_on,
    }
    block["more_instances"] = more_instances(models, cols)
    block["pipeline"] = pipeline_stages(models, cols)
    block["kernels"] = kernel_profile(cols, device)
    block["steps_replayed"] = len(models)
    return block


def _throughput_gain(estimate: dict[str, object]) -> dict[str, object]:
    """Samples per second gained by a BATCH_FACTOR times larger batch: factor x old / new step time."""
    if not estimate["applicable"] or not estimate["predicted_step_ns"]:  # a step of 0 ns gains nothing
        return {"factor": BATCH_FACTOR, "throughput_gain": None}
    gain = BATCH_FACTOR * estimate["baseline_step_ns"] / estimate["predicted_step_ns"]
    return {"factor": BATCH_FACTOR, "throughput_gain": gain, "amdahl_bound": float(BATCH_FACTOR)}


def _models(table: pa.Table, cols: Columns, device: int) -> list[StepModel]:
    numbers, starts, ends = step_spans(table)
    picks = np.unique(np.linspace(0, len(numbers) - 1, min(len(numbers), MAX_REPLAYED_STEPS)).astype(int))
    models = []
    for i in picks if len(numbers) else []:
        model = build_step(table, cols, int(numbers[i]), int(starts[i]), int(ends[i]))
        if (
            model is not None
            and len(model.rows) <= MAX_STEP_OPS
            and (cols.device[model.rows] == device).all()
        ):
            models.append(model)
    return models


def _h2d_rows(cols: Columns, device: int) -> np.ndarray:
    mask = (cols.kind == Kind.MEMCPY) & (cols.copy_direction == CopyDirection.H2D) & (cols.device == device)
    return np.flatnonzero(mask & (cols.bytes >= 0))


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


def _estimate(models: list[StepModel], cols: Columns, edit: Edit) -> dict[str, object]:
    measured, predicted, shares = [], [], []
    for model in models:
        edited = edit(model, cols)
        if edited is None:
            continue
        length = model.end - model.start
        measured.append(length)
        predicted.append(max(replay(model, edited.entries, edited.detached), edited.floor_ns))
        shares.append(_share(edited.targeted, model))
    return _summary(measured, predicted, shares)


def _share(intervals: list[tuple[int, int]], model: StepModel) -> float:
    if not intervals:
        return 0.0
    merged = clip(union(*_arrays(intervals)), model.start, model.end)
    return total_length(merged) / max(model.end - model.start, 1)


def _summary(measured: list[int], predicted: list[int], shares: list[float]) -> dict[str, object]:
    if not measured:
        return {"applicable": False, "steps": 0}
    base, new, share = float(np.median(measured)), float(np.median(predicted)), float(np.median(shares))
    return {
        "applicable": True,
        "steps": len(measured),
        "baseline_step_ns": round(base),
        "predicted_step_ns": round(new),
        "speedup": base / new if new > 0 else None,
        "removable_share": share,
        "amdahl_bound": 1 / (1 - share) if share < 1 else None,
    }


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


def pin_memory(model: StepModel, cols: Columns, cost: CopyCost | None) -> Edited | None:
    """Pageable H2D copies that blocked the host become asynchronous copies from pinned memory."""

    def pageable(op: Op) -> bool:
        return host_memory(cols, np.array([op.row]))[0] == MemoryKind.PAGEABLE

    targets, allowed = _copy_targets(model, cols, pageable)
    found = [u for u in units(model, targets, allowed) if waiting_ns([model.entries[i] for i in u[2]]) > 0]
    if not found:
        return None

    def make(a: int, b: int, inside: list[int]) -> Entry:
        ops = tuple(
            replace(op, dur=cost.of(int(cols.bytes[op.row])) if cost else op.dur)
            for i in inside
            for op in model.entries[i].ops
        )
        return Entry(a=a, b=b, dur=_unit_cost(model, (a, b, inside)), ops=ops)

    entries, detached = rebuild(model, found, make)
    waits = [
        (e.a, e.b) for _, _, inside in found for e in (model.entries[i] for i in inside) if e.ret is not None
    ]
    return Edited(entries, detached, waits)


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
    copy_time = total_length(union(*_arrays(_device_intervals(copies))))
    return Edited(entries, detached, _device_intervals(copies), floor_ns=copy_time)


def graph_launch(model: StepModel, cols: Columns) -> Edited | None:
    """Each run of consecutive host work that only launches single kernels becomes one graph launch:
    the host issues one call costing GRAPH_LAUNCH_PER_KERNEL_NS per kernel, and the kernels run back
    to back, GRAPH_KERNEL_GAP_NS apart (or the step's smallest gap, if smaller)."""
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


def remove_host_syncs(model: StepModel, cols: Columns) -> Edited | None:
    """Synchronizing calls before the step's last one no longer wait (static shapes: the host need
    not read device results to continue)."""
    waiting = [i for i, e in enumerate(model.entries) if e.ret is not None and e.dur > e.ret]
    if len(waiting) < 2:
        return None
    middle = waiting[:-1]
    entries = [
        replace(e, dur=e.ret, ret=None, waits_own=False) if i in middle else e
        for i, e in enumerate(model.entries)
    ]
    targeted = [(model.entries[i].a, model.entries[i].b - model.entries[i].ret) for i in middle]
    return Edited(entries, model.detached, targeted)


def bigger_batch(model: StepModel, cols: Columns, cost: CopyCost) -> Edited:
    """Work proportional to the batch doubles: kernel time, and each copy's per-byte part; launch,
    dispatch and host time stay."""

    def grown(op: Op) -> Op:
        if cols.kind[op.row] == Kind.MEMCPY:
            return replace(op, dur=op.dur + round(cost.ns_per_byte * max(int(cols.bytes[op.row]), 0)))
        return replace(op, dur=op.dur * BATCH_FACTOR)

    entries = [replace(e, ops=tuple(grown(op) for op in e.ops)) for e in model.entries]
    detached = [(i, grown(op)) for i, op in model.detached]
    return Edited(entries, detached, [])


def more_instances(models: list[StepModel], cols: Columns) -> dict[str, object]:
    """Throughput bound of identical instances: each resource can give at most step time / its busy
    time in a step: the compute engine, the copy engines, and the driving host thread (instances
    that are threads of one process share it: the interpreter lock, the runtime's locks)."""
    if not models:
        return {"applicable": False, "steps": 0}
    shares = np.array([_resource_shares(model, cols) for model in models])
    compute, copy, host = np.median(shares, axis=0)
    bound = 1 / max(compute, copy, host, 1e-9)
    return {
        "applicable": True,
        "steps": len(models),
        "compute_share": float(compute),
        "copy_share": float(copy),
        "host_share": float(host),
        "throughput_bound": float(bound),
        "suggested_instances": int(min(max(np.ceil(bound), 2), MAX_INSTANCES)),
    }


def _resource_shares(model: StepModel, cols: Columns) -> tuple[float, float, float]:
    """Busy share of the step for compute, copies and the driving host thread (not counting waits)."""
    length = max(model.end - model.start, 1)
    kinds = cols.kind[model.rows]
    kernels = model.rows[np.isin(kinds, [Kind.KERNEL, Kind.COMMUNICATION, Kind.MEMSET])]
    copies = model.rows[kinds == Kind.MEMCPY]
    host = union(*_arrays([(e.a, e.b) for e in model.entries] + model.cpu_ops))
    host_busy = total_length(clip(host, model.start, model.end)) - waiting_ns(model.entries)
    return _busy(cols, kernels) / length, _busy(cols, copies) / length, max(host_busy, 0) / length


def pipeline_stages(models: list[StepModel], cols: Columns) -> dict[str, object]:
    """The host stage (device idle while the driving thread does CPU work that launches nothing:
    pre- and post-processing) and the device stage (device busy) of a step; running them as a
    pipeline bounds the step at the longer one."""
    if not models:
        return {"applicable": False, "steps": 0}
    host, device, lengths = [], [], []
    for model in models:
        busy = union(cols.start[model.rows], cols.end[model.rows])
        host.append(_host_only(model, busy))
        device.append(total_length(clip(busy, model.start, model.end)))
        lengths.append(model.end - model.start)
    base, host_ns, device_ns = (float(np.median(v)) for v in (lengths, host, device))
    predicted = max(host_ns, device_ns, base - min(host_ns, device_ns))
    return {
        "applicable": True,
        "steps": len(models),
        "baseline_step_ns": round(base),
        "host_stage_ns": round(host_ns),
        "device_stage_ns": round(device_ns),
        "predicted_step_ns": round(predicted),
        "speedup": base / predicted if predicted else None,
        "removable_share": min(host_ns, device_ns) / base if base else 0.0,
        "amdahl_bound": base / max(host_ns, device_ns) if max(host_ns, device_ns) else None,
    }


def _host_only(model: StepModel, device_busy) -> int:
    """Step time with the device idle and the host outside every call and every CPU operation that
    contains a call (time spent launching is not a pipeline stage)."""
    launching = [(a, b) for a, b in model.cpu_ops if any(a <= e.a and e.b <= b for e in model.entries)]
    host_calls = [(e.a, e.b) for e in model.entries] + launching
    taken = union(*_arrays(host_calls + [(s, e) for s, e in zip(*device_busy, strict=True)]))
    return (model.end - model.start) - total_length(clip(taken, model.start, model.end))


def kernel_profile(cols: Columns, device: int) -> dict[str, object]:
    """Kernel durations and how much kernels of different streams run at the same time."""
    rows = np.flatnonzero((cols.device == device) & np.isin(cols.kind, [Kind.KERNEL, Kind.COMMUNICATION]))
    durations = cols.dur[rows]
    summed = int(durations.sum())
    return {
        "count": len(rows),
        "median_ns": float(np.median(durations)) if len(rows) else None,
        "short_share": float((durations < SHORT_KERNEL_NS).mean()) if len(rows) else None,
        "streams": len(np.unique(cols.stream[rows])),
        "sum_ns": summed,
        "union_ns": total_length(union(cols.start[rows], cols.end[rows])),
    }


def _busy(cols: Columns, rows: np.ndarray, lo: int | None = None, hi: int | None = None) -> int:
    merged = union(cols.start[rows], cols.end[rows])
    return total_length(merged if lo is None else clip(merged, lo, hi))


def _arrays(intervals: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    if not intervals:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    starts, ends = zip(*intervals, strict=True)
    return np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64)
