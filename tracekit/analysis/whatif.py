"""What-if estimates: replay steps with one change applied and report the predicted step time.

Each change (tracekit/analysis/changes.py) edits the replay model of a step
(tracekit/analysis/replay.py). The `whatif` block of the analysis gives, per change, the median
measured and predicted step time over the replayed steps, the share f of the step's critical path
the change claims and its Amdahl bound 1 / (1 - f); the critical-path attribution of the steps; the
plan (the changes applied one after another) and the changes that act on one cause
(tracekit/analysis/plan.py). The rules (tracekit/rules/) turn these into ranked recommendations.
docs/metrics.md, "What-if estimates".
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from tracekit.analysis.attribution import CATEGORIES, Segment, attribution, median_attribution
from tracekit.analysis.calibration import HOST_CATEGORIES, calibrated
from tracekit.analysis.changes import (
    BATCH_FACTOR,
    CopyCost,
    Edit,
    batch_h2d,
    bigger_batch,
    graph_launch,
    interval_arrays,
    mixed_precision,
    overlap_copies,
    pin_memory,
    remove_host_syncs,
    static_shapes,
)
from tracekit.analysis.columns import Columns
from tracekit.analysis.copies import host_memory
from tracekit.analysis.plan import causes, claimed, plan, step_path
from tracekit.analysis.precision import Bf16, bf16_effects
from tracekit.analysis.replay import StepModel, build_step, replay
from tracekit.model.intervals import clip, total_length, union
from tracekit.model.schema import NONE, CopyDirection, Kind, MemoryKind
from tracekit.model.steps import step_spans
from tracekit.perfmodel.hardware import Hardware

MAX_REPLAYED_STEPS = 32
MAX_STEP_OPS = 20_000  # steps with more device operations are not replayed (time)
MAX_INSTANCES = 8
SHORT_KERNEL_NS = 10_000  # kernels shorter than this are dominated by fixed costs
LATENCY_CHANGES = (
    "batch_h2d",
    "pin_memory",
    "overlap_copies",
    "graph_launch",
    "remove_host_syncs",
    "static_shapes",
    "mixed_precision",
)
"""Changes that shorten a step (the plan applies them); bigger_batch trades latency for throughput."""


def whatif_block(
    table: pa.Table,
    cols: Columns,
    device: int,
    hardware: Hardware | None = None,
    unprofiled_ns: int | None = None,
) -> dict[str, object]:
    """Predicted step times for each change, over up to MAX_REPLAYED_STEPS steps of the trace (host
    time calibrated to `unprofiled_ns`, the step measured without the profiler, when given)."""
    models, calibration = calibrated(step_models(table, cols, device), cols, unprofiled_ns)
    paths = [step_path(model, cols) for model in models]
    cost = _copy_cost(cols, device)
    pinned = _pinned_cost(cols, device, hardware)
    edits = _latency_edits(cost, pinned, bf16_effects(table, cols, device, hardware))
    block: dict[str, object] = {name: _estimate(models, paths, cols, edit) for name, edit in edits.items()}
    floor = _kernel_floor(cols, device)
    block["bigger_batch"] = _estimate(models, paths, cols, lambda m, c: bigger_batch(m, c, cost, floor))
    block["bigger_batch"].update(_device_capacity(models, cols))
    block["bigger_batch"].update(_throughput_gain(block["bigger_batch"]))
    block["copy_cost"] = {
        "fixed_ns": cost.fixed_ns,
        "ns_per_byte": cost.ns_per_byte,
        "fitted_on": cost.fitted_on,
    }
    block["more_instances"] = more_instances(models, cols, paths)
    block["pipeline"] = pipeline_stages(models, cols)
    block["kernels"] = kernel_profile(cols, device, table)
    block["steps_replayed"] = len(models)
    block["calibration"] = calibration
    block["attribution"] = attribution_block(models, paths)
    block["plan"] = plan(models, cols, edits)
    block["causes"] = causes(_claims_of_median_step(models, paths, cols, edits))
    return block


def _latency_edits(cost: CopyCost, pinned: CopyCost | None, bf16: Bf16) -> dict[str, Edit]:
    return {
        "batch_h2d": lambda m, c: batch_h2d(m, c, cost),
        "pin_memory": lambda m, c: pin_memory(m, c, pinned) if pinned else None,
        "overlap_copies": overlap_copies,
        "graph_launch": graph_launch,
        "remove_host_syncs": remove_host_syncs,
        "static_shapes": static_shapes,
        "mixed_precision": lambda m, c: mixed_precision(m, c, bf16),
    }


def _copy_cost(cols: Columns, device: int) -> CopyCost:
    """The copy cost fitted on the pinned H2D copies when they have two sizes or more, else on all."""
    h2d = _h2d_rows(cols, device)
    pinned = h2d[host_memory(cols, h2d) == MemoryKind.PINNED]
    return fit_copy_cost(cols, pinned if len(np.unique(cols.bytes[pinned])) >= 2 else h2d)


def _pinned_cost(cols: Columns, device: int, hardware: Hardware | None) -> CopyCost | None:
    """What a copy from pinned memory costs: fitted on the trace's pinned H2D copies when they have
    two sizes or more, else the device's shortest operation plus bytes over the GPU's host link
    (hardware table); None when neither is known."""
    h2d = _h2d_rows(cols, device)
    pinned = h2d[host_memory(cols, h2d) == MemoryKind.PINNED]
    if len(np.unique(cols.bytes[pinned])) >= 2:
        return fit_copy_cost(cols, pinned)
    if hardware is None or hardware.host_link_gbps is None:
        return None
    fixed = float(_kernel_floor(cols, device))
    return CopyCost(
        fixed,
        1 / hardware.host_link_gbps,
        f"host link of the {hardware.name}, {hardware.host_link_gbps:g} GB/s",
    )


def _kernel_floor(cols: Columns, device: int) -> int:
    """The device's shortest kernel: the fixed cost a kernel takes whatever its work."""
    kernels = cols.kernels(cols.device_ops(device))
    positive = cols.dur[kernels][cols.dur[kernels] > 0]
    return int(positive.min()) if len(positive) else 0


