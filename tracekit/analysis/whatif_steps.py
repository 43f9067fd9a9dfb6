"""The what-if's work on each replayed step, which no other step's needs: the step's critical path and
each change's replayed estimate of it. The steps are shared with forked helpers (tracekit/parallel.py):
this process first does the steps the plan and the claims edit again (their edits and replays are
cached here) and the plan itself, then takes steps like the helpers, largest first (with a helper for
each of those steps, it plans while the helpers take every step); the numbers are the same as with
every step computed here, one after another.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from tracekit.analysis.attribution import attribution
from tracekit.analysis.changes import Edit
from tracekit.analysis.columns import Columns
from tracekit.analysis.plan import claimed, path_time, representative, step_path
from tracekit.analysis.replay import StepModel, replay
from tracekit.model.intervals import Intervals, total_length
from tracekit.parallel import Other, shared_map, spare_jobs

PARALLEL_MIN_OPS = 8192
"""Replayed steps holding fewer device operations in all are computed in this process: a helper
would cost more than it saves."""
Estimate = tuple[int, int, float]
"""One change on one step: (measured step, predicted step, share of the critical path claimed)."""


@dataclass(frozen=True)
class StepWork:
    """One step's critical-path attribution (ns per category), the time its path covers, and each
    change's estimate (None where the change edits nothing in this step). Small: a helper's steps
    come back pickled (a path of segments would cost more to unpickle than to compute)."""

    attribution: dict[str, int]
    on_path: Intervals
    estimates: dict[str, Estimate | None]


def median_step(models: list[StepModel]) -> int:
    """Index of the step of median length (the claims are measured on it)."""
    return int(np.argsort([m.end - m.start for m in models], kind="stable")[len(models) // 2])


def step_work(
    models: list[StepModel],
    cols: Columns,
    edits: Mapping[str, Edit],
    rebuilt: Callable[[int], StepModel],
    alongside: Callable[[], Other],
) -> tuple[list[StepWork], Other]:
    """`StepWork` of every model, in order, and `alongside()` (the plan, which replays the plan's steps
    again, and whatever else this process computes meanwhile), the steps shared with helpers on the
    spare cores; a helper works on `rebuilt(i)`, a new model equal to models[i] (the shared ones it
    would touch are copied page by page on its first write, which costs more than building them
    again)."""
    kept, shared = _split(models)

    def first() -> tuple[list[StepWork], Other]:
        return [_work(models[i], cols, edits) for i in kept], alongside()

    def here(i: int) -> StepWork:
        return _work(models[i], cols, edits)

    def helper(i: int) -> StepWork:
        return _work(rebuilt(i), cols, edits)

    (works_kept, other), works_shared = shared_map(shared, here, helper, first)
    by_index = dict(zip(kept, works_kept, strict=True)) | dict(zip(shared, works_shared, strict=True))
    return [by_index[i] for i in range(len(models))], other


def _split(models: list[StepModel]) -> tuple[list[int], list[int]]:
    """Model indices done first here (the plan's and the claims' steps; every step when the steps are
    small or the helpers would have none) and those shared, largest first. With a helper for each of
    the plan's steps, none is kept: this process plans while the helpers take every step (the plan
    then edits and replays its steps here again, which costs less than waiting for them)."""
    sizes = [len(model.rows) for model in models]
    helpers = spare_jobs() - 1
    if helpers < 1 or sum(sizes) < PARALLEL_MIN_OPS:
        return list(range(len(models))), []
    kept = sorted({*representative(len(models)), median_step(models)})
    if helpers >= len(kept):
        kept = []
    shared = sorted(set(range(len(models))) - set(kept), key=lambda i: (-sizes[i], i))
    return kept, shared


def _work(model: StepModel, cols: Columns, edits: Mapping[str, Edit]) -> StepWork:
    path = step_path(model, cols)
    work = StepWork(attribution(path), path_time(path), {})
    length = sum(segment.length for segment in path)  # the replayed step (= measured, uncalibrated)
    for name, edit in edits.items():
        edited = edit(model, cols)
        if edited is not None:
            predicted = max(replay(model, edited.entries, edited.detached), edited.floor_ns)
            share = total_length(claimed(work.on_path, edited.targeted)) / max(length, 1)
            work.estimates[name] = (length, predicted, share)
        else:
            work.estimates[name] = None
    return work
