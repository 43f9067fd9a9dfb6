"""The replay's linear-time algorithms against brute-force references on random small steps.

Each example writes a tiny Kineto trace of three steps (hand-built events: launches with kernels on
two streams, H2D copies, synchronize calls, `.item()` reads, data-dependent operators, kernels
without a launch call, nested CPU operators), then checks that what the replay model holds and
what the changes look up equals the plain definition computed by checking every row or every pair.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kineto_builder import cpu_op, kernel, memcpy, runtime, step, write_trace

from tracekit.analysis.attribution import _gap_splits
from tracekit.analysis.changes import entries_in, units
from tracekit.analysis.columns import Columns
from tracekit.analysis.replay import UNBOUNDED, StepModel
from tracekit.analysis.step_model import DYNAMIC_SHAPE_OPS, SCALAR_READS, build_step
from tracekit.analysis.whatif import _host_stage
from tracekit.model.intervals import Intervals, clip, subtract, total_length, union
from tracekit.model.schema import DEVICE_KINDS, NONE, Kind
from tracekit.model.steps import step_spans
from tracekit.readers import read_trace

ACTIONS = ("kernel", "side", "copy", "sync", "item", "nonzero", "loose", "host", "nested")
steps_of_actions = st.lists(
    st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=12), min_size=3, max_size=3
)
durations = st.lists(st.integers(min_value=1, max_value=9), min_size=64, max_size=64)


class _Events:
    """Events of a random trace, times in µs, with each stream's end for plausible device starts."""

    def __init__(self, lengths: list[int]) -> None:
        self.events: list[dict] = []
        self.lengths, self.k, self.correlation = lengths, 0, 0
        self.stream_end = {7: 0, 8: 0}

    def length(self) -> int:
        self.k += 1
        return self.lengths[self.k % len(self.lengths)]

    def launch(self, call: str, t: int, stream: int = 7, copy: bool = False, linked: bool = True) -> int:
        """A launch call at t and its operation; a copy call sometimes returns only after its copy."""
        self.correlation += 1
        start = max(t + 1 + self.length() % 3, self.stream_end[stream] + self.length() % 2)
        dur = self.length()
        blocking = copy and self.length() % 2
        call_dur = start + dur + 1 - t if blocking else 2
        self.events.append(runtime(call, t, call_dur, correlation=self.correlation if linked else None))
        if copy:
            event = memcpy("Memcpy HtoD (Pageable -> Device)", start, dur, 256, self.correlation)
        else:
            event = kernel("k", start, dur, self.correlation if linked else None, stream=stream)
        self.events.append(event)
        self.stream_end[stream] = start + dur
        return t + call_dur

    def act(self, action: str, t: int) -> int:
        """One action at host time t; the host time after it."""
        if action in ("kernel", "side", "loose"):
            self.events.append(cpu_op("aten::mm", t, 4, external_id=self.correlation + 1))
            self.launch("cudaLaunchKernel", t + 1, 8 if action == "side" else 7, linked=action != "loose")
            return t + 4 + self.length() % 4
        if action == "nested":  # aten::linear around aten::mm around a launch, then a second launch
            self.events.append(cpu_op("aten::linear", t, 12, external_id=self.correlation + 1))
            self.events.append(cpu_op("aten::mm", t + 1, 5, external_id=self.correlation + 1))
            self.launch("cudaLaunchKernel", t + 2)
            self.launch("cudaLaunchKernel", t + 8)
            return t + 13
        if action == "copy":
            returned = self.launch("cudaMemcpyAsync", t + 1, copy=True)
            self.events.append(cpu_op("aten::to", t, returned + 1 - t, external_id=self.correlation))
            return returned + 2
        if action in ("sync", "item", "nonzero"):
            done = max(self.stream_end.values())
            wait = max(done - (t + 1), 0) + 1
            if action != "sync":
                name = "aten::item" if action == "item" else "aten::nonzero"
                self.events.append(cpu_op(name, t, wait + 3, external_id=self.correlation + 1))
            self.events.append(runtime("cudaStreamSynchronize", t + 1, wait))
            return t + wait + 4
        self.events.append(cpu_op("aten::cat", t, 3, external_id=0))  # host work, no launch
        return t + 3


def _trace(actions: list[list[str]], lengths: list[int]):
    built, t = _Events(lengths), 0
    for number, step_actions in enumerate(actions, start=1):
        begin = t
        for action in step_actions:
            t = built.act(action, t)
        t = max(t, *built.stream_end.values()) + 2
        built.events.append(step(number, begin, t - begin))
    with tempfile.TemporaryDirectory() as folder:
        return read_trace(write_trace(Path(folder) / "t.json", built.events)).events


