"""The metric paths a budget can name: how to read each from a run, its unit, which way is worse,
and whether it is run-stable or wall-clock (docs/ci.md lists them).

Run-stable metrics (counts, bytes, device-side times) repeat between runs of unchanged code to a
fraction of a percent, so they are compared with the budget directly. Wall-clock metrics (host step
durations, anything whose window is host-paced) move by tens of percent between runs, so the noise
model (tracekit/compare/verdict.py) judges them with per-step samples and the run-to-run spread.
Values of several devices are summed (ratios are recomputed from the sums).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from fnmatch import fnmatchcase

import numpy as np

from tracekit.analysis.document.device import Device
from tracekit.compare.run import Run
from tracekit.compare.samples import DIRECTIONS

RUN_STABLE = "run-stable"
WALL_CLOCK = "wall-clock"
OPERATOR_FIELDS = ("total_per_step_ns", "count_per_step")
OPERATOR_PATH = re.compile(rf"""^op\[(["'])(?P<pattern>.+)\1\]\.(?P<field>{"|".join(OPERATOR_FIELDS)})$""")

Reader = Callable[[Run], float | None]
DeviceValue = Callable[[Device], float | None]


@dataclass(frozen=True)
class Metric:
    """One comparable number of a run."""

    path: str
    unit: str  # "ns", "count", "bytes" or "fraction"
    stability: str  # RUN_STABLE or WALL_CLOCK
    worse: int  # +1: an increase is worse; -1: a decrease is worse
    description: str
    value: Reader
    sample_key: str | None = None  # the per-step series of tracekit/compare/samples.py, if any
    absent_is_zero: bool = False  # an operator missing from a run counts as 0 there

    def samples(self, run: Run) -> np.ndarray | None:
        """The metric's per-step values in `run`, if it has a per-step series."""
        return None if self.sample_key is None else run.samples[self.sample_key]


def catalogue() -> list[Metric]:
    """Every fixed metric path, in documentation order (operator paths are built on demand)."""
    metrics = [_step_metric(stat) for stat in ("p50", "p90", "p99", "mean", "max")]
    metrics += [
        Metric("utilization", "fraction", WALL_CLOCK, -1, "device busy / |W| (W is paced by the host)",
               _utilization, "utilization"),
        Metric("bubbles.total_ns", "ns", WALL_CLOCK, +1, "idle time inside W",
               _device_sum(lambda d: d.bubbles.total_ns), "idle_ns"),
        Metric("bubbles.count", "count", RUN_STABLE, +1, "idle intervals inside W",
               _device_sum(lambda d: d.bubbles.count)),
        Metric("device.busy_per_step_ns", "ns", RUN_STABLE, +1, "|union of device operations| / steps",
               _per_step(_device_sum(lambda d: d.busy_ns)), "busy_ns"),
        Metric("kernel.total_per_step_ns", "ns", RUN_STABLE, +1, "sum of kernel durations / steps",
               _per_step(_kernel_total), "kernel_ns"),
        Metric("memset.count", "count", RUN_STABLE, +1, "memsets", _device_sum(lambda d: d.memset.count)),
        Metric("kernel.count_per_step", "count", RUN_STABLE, +1, "kernels (collectives included) per step",
               _sample_mean("kernels"), "kernels"),
        Metric("host.launch_calls_per_step", "count", RUN_STABLE, +1,
               "host calls that launched device work (kernels, copies, memsets, graphs) per step",
               _sample_mean("launch_calls"), "launch_calls"),
        Metric("host.graph_launches_per_step", "count", RUN_STABLE, -1, "CUDA graph launches per step",
               _sample_mean("graph_launches"), "graph_launches"),
        Metric("host.sync_calls_per_step", "count", RUN_STABLE, +1, "host synchronize calls per step",
               _sample_mean("sync_calls"), "sync_calls"),
        Metric("host.cpu_ops_per_step", "count", RUN_STABLE, +1, "CPU operators per step",
               _sample_mean("cpu_ops"), "cpu_ops"),
        Metric("host.cpu_per_step_ns", "ns", WALL_CLOCK, +1,
               "busy time of the thread launching most device work, net of its synchronize calls, per step",
               _sample_mean("host_cpu_ns"), "host_cpu_ns"),
        Metric("h2d.exposed_per_step_ns", "ns", RUN_STABLE, +1, "H2D copy time not under kernels / steps",
               _per_step(_device_sum(lambda d: d.h2d.exposed_ns))),
    ]  # fmt: skip
    for key in DIRECTIONS:
        metrics += _copy_metrics(key)
    return metrics


def lookup(path: str) -> Metric:
    """The metric a budget names; ValueError naming the known paths when there is none."""
    match = OPERATOR_PATH.match(path)
    if match:
        return _operator_metric(path, match["pattern"], match["field"])
    for metric in catalogue():
        if metric.path == path:
            return metric
    raise ValueError(f"unknown metric path {path!r} (known: {', '.join(known_paths())})")


def known_paths() -> list[str]:
    """Every path a budget can name; operator paths with PATTERN in place of a name pattern."""
    return [metric.path for metric in catalogue()] + [f'op["PATTERN"].{field}' for field in OPERATOR_FIELDS]


def _step_metric(stat: str) -> Metric:
    description = f"{stat} of host step durations (ProfilerStep spans)"
    return Metric(f"step.{stat}", "ns", WALL_CLOCK, +1, description, _step_stat(stat), "duration_ns")


def _copy_metrics(key: str) -> list[Metric]:
    name = key.upper()
    count = _device_sum(lambda d: d.copies(key).count)
    per_step = _device_sum(lambda d: d.copies(key).per_step)
    size = _device_sum(lambda d: d.copies(key).bytes)
    return [
        Metric(f"{key}.count", "count", RUN_STABLE, +1, f"{name} copies", count),
        Metric(f"{key}.per_step", "count", RUN_STABLE, +1, f"{name} copies per step", per_step,
               f"{key}_count"),
        Metric(f"{key}.bytes", "bytes", RUN_STABLE, +1, f"{name} bytes", size),
        Metric(f"{key}.bytes_per_step", "bytes", RUN_STABLE, +1, f"{name} bytes / steps",
               _per_step(size), f"{key}_bytes"),
        Metric(f"{key}.share_of_busy", "fraction", RUN_STABLE, +1, f"|union of {name} copies| / device busy",
               _share_of_busy(key)),
    ]  # fmt: skip


def _operator_metric(path: str, pattern: str, field: str) -> Metric:
    def value(run: Run) -> float | None:
        matched = [hot for device in run.document.devices for hot in device.hotspots
                   if fnmatchcase(hot.name, pattern)]  # fmt: skip
        if not matched or not run.steps:
            return None
        total = field == "total_per_step_ns"
        return sum(hot.total_ns if total else hot.count for hot in matched) / run.steps

    unit = "ns" if field == "total_per_step_ns" else "count"
    description = f"kernels whose short name matches {pattern!r}: {field.replace('_', ' ')}"
    return Metric(path, unit, RUN_STABLE, +1, description, value, absent_is_zero=True)


def _step_stat(stat: str) -> Reader:
    return lambda run: getattr(run.document.steps.duration_ns, stat)


def _device_sum(read: DeviceValue) -> Reader:
    """Sum over devices of `read(device)`; None when no device has it."""

    def value(run: Run) -> float | None:
        found = [read(device) for device in run.document.devices]
        found = [v for v in found if v is not None]
        return float(sum(found)) if found else None

    return value


def _per_step(total: Reader) -> Reader:
    def value(run: Run) -> float | None:
        amount = total(run)
        return None if amount is None or not run.steps else amount / run.steps

    return value


def _sample_mean(key: str) -> Reader:
    """The mean per step of one of the run's per-step samples (tracekit/compare/samples.py)."""

    def value(run: Run) -> float | None:
        values = run.samples.get(key)
        return float(np.mean(values)) if values is not None and len(values) else None

    return value


def _kernel_total(run: Run) -> float | None:
    devices = run.document.devices
    return float(sum(hot.total_ns for d in devices for hot in d.hotspots)) if devices else None


def _utilization(run: Run) -> float | None:
    busy, window = _device_sum(lambda d: d.busy_ns)(run), _device_sum(lambda d: d.window_ns)(run)
    return busy / window if busy is not None and window else None


def _share_of_busy(key: str) -> Reader:
    def value(run: Run) -> float | None:
        copies = _device_sum(lambda d: d.copies(key).busy_ns)(run)
        busy = _device_sum(lambda d: d.busy_ns)(run)
        return copies / busy if copies is not None and busy else None

    return value
