"""The what-if's work on each replayed step, which no other step's needs: the step's critical path and
each change's replayed estimate of it. The steps are split over the cores (tracekit/parallel.py):
this process keeps the steps the plan and the claims edit again (their edits and replays are
cached here), the others go to forked helpers by operation count; the numbers are the same as
with every step computed here, one after another.
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
from tracekit.parallel import forked_map, spare_jobs

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
    models: list[StepModel], cols: Columns, edits: Mapping[str, Edit], rebuilt: Callable[[int], StepModel]
) -> list[StepWork]:
    """`StepWork` of every model, in order, the steps spread over the spare cores; a helper works on
    `rebuilt(i)`, a new model equal to models[i] (the shared ones it would touch are copied page by
    page on its first write, which costs more than building them again)."""
    if not models:
        return []
    parts = _parts(models, spare_jobs())

    def part_work(part: tuple[bool, list[int]]) -> list[StepWork]:
        here, indices = part
        return [_work(models[i] if here else rebuilt(i), cols, edits) for i in indices]

    done = forked_map(part_work, [(k == 0, indices) for k, indices in enumerate(parts)])
    by_index = {}
    for part, works in zip(parts, done, strict=True):
        by_index.update(zip(part, works, strict=True))
    return [by_index[i] for i in range(len(models))]


def _parts(models: list[StepModel], jobs: int) -> list[list[int]]:
    """Model indices per process, the first this one's: the plan's and the claims' steps stay here;
    the rest go, largest first, to the process with the fewest operations so far."""
    everything = list(range(len(models)))
    sizes = [len(model.rows) for model in models]
    if jobs <= 1 or sum(sizes) < PARALLEL_MIN_OPS:
        return [everything]
    kept = sorted({*representative(len(models)), median_step(models)})
    parts, loads = [kept, *([] for _ in range(jobs - 1))], [sum(sizes[i] for i in kept), *[0] * (jobs - 1)]
    for i in sorted(set(everything) - set(kept), key=lambda i: -sizes[i]):
        lightest = loads.index(min(loads))
        parts[lightest].append(i)
        loads[lightest] += sizes[i]
    return [sorted(part) for part in parts if part]


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
