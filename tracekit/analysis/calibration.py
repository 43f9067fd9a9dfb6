"""Profiler overhead: the profiler inflates host time (a step of 1.48 ms without it is 1.95 ms with
it), so host-bound predictions on a profiled trace overstate what a change gains.

Given the step time measured without the profiler (`--unprofiled-step`), the host timeline of every
replayed step is scaled by the one factor k in (0, 1] for which the replayed median step equals it
(bisection; device work keeps its measured durations); every prediction then starts from those
steps. Only host-bound steps are calibrated: those whose critical path is mostly host time
(launch overhead, host CPU work, synchronizing calls; tracekit/analysis/attribution.py). On a
device-bound step the profiler changes little, and the difference between the two measurements is
the device's run-to-run spread, which a host scale would misread. Without a
calibration, host-bound predictions are marked upper bounds (tracekit/rules/engine.py).
"""

from __future__ import annotations

import numpy as np

from tracekit.analysis.attribution import critical_path
from tracekit.analysis.columns import Columns
from tracekit.analysis.replay import StepModel, host_scaled, replay

MIN_SCALE = 0.05
HOST_BOUND_SHARE = 0.5
HOST_CATEGORIES = ("launch_overhead", "host_cpu", "sync")
ITERATIONS = 40


def calibrated(
    models: list[StepModel], cols: Columns, unprofiled_ns: int | None
) -> tuple[list[StepModel], dict | None]:
    """The models with host time scaled to the unprofiled step, and what was done (None: nothing)."""
    if not unprofiled_ns or not models:
        return models, None
    profiled = _median(models, 1.0)
    host_bound = host_share(models, cols) > HOST_BOUND_SHARE
    k = 1.0 if unprofiled_ns >= profiled or not host_bound else _scale_for(models, unprofiled_ns)
    scaled = [host_scaled(m, k) for m in models] if k < 1.0 else models
    return scaled, {
        "unprofiled_step_ns": unprofiled_ns,
        "profiled_step_ns": profiled,
        "host_bound": host_bound,
        "host_scale": k,
        "calibrated_step_ns": _median(scaled, 1.0),
    }


def host_share(models: list[StepModel], cols: Columns) -> float:
    """The median share of the steps' critical paths that is host time."""
    shares = []
    for model in models:
        path = critical_path(model, cols)
        total = sum(s.length for s in path)
        shares.append(sum(s.length for s in path if s.category in HOST_CATEGORIES) / max(total, 1))
    return float(np.median(shares))


def _scale_for(models: list[StepModel], target: int) -> float:
    """The largest k whose replayed median step is at most `target` (MIN_SCALE when none is)."""
    lo, hi = MIN_SCALE, 1.0
    if _median(models, lo) > target:
        return lo  # the device alone takes longer than the unprofiled step: scale host time the most
    for _ in range(ITERATIONS):
        middle = (lo + hi) / 2
        if _median(models, middle) > target:
            hi = middle
        else:
            lo = middle
    return lo


def _median(models: list[StepModel], k: float) -> int:
    steps = models if k == 1.0 else [host_scaled(m, k) for m in models]
    return round(float(np.median([replay(m) for m in steps])))
