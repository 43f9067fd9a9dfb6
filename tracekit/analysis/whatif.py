"""What-if estimates: replay steps with one change applied and report the predicted step time.

The changes (tracekit/analysis/changes.py: `Change`) come as a parameter: the rules own them
(tracekit/rules/library/, all of them in `tracekit.rules.CHANGES`). Each edits the replay model of
a step (tracekit/analysis/replay.py). The `whatif` block of the analysis gives, per change, the
median measured and predicted step time over the replayed steps, the share f of the step's critical
path the change claims and its Amdahl bound 1 / (1 - f) (a throughput lever's hook adds its
throughput gain); the critical-path attribution of the steps; the plan (the latency changes applied
one after another) and the changes that act on one cause (tracekit/analysis/plan.py); and the
change-independent estimates the throughput rules read (instances, pipeline stages, kernels).
Without changes, the block has no per-change estimates and an empty plan. docs/metrics.md,
"What-if estimates".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pyarrow as pa

from tracekit import resident
from tracekit.analysis.attribution import CATEGORIES, median_attribution
from tracekit.analysis.calibration import HOST_CATEGORIES, calibrated
from tracekit.analysis.changes import Change, ChangeInputs, Edit, Edited, busy_ns
from tracekit.analysis.columns import Columns
from tracekit.analysis.plan import causes, claimed, plan
from tracekit.analysis.replay import StepModel, host_scaled, model_identity, shared_replays
from tracekit.analysis.step_model import build_step
from tracekit.analysis.whatif_steps import Estimate, StepWork, median_step, step_work
from tracekit.gcpause import gc_paused
from tracekit.model.arrays import numeric
from tracekit.model.distinct import distinct_rows
from tracekit.model.intervals import Intervals, clip, holds_any, subtract, total_length, union
from tracekit.model.schema import NONE, Kind
from tracekit.model.steps import step_spans
from tracekit.perfmodel.hardware import Hardware

MAX_REPLAYED_STEPS = 32
MAX_STEP_OPS = 20_000  # steps with more device operations are not replayed (time)
MAX_INSTANCES = 8
MAX_WORKERS = 8  # host-stage workers the pipeline model suggests at most
SHORT_KERNEL_NS = 10_000  # kernels shorter than this are dominated by fixed costs


def whatif_block(
    table: pa.Table,
    cols: Columns,
    device: int,
    hardware: Hardware | None = None,
    unprofiled_ns: int | None = None,
    changes: Sequence[Change] = (),
) -> dict[str, object]:
    """Predicted step times for each change, over up to MAX_REPLAYED_STEPS steps of the trace (host
    time calibrated to `unprofiled_ns`, the step measured without the profiler, when given); the
    steps are shared with helpers on the spare cores (tracekit/analysis/whatif_steps.py)."""
    with gc_paused():  # the edits and replays make many acyclic objects, freed as they go
        built = step_models(table, cols, device)
        models, calibration = calibrated(built, cols, unprofiled_ns)
        # the calibration's bisection replays new scaled steps each time: outside the shared
        # replays, which hold every step they replayed until the block ends
        with shared_replays():  # the estimates, the plan and the claims edit and replay the same steps
            rebuilt = _rebuilder(table, cols, built, calibration)
            return _whatif_block(table, cols, device, hardware, (models, calibration, rebuilt), changes)


def _whatif_block(
    table: pa.Table,
    cols: Columns,
    device: int,
    hardware: Hardware | None,
    calibrated_models: tuple[list[StepModel], dict | None, Callable[[int], StepModel]],
    changes: Sequence[Change],
) -> dict[str, object]:
    models, calibration, rebuilt = calibrated_models
    inputs = ChangeInputs(table, cols, device, hardware)
    # each change's inputs read much of the table: a spilled one's pages are given back after each
    edits = {change.name: resident.after(_edit_of(change, inputs)) for change in changes}
    latency = {change.name: edits[change.name] for change in changes if change.latency}
    enabled_by = {c.name: c.enabled_by for c in changes if c.enabled_by}

    def step_independent() -> dict[str, object]:  # here, while helpers replay steps
        return {
            "pipeline": resident.after(pipeline_stages(models, cols)),
            "kernels": resident.after(kernel_profile(cols, device, table)),
            "plan": plan(models, cols, latency, enabled_by),
        }

    works, independent = step_work(models, cols, edits, rebuilt, step_independent)
    attributions = [work.attribution for work in works]
    block: dict[str, object] = {
        change.name: _change_estimate(change, models, works, inputs) for change in changes
    }
    cost = inputs.copy_cost
    block["copy_cost"] = {
        "fixed_ns": cost.fixed_ns,
        "ns_per_byte": cost.ns_per_byte,
        "fitted_on": cost.fitted_on,
    }
    block["more_instances"] = more_instances(models, cols, attributions)
    block["pipeline"] = independent["pipeline"]
    block["kernels"] = independent["kernels"]
    block["steps_replayed"] = len(models)
    block["calibration"] = calibration
    block["attribution"] = attribution_block(models, attributions)
    block["plan"] = independent["plan"]
    block["causes"] = causes(_claims_of_median_step(models, works, cols, latency))
    return block


def _rebuilder(
    table: pa.Table, cols: Columns, built: list[StepModel], calibration: dict | None
) -> Callable[[int], StepModel]:
    """A new model equal to the i-th calibrated one: built again from its step's span, then scaled."""
    k = calibration["host_scale"] if calibration else 1.0

    def rebuilt(i: int) -> StepModel:
        model = build_step(table, cols, built[i].step, built[i].start, built[i].end)
        return host_scaled(model, k) if k < 1.0 else model

    return rebuilt