def _reference(cols: Columns, number: int) -> dict[str, object]:
    """What the model of step `number` holds, by checking every row of the table."""
    everything = range(len(cols.start))
    rows = [r for r in everything if cols.step[r] == number and cols.kind[r] in DEVICE_KINDS]
    rows.sort(key=lambda r: (cols.stream[r], cols.start[r]))
    if not rows:
        return {"rows": rows}
    threads = Counter(int(cols.thread[cols.launch[r]]) for r in rows if cols.launch[r] != NONE)
    driver = min(t for t, n in threads.items() if n == max(threads.values())) if threads else NONE
    calls = [r for r in everything if cols.kind[r] in (Kind.RUNTIME, Kind.SYNC) and cols.device[r] == NONE
             and cols.step[r] == number and cols.thread[r] == driver and driver != NONE]  # fmt: skip
    calls.sort(key=lambda r: cols.start[r])
    first_on = {}
    for r in rows:
        first_on.setdefault(int(cols.stream[r]), int(cols.start[r]))
    prior_end = {
        s: max([int(cols.end[r]) for r in everything if cols.stream[r] == s and cols.kind[r] in DEVICE_KINDS
                and cols.start[r] < first], default=UNBOUNDED)
        for s, first in first_on.items()
    }  # fmt: skip
    detached = [(max([i for i, c in enumerate(calls) if cols.start[c] <= cols.start[r]], default=-1), r)
                for r in rows if cols.launch[r] not in calls]  # fmt: skip
    on_driver = [r for r in everything if cols.step[r] == number and cols.thread[r] == driver]
    cpu = [r for r in on_driver if cols.kind[r] == Kind.CPU_OP]
    markers = [r for r in on_driver if cols.kind[r] == Kind.MARKER and cols.device[r] == NONE]

    def spans(chosen: list[int], names: frozenset[str] | None = None) -> list[tuple[int, int]]:
        named = [r for r in chosen if names is None or cols.names[cols.name_code[r]] in names]
        return sorted((int(cols.start[r]), int(cols.end[r])) for r in named)

    return {
        "rows": rows,
        "prior_end": prior_end,
        "entries": [
            (int(cols.start[c]), int(cols.end[c]), [r for r in rows if cols.launch[r] == c]) for c in calls
        ],
        "returns": _returns(cols, calls, rows, detached, prior_end),
        "detached": detached,
        "cpu_ops": spans(cpu),
        "markers": spans(markers),
        "scalar_reads": spans(cpu, SCALAR_READS),
        "dynamic_ops": spans(cpu, DYNAMIC_SHAPE_OPS),
    }


def _returns(cols: Columns, calls: list[int], rows: list[int], detached, prior_end) -> list[tuple]:
    """(ret, waits_own) of each entry, entry by entry: a synchronize call waits for everything run
    before it, a copy call that returned after its copies for them."""
    launched_end = max([*prior_end.values(), *(int(cols.end[r]) for i, r in detached if i < 0)])
    result = []
    for index, call in enumerate(calls):
        own = [r for r in rows if cols.launch[r] == call]
        own_end = max((int(cols.end[r]) for r in own), default=UNBOUNDED)
        launched_end = max(launched_end, own_end)
        a, b = int(cols.start[call]), int(cols.end[call])
        if cols.kind[call] == Kind.SYNC and UNBOUNDED < launched_end <= b:
            result.append((b - max(a, launched_end), False))
        elif own and all(cols.kind[r] in (Kind.MEMCPY, Kind.MEMSET) for r in own) and own_end <= b:
            result.append((b - max(a, own_end), True))
        else:
            result.append((None, False))
        launched_end = max([launched_end, *(int(cols.end[r]) for i, r in detached if i == index)])
    return result


def _as_reference(model: StepModel) -> dict[str, object]:
    return {
        "rows": model.rows.tolist(),
        "prior_end": model.prior_end,
        "entries": [(e.a, e.b, [op.row for op in e.ops]) for e in model.entries],
        "returns": [(e.ret, e.waits_own) for e in model.entries],
        "detached": [(i, op.row) for i, op in model.detached],
        "cpu_ops": _pairs(model.cpu_ops),
        "markers": _pairs(model.markers),
        "scalar_reads": _pairs(model.scalar_reads),
        "dynamic_ops": _pairs(model.dynamic_ops),
    }


def _pairs(ranges: Intervals) -> list[tuple[int, int]]:
    return list(zip(ranges.starts.tolist(), ranges.ends.tolist(), strict=True))


