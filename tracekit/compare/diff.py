"""`tracekit diff BASE NEW` as data: metrics side by side, operators aligned, per-step distributions
(`tracekit.diff/1`)."""

from __future__ import annotations

from collections import Counter

import numpy as np

from tracekit.analysis.document.stats import Hotspot
from tracekit.analysis.stats import distribution
from tracekit.compare.metrics import Metric, catalogue
from tracekit.compare.noise import compare_samples
from tracekit.compare.run import Run

SCHEMA = "tracekit.diff/1"


def diff(base: Run, new: Run, top: int = 10) -> dict[str, object]:
    """Every catalogue metric with its delta, kernels and host operators aligned by name (and by order
    where a name repeats), the `top` regressions and improvements, and both step distributions."""
    return {
        "schema": SCHEMA,
        "base": {"source": base.source, "steps": base.steps},
        "new": {"source": new.source, "steps": new.steps},
        "metrics": worst_first([_metric_row(metric, base, new) for metric in catalogue()]),
        "steps": _step_block(base, new),
        "kernels": _operator_block(_kernels(base), _kernels(new), base.steps, new.steps, top),
        "cpu_ops": _operator_block(_cpu_ops(base), _cpu_ops(new), base.steps, new.steps, top),
    }


def _metric_row(metric: Metric, base: Run, new: Run) -> dict[str, object]:
    before, after = metric.value(base), metric.value(new)
    delta = None if before is None or after is None else after - before
    return {
        "path": metric.path,
        "unit": metric.unit,
        "stability": metric.stability,
        "base": before,
        "new": after,
        "change": delta,
        "relative_change": delta / abs(before) if delta is not None and before else None,
        "direction": _direction(metric.worse, delta),
    }


def _direction(worse: int, delta: float | None) -> str:
    """`worse`, `better` or `same` (or `unknown` when a side lacks the metric)."""
    if delta is None:
        return "unknown"
    return "same" if delta == 0 else "worse" if worse * delta > 0 else "better"


DIRECTION_ORDER = {"worse": 0, "better": 1, "same": 2, "unknown": 3}


def worst_first(rows: list[dict]) -> list[dict]:
    """Rows ordered worse, better, same, unknown; by size of the relative change within each (an
    absolute change from 0 counts as the largest)."""

    def size(row: dict) -> float:
        relative = row["relative_change"]
        return abs(relative) if relative is not None else (float("inf") if row["change"] else 0.0)

    return sorted(rows, key=lambda row: (DIRECTION_ORDER[row["direction"]], -size(row)))


def _step_block(base: Run, new: Run) -> dict[str, object]:
    before, after = base.samples["duration_ns"], new.samples["duration_ns"]
    shift = compare_samples(after, before, +1).as_dict() if len(before) and len(after) else None
    return {"base": _distribution(before), "new": _distribution(after), "shift": shift}


def _distribution(values: np.ndarray) -> dict[str, object]:
    """count, p50, p90, p99 (nearest rank), mean and max of the step durations, and the durations."""
    return {**distribution(values), "values_ns": values.tolist()}


def _kernels(run: Run) -> list[Hotspot]:
    return [hot for device in run.document.devices for hot in device.hotspots]


def _cpu_ops(run: Run) -> list[Hotspot]:
    return run.document.host.cpu_op_hotspots


def _operator_block(
    before: list[Hotspot], after: list[Hotspot], base_steps: int, new_steps: int, top: int
) -> dict:
    """Rows aligned by (name, occurrence); deltas per step when both runs have steps, else totals."""
    old, new = _keyed(before), _keyed(after)
    per_step = bool(base_steps and new_steps)
    rows = [_operator_row(key, old.get(key), new.get(key), base_steps, new_steps, per_step)
            for key in dict.fromkeys([*old, *new])]  # fmt: skip
    changed = sorted(rows, key=lambda row: row["delta_ns"])
    return {
        "delta_is": "per step" if per_step else "total",
        "regressions": [r for r in reversed(changed) if r["delta_ns"] > 0][:top],
        "improvements": [r for r in changed if r["delta_ns"] < 0][:top],
        "appeared": [r["name"] for r in rows if r["status"] == "appeared"],
        "vanished": [r["name"] for r in rows if r["status"] == "vanished"],
        "aligned": rows,
    }


def _keyed(groups: list[Hotspot]) -> dict[tuple[str, int], Hotspot]:
    """Each group under (name, how many earlier groups had that name)."""
    seen: Counter[str] = Counter()
    keyed = {}
    for group in groups:
        keyed[(group.name, seen[group.name])] = group
        seen[group.name] += 1
    return keyed


def _operator_row(
    key: tuple[str, int],
    old: Hotspot | None,
    new: Hotspot | None,
    base_steps: int,
    new_steps: int,
    per_step: bool,
) -> dict[str, object]:
    name, occurrence = key
    old_total = old.total_ns if old else 0
    new_total = new.total_ns if new else 0
    delta = new_total / new_steps - old_total / base_steps if per_step else new_total - old_total
    return {
        "name": name,
        "occurrence": occurrence,
        "status": "appeared" if old is None else "vanished" if new is None else "both",
        "base_count": old.count if old else 0,
        "new_count": new.count if new else 0,
        "base_total_ns": old_total,
        "new_total_ns": new_total,
        "delta_ns": delta,
    }