def _edit_of(change: Change, inputs: ChangeInputs) -> Edit:
    """The change's edit on this device, made once per step (`_once`); one that edits no step when
    it cannot be predicted here."""
    edit = change.edit(inputs)
    return _no_edit if edit is None else _once(edit)


def _once(edit: Edit) -> Edit:
    """The edit, computed once per step model: the estimate, the plan's first round and the claims
    edit the same models. A model is keyed by its field values' identities (a `replace` copy with
    the same values is the same step) and held, so no id is reused; edits are pure functions of
    the model and the columns."""
    done: dict[tuple[int, ...], tuple[StepModel, Columns, Edited | None]] = {}

    def edited(model: StepModel, cols: Columns) -> Edited | None:
        key = (*model_identity(model), id(cols))
        if key not in done:
            done[key] = (model, cols, edit(model, cols))
        return done[key][2]

    return edited


def _no_edit(model: StepModel, cols: Columns) -> None:
    return None


def _change_estimate(
    change: Change, models: list[StepModel], works: list[StepWork], inputs: ChangeInputs
) -> dict:
    """The change's replayed estimate; a throughput lever's hook then adds its throughput gain."""
    estimate = _estimate([work.estimates[change.name] for work in works])
    return change.throughput(estimate, models, inputs) if change.throughput else estimate


def _claims_of_median_step(
    models: list[StepModel], works: list[StepWork], cols: Columns, edits: dict[str, Edit]
) -> dict[str, object]:
    """Each change's claimed critical-path time on the median-length step."""
    if not models:
        return {}
    k = median_step(models)
    claims = {}
    for name, edit in edits.items():
        edited = edit(models[k], cols)
        if edited is not None:
            claims[name] = claimed(works[k].on_path, edited.targeted)
    return claims


def attribution_block(models: list[StepModel], per_step: list[dict[str, int]]) -> dict[str, object]:
    """Critical-path attribution of each replayed step (`per_step`, ns per category) and of the
    median one."""
    return {
        "categories": list(CATEGORIES),
        "median_step": median_attribution(per_step),
        "steps": [{"step": model.step, **totals} for model, totals in zip(models, per_step, strict=True)],
    }


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


def _estimate(per_step: list[Estimate | None]) -> dict:
    """The change's median measured and predicted step and claimed share over the steps it edits."""
    applied = [estimate for estimate in per_step if estimate is not None]
    measured, predicted, shares = ([e[i] for e in applied] for i in range(3))
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


def more_instances(
    models: list[StepModel], cols: Columns, attributions: list[dict[str, int]]
) -> dict[str, object]:
    """Throughput bound of identical instances: each resource can give at most step time / its busy
    time in a step: the compute engine, the copy engines, and the driving host thread (instances
    that are threads of one process share it: the interpreter lock, the runtime's locks)."""
    if not models:
        return {"applicable": False, "steps": 0}
    pairs = zip(models, attributions, strict=True)
    shares = np.array([_resource_shares(m, cols, totals) for m, totals in pairs])
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