def _gap_splits_reference(model: StepModel) -> list[tuple[int, int, int]]:
    """(pure, dispatch, glue) of each measured host gap, by clipping the ranges to each gap."""
    ranges = _pairs(model.cpu_ops) + _pairs(model.markers)
    pure = _set([(a, b) for a, b in ranges if not any(a <= e.a < b for e in model.entries)])
    every = _set(ranges)
    los = [model.start, *(e.b for e in model.entries)]
    his = [*(e.a for e in model.entries), model.end]
    result = []
    for lo, hi in zip(los, his, strict=True):
        if hi <= lo:
            result.append((0, 0, 0))
            continue
        inside, covered = total_length(clip(pure, lo, hi)), total_length(clip(every, lo, hi))
        result.append((inside, covered - inside, hi - lo - covered))
    return result


def _set(pairs: list[tuple[int, int]]):
    return union(
        np.array([a for a, _ in pairs], dtype=np.int64), np.array([b for _, b in pairs], dtype=np.int64)
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps_of_actions, durations)
def test_step_models_match_the_row_by_row_definition(actions: list[list[str]], lengths: list[int]) -> None:
    table = _trace(actions, lengths)
    cols = Columns.from_table(table)
    numbers, starts, ends = step_spans(table)
    for number, start, end in zip(numbers.tolist(), starts.tolist(), ends.tolist(), strict=True):
        model = build_step(table, cols, number, start, end)
        reference = _reference(cols, number)
        if not reference["rows"]:
            assert model is None
            continue
        assert _as_reference(model) == reference
        assert not any(a.flags.writeable for ranges in (model.cpu_ops, model.markers) for a in ranges)
        splits = zip(*(part.tolist() for part in _gap_splits(model, model.entries)), strict=True)
        assert list(splits) == _gap_splits_reference(model)


def _units_reference(model: StepModel, targets: list[int], allowed: set[int]) -> list[tuple]:
    """For each target, the first CPU operator (by start, then end) around it holding only allowed
    entries, else the target: every operator against every entry."""

    def inside(a: int, b: int) -> list[int]:
        return [i for i, e in enumerate(model.entries) if a <= e.a and e.b <= b]

    found: dict[tuple[int, int], list[int]] = {}
    for target in targets:
        entry = model.entries[target]
        around = [(a, b) for a, b in _pairs(model.cpu_ops) if a <= entry.a and entry.b <= b]
        span = next(((a, b) for a, b in around if set(inside(a, b)) <= allowed), (entry.a, entry.b))
        found.setdefault(span, inside(*span) or [target])
    return sorted((a, b, held) for (a, b), held in found.items())


def _host_stage_reference(model: StepModel, busy) -> int:
    """The host stage: CPU work holding no call, outside the calls, the operators holding one and
    the device's busy time, before the first launch or after the last call; which operators hold a
    call, by checking every pair."""
    spans = _pairs(model.cpu_ops) + _pairs(model.markers)
    holds = [any(a <= e.a and e.b <= b for e in model.entries) for a, b in spans]
    taken = _set([(e.a, e.b) for e in model.entries] + [s for s, h in zip(spans, holds, strict=True) if h]
                 + list(zip(*busy, strict=True)))  # fmt: skip
    work = subtract(_set([s for s, h in zip(spans, holds, strict=True) if not h]), taken)
    launches = [e.a for e in model.entries if e.ops]
    if not launches:
        return total_length(clip(work, model.start, model.end))
    first, last = min(launches), max(e.b for e in model.entries)
    return total_length(clip(work, model.start, first)) + total_length(clip(work, last, model.end))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps_of_actions, durations, st.randoms(use_true_random=False))
def test_change_lookups_match_their_pairwise_definitions(actions, lengths, rng) -> None:
    """units, entries_in and the pipeline's host stage equal every-pair checks."""
    table = _trace(actions, lengths)
    cols = Columns.from_table(table)
    for number, start, end in zip(*(part.tolist() for part in step_spans(table)), strict=True):
        model = build_step(table, cols, number, start, end)
        if model is None:
            continue
        indices = range(len(model.entries))
        targets = sorted(rng.sample(indices, rng.randint(0, len(model.entries))))
        allowed = set(rng.sample(indices, rng.randint(0, len(model.entries)))) | set(targets)
        assert units(model, targets, allowed) == _units_reference(model, targets, allowed)
        for ranges in (model.scalar_reads, model.dynamic_ops, model.cpu_ops):
            pairs = _pairs(ranges)
            expected = {i for i, e in enumerate(model.entries) for a, b in pairs if a <= e.a and e.b <= b}
            assert entries_in(model, ranges) == expected
        busy = union(cols.start[model.rows], cols.end[model.rows])
        assert _host_stage(model, busy) == _host_stage_reference(model, busy)
