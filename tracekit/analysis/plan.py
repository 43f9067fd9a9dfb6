"""A plan whose numbers add up (docs/metrics.md, "Plan"): changes applied one after another in the
replay, and which changes act on the same time.

- `plan`: greedy by gain: of the changes left, the one that shortens the current (already changed)
  steps most is applied next, on top of the previous ones, while it saves at least MIN_SAVING of the
  measured step (a change that saves 1 % of today's step once others have shrunk it is no finding); each
  step of the plan gives its own gain and the cumulative predicted step time. A change whose
  precondition fails on the measured step (a graph across a `.item()`) can enter after a change that
  removes the obstacle (its spec's `enabled_by`, tracekit/analysis/changes.py).
- `claims` and `causes`: the time a change claims is the part of the step's critical path
  (tracekit/analysis/attribution.py) inside the intervals it acts on; changes whose claims overlap by
  at least half of the smaller one act on one cause (one finding, alternative actions).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np

from tracekit.analysis.attribution import Segment, critical_path
from tracekit.analysis.changes import Edit
from tracekit.analysis.columns import Columns
from tracekit.analysis.replay import StepModel, replay
from tracekit.model.intervals import Intervals, intersection, total_length, union

MIN_SPEEDUP = 1.05
"""A change that saves less than 5 % of the step is not recommended (unless it unblocks one that
does: it then enters the plan first, marked `enables`)."""
MIN_SAVING = 1 - 1 / MIN_SPEEDUP
"""The least a planned change must save, as a share of the measured (baseline) step: what a first
change saving x MIN_SPEEDUP saves."""
MAX_PLANNED_STEPS = 8
SAME_CAUSE_OVERLAP = 0.5


def plan(
    models: list[StepModel],
    cols: Columns,
    edits: dict[str, Edit],
    enabled_by: Mapping[str, tuple[str, ...]] | None = None,
) -> dict[str, object]:
    """The greedy plan over up to MAX_PLANNED_STEPS evenly spaced steps (module docstring); the
    changes are tried in the order of `edits` (the first of equal gains goes first), and
    `enabled_by` names, per change, the changes that establish its precondition."""
    current = [(models[i], 0) for i in representative(len(models))]
    if not current:
        return {"applicable": False, "steps": []}
    baseline = _median_length(current)
    remaining, steps = dict(edits), []
    while remaining:
        candidates = _candidates(current, cols, remaining, enabled_by or {})
        names, trials = max(candidates, key=lambda c: -_median_length(c[1][-1]))
        if _median_length(current) - _median_length(trials[-1]) < MIN_SAVING * baseline:
            break
        for name, trial in zip(names, trials, strict=True):
            steps.append(
                _step(name, current, trial, baseline, enables=names[-1] if name != names[-1] else None)
            )
            current = trial
            del remaining[name]
    return {"applicable": True, "steps_used": len(current), "baseline_step_ns": baseline, "steps": steps}


def _candidates(
    current: list[tuple[StepModel, int]],
    cols: Columns,
    remaining: dict[str, Edit],
    enabled_by: Mapping[str, tuple[str, ...]],
):
    """Each remaining change alone, and each precondition's remover followed by the change it
    unblocks, when that change applies to none of the current steps and then saves at least
    MIN_SPEEDUP on top of the remover: ((names), (models after each))."""
    alone = {name: _apply(current, cols, edit) for name, edit in remaining.items()}
    for name, trial in alone.items():
        yield (name,), (trial,)
    for blocked, removers in enabled_by.items():
        if blocked not in remaining or not _unchanged(alone[blocked], current):
            continue
        for remover in (r for r in removers if r in remaining):
            unblocked = _apply(alone[remover], cols, remaining[blocked])
            if _median_length(alone[remover]) / max(_median_length(unblocked), 1) >= MIN_SPEEDUP:
                yield (remover, blocked), (alone[remover], unblocked)


def _unchanged(trial: list[tuple[StepModel, int]], current: list[tuple[StepModel, int]]) -> bool:
    return all(new is old for (new, _), (old, _) in zip(trial, current, strict=True))


def _step(name: str, before: list, after: list, baseline: int, enables: str | None) -> dict[str, object]:
    predicted = _median_length(after)
    step = {
        "change": name,
        "speedup": _median_length(before) / max(predicted, 1),
        "predicted_step_ns": predicted,
        "cumulative": baseline / max(predicted, 1),
    }
    return {**step, "enables": enables} if enables else step


def representative(count: int) -> list[int]:
    """Indices of the up to MAX_PLANNED_STEPS evenly spaced steps of `count` that the plan replays."""
    if count <= MAX_PLANNED_STEPS:
        return list(range(count))
    return np.unique(np.linspace(0, count - 1, MAX_PLANNED_STEPS).astype(int)).tolist()


def _apply(current: list[tuple[StepModel, int]], cols: Columns, edit: Edit) -> list[tuple[StepModel, int]]:
    """Each (model, floor) with the change applied where it applies."""
    result = []
    for model, floor in current:
        edited = edit(model, cols)
        if edited is None:
            result.append((model, floor))  # the same object: _unchanged tells nothing applied
        else:
            result.append(
                (
                    replace(model, entries=edited.entries, detached=edited.detached),
                    max(floor, edited.floor_ns),
                )
            )
    return result


def _median_length(current: list[tuple[StepModel, int]]) -> int:
    return round(float(np.median([max(replay(model), floor) for model, floor in current])))


# --- claims and causes -----------------------------------------------------------------------------


def path_time(path: list[Segment]) -> Intervals:
    """The time a step's critical path covers (made once per step: every change's claim reads it)."""
    return union(
        np.array([s.start for s in path], dtype=np.int64), np.array([s.end for s in path], dtype=np.int64)
    )


def claimed(on_path: Intervals, targeted: list[tuple[int, int]]) -> Intervals:
    """The critical-path time (`path_time`) inside the intervals a change acts on (measured step
    coordinates)."""
    if not targeted or len(on_path.starts) == 0:
        return Intervals.empty()
    starts, ends = (np.array(v, dtype=np.int64) for v in zip(*targeted, strict=True))
    return intersection(union(starts, ends), on_path)


def causes(claims: dict[str, Intervals]) -> list[list[str]]:
    """Changes grouped by shared claimed time (connected components of the overlap relation)."""
    names = [name for name, claim in claims.items() if total_length(claim) > 0]
    group = {name: name for name in names}

    def root(name: str) -> str:
        while group[name] != name:
            name = group[name]
        return name

    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            shared = total_length(intersection(claims[a], claims[b]))
            if shared >= SAME_CAUSE_OVERLAP * min(total_length(claims[a]), total_length(claims[b])):
                group[root(b)] = root(a)
    grouped: dict[str, list[str]] = {}
    for name in names:
        grouped.setdefault(root(name), []).append(name)
    return [members for members in grouped.values() if len(members) > 1]


def step_path(model: StepModel, cols: Columns) -> list[Segment]:
    """The step's critical path as replayed unchanged (it covers the replayed step exactly)."""
    return critical_path(model, cols)