def _resource_shares(model: StepModel, cols: Columns, totals: dict[str, int]) -> tuple[float, float, float]:
    """Busy share of the step for compute, copies and the driving host thread: the host's time on
    the step's critical path (launching, host work, synchronizing calls; not its waits)."""
    length = max(model.end - model.start, 1)
    kinds = cols.kind[model.rows]
    kernels = model.rows[np.isin(kinds, [Kind.KERNEL, Kind.COMMUNICATION, Kind.MEMSET])]
    copies = model.rows[kinds == Kind.MEMCPY]
    host_busy = sum(totals[category] for category in HOST_CATEGORIES)
    return busy_ns(cols, kernels) / length, busy_ns(cols, copies) / length, host_busy / length


def pipeline_stages(models: list[StepModel], cols: Columns) -> dict[str, object]:
    """The host stage of a step (pre- and post-processing: CPU work of the driving thread that another
    worker could do, `_host_stage`) and the rest of it. One worker running the host stage of the
    next input while this one runs bounds the step at max(host, rest); k workers at
    max(host / k, rest), k the fewest that make the host stage no longer than the rest (at most
    MAX_WORKERS): throughput is 1 / the slowest stage."""
    if not models:
        return {"applicable": False, "steps": 0}
    host, device, lengths = [], [], []
    for model in models:
        busy = union(cols.start[model.rows], cols.end[model.rows])
        host.append(_host_stage(model, busy))
        device.append(total_length(clip(busy, model.start, model.end)))
        lengths.append(model.end - model.start)
    base, host_ns, device_ns = (float(np.median(v)) for v in (lengths, host, device))
    return {"applicable": True, "steps": len(models), **_stage_gains(base, host_ns, device_ns)}


def _stage_gains(base: float, host: float, device: float) -> dict[str, object]:
    rest = max(base - host, 1.0)
    workers = int(min(max(np.ceil(host / rest), 1), MAX_WORKERS))
    pipelined, parallel = max(host, rest), max(host / workers, rest)
    return {
        "baseline_step_ns": round(base),
        "host_stage_ns": round(host),
        "device_stage_ns": round(device),
        "rest_ns": round(rest),
        "predicted_step_ns": round(pipelined),
        "speedup": base / pipelined,
        "workers": workers,
        "workers_step_ns": round(parallel),
        "workers_speedup": base / parallel,
        "removable_share": host / base if base else 0.0,
        "amdahl_bound": base / rest,
    }


def _host_stage(model: StepModel, device_busy: Intervals) -> int:
    """Pre- and post-processing: time with the device idle and the host inside CPU work that launches
    nothing (CPU operations and annotations that hold no call: `record_function`, a DataLoader's
    `__next__`), outside every call and every operation that holds one, before the step's first
    launch or after its last call. Between those the host's work is the model's own code (view
    and metadata ops among the launches); its bare gaps are the launching code, the profiler's
    bookkeeping or a thread waiting for a hand-off: none of it is a stage another worker could run
    ahead."""
    entries = model.entry_spans
    spans = model.host_spans
    holds_a_call = holds_any(spans, entries)
    taken = union(
        np.concatenate([entries.starts, spans.starts[holds_a_call], device_busy.starts]),
        np.concatenate([entries.ends, spans.ends[holds_a_call], device_busy.ends]),
    )
    work = subtract(union(spans.starts[~holds_a_call], spans.ends[~holds_a_call]), taken)
    launches = [e for e in model.entries if e.ops]
    if not launches:
        return total_length(clip(work, model.start, model.end))
    first, last = min(e.a for e in launches), max(e.b for e in model.entries)
    return total_length(clip(work, model.start, first)) + total_length(clip(work, last, model.end))


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
        "instances": resident.after(_instances(cols, compute, table)),
        "sum_ns": summed,
        "union_ns": total_length(union(cols.start[rows], cols.end[rows])),
    }


def _instances(cols: Columns, kernels: np.ndarray, table: pa.Table | None) -> int:
    """Host threads whose launches put compute kernels on streams no other thread launches to."""
    calls = cols.launch[kernels]
    linked = calls != NONE
    if table is None or not linked.any():
        return 1 if len(kernels) else 0
    process = numeric(table.column("process"))[calls[linked]]
    thread = numeric(table.column("thread"))[calls[linked]]
    stream = cols.stream[kernels[linked]]
    first, _ = distinct_rows(process, thread, stream)  # each (process, thread, stream) once
    pairs = np.stack([process[first], thread[first], stream[first]], axis=1)
    shared_streams = np.unique(pairs[:, 2], return_counts=True)
    owned = pairs[np.isin(pairs[:, 2], shared_streams[0][shared_streams[1] == 1])]
    return max(len(distinct_rows(owned[:, 0], owned[:, 1])[0]), 1)