def _claims_of_median_step(
    models: list[StepModel], paths: list[list[Segment]], cols: Columns, edits: dict[str, Edit]
) -> dict[str, object]:
    """Each change's claimed critical-path time on the median-length step."""
    if not models:
        return {}
    k = int(np.argsort([m.end - m.start for m in models], kind="stable")[len(models) // 2])
    claims = {}
    for name, edit in edits.items():
        edited = edit(models[k], cols)
        if edited is not None:
            claims[name] = claimed(paths[k], edited.targeted)
    return claims


def attribution_block(models: list[StepModel], paths: list[list[Segment]]) -> dict[str, object]:
    """Critical-path attribution of each replayed step and of the median one (ns per category)."""
    per_step = [attribution(path) for path in paths]
    return {
        "categories": list(CATEGORIES),
        "median_step": median_attribution(per_step),
        "steps": [{"step": model.step, **totals} for model, totals in zip(models, per_step, strict=True)],
    }


def _device_capacity(models: list[StepModel], cols: Columns) -> dict[str, object]:
    """The device time a BATCH_FACTOR times larger batch needs at least: the step's busy device time
    (every stream's work, other instances' too) times the factor; the replayed step cannot be
    shorter (the replay does not model streams contending for the device)."""
    if not models:
        return {}
    busy = float(np.median([_busy(cols, m.rows, m.start, m.end) for m in models]))
    return {"device_busy_ns": round(busy), "capacity_floor_ns": round(BATCH_FACTOR * busy)}


def _throughput_gain(estimate: dict[str, object]) -> dict[str, object]:
    """Samples per second gained by a BATCH_FACTOR times larger batch: factor x old / new step time,
    the new step no shorter than the device capacity floor."""
    if not estimate["applicable"] or not estimate["predicted_step_ns"]:  # a step of 0 ns gains nothing
        return {"factor": BATCH_FACTOR, "throughput_gain": None}
    estimate["predicted_step_ns"] = max(estimate["predicted_step_ns"], estimate.get("capacity_floor_ns", 0))
    gain = BATCH_FACTOR * estimate["baseline_step_ns"] / estimate["predicted_step_ns"]
    return {"factor": BATCH_FACTOR, "throughput_gain": gain, "amdahl_bound": float(BATCH_FACTOR)}


def step_models(table: pa.Table, cols: Columns, device: int) -> list[StepModel]:
    """Replay models of up to MAX_REPLAYED_STEPS evenly spaced steps that ran on `device` only."""
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


def _estimate(models: list[StepModel], paths: list[list[Segment]], cols: Columns, edit: Edit) -> dict:
    measured, predicted, shares = [], [], []
    for model, path in zip(models, paths, strict=True):
        edited = edit(model, cols)
        if edited is None:
            continue
        length = sum(segment.length for segment in path)  # the replayed step (= measured, uncalibrated)
        measured.append(length)
        predicted.append(max(replay(model, edited.entries, edited.detached), edited.floor_ns))
        shares.append(total_length(claimed(path, edited.targeted)) / max(length, 1))
    return _summary(measured, predicted, shares)


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


def more_instances(models: list[StepModel], cols: Columns, paths: list[list[Segment]]) -> dict[str, object]:
    """Throughput bound of identical instances: each resource can give at most step time / its busy
    time in a step: the compute engine, the copy engines, and the driving host thread (instances
    that are threads of one process share it: the interpreter lock, the runtime's locks)."""
    if not models:
        return {"applicable": False, "steps": 0}
    shares = np.array([_resource_shares(m, cols, p) for m, p in zip(models, paths, strict=True)])
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


def _resource_shares(model: StepModel, cols: Columns, path: list[Segment]) -> tuple[float, float, float]:
    """Busy share of the step for compute, copies and the driving host thread: the host's time on
    the step's critical path (launching, host work, synchronizing calls; not its waits)."""
    length = max(model.end - model.start, 1)
    kinds = cols.kind[model.rows]
    kernels = model.rows[np.isin(kinds, [Kind.KERNEL, Kind.COMMUNICATION, Kind.MEMSET])]
    copies = model.rows[kinds == Kind.MEMCPY]
    host_busy = sum(s.length for s in path if s.category in HOST_CATEGORIES)
    return _busy(cols, kernels) / length, _busy(cols, copies) / length, host_busy / length


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
    taken = union(*interval_arrays(host_calls + [(s, e) for s, e in zip(*device_busy, strict=True)]))
    return (model.end - model.start) - total_length(clip(taken, model.start, model.end))


def kernel_profile(cols: Columns, device: int, table: pa.Table | None = None) -> dict[str, object]:
    """Kernel durations, how much kernels of different streams run at the same time, and how many
    instances drive the device: host threads that launch compute kernels, each on streams of its
    own (one process's copy or communication streams are not instances)."""
    rows = np.flatnonzero((cols.device == device) & np.isin(cols.kind, [Kind.KERNEL, Kind.COMMUNICATION]))
    durations = cols.dur[rows]
    summed = int(durations.sum())
    compute = rows[cols.kind[rows] == Kind.KERNEL]
    return {
        "count": len(rows),
        "median_ns": float(np.median(durations)) if len(rows) else None,
        "short_share": float((durations < SHORT_KERNEL_NS).mean()) if len(rows) else None,
        "streams": len(np.unique(cols.stream[rows])),
        "compute_streams": len(np.unique(cols.stream[compute])),
        "instances": _instances(cols, compute, table),
        "sum_ns": summed,
        "union_ns": total_length(union(cols.start[rows], cols.end[rows])),
    }


def _instances(cols: Columns, kernels: np.ndarray, table: pa.Table | None) -> int:
    """Host threads whose launches put compute kernels on streams no other thread launches to."""
    calls = cols.launch[kernels]
    linked = calls != NONE
    if table is None or not linked.any():
        return 1 if len(kernels) else 0
    threads = np.stack(
        [table.column("process").to_numpy()[calls[linked]], table.column("thread").to_numpy()[calls[linked]]],
        axis=1,
    )
    pairs = np.unique(np.column_stack([threads, cols.stream[kernels[linked]]]), axis=0)
    shared_streams = np.unique(pairs[:, 2], return_counts=True)
    owned = pairs[np.isin(pairs[:, 2], shared_streams[0][shared_streams[1] == 1])]
    return max(len(np.unique(owned[:, :2], axis=0)), 1)


def _busy(cols: Columns, rows: np.ndarray, lo: int | None = None, hi: int | None = None) -> int:
    merged = union(cols.start[rows], cols.end[rows])
    return total_length(merged if lo is None else clip(merged, lo, hi))
