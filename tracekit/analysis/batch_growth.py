"""How much a kernel's time grows when its operator's work doubles (docs/metrics.md, "Batch growth").

An operator whose kernels reach a share u of the GPU's roofline rate (its roofline time,
max(FLOPs / peak, bytes / bandwidth), over its kernels' time) leaves 1 - u of the device idle while
it runs: few thread blocks per SM, latency-bound loads. Twice the work can first fill that idle
capacity, so its kernels take (1 + u) times as long: about as long at u near 0 (launch- or
latency-bound), twice as long at u = 1 (at the roofline). This needs the operator's recorded
shapes and dtypes (record_shapes=True), a performance model for it (tracekit/perfmodel/) and the
GPU's peaks; other kernels get no factor (the bigger-batch change then doubles their time beyond
the device's shortest kernel).
"""

from __future__ import annotations

from collections import defaultdict

import pyarrow as pa

from tracekit.analysis.columns import Columns
from tracekit.analysis.operator_links import operator_rows
from tracekit.analysis.precision import INPUT_COLUMNS, operator_calls
from tracekit.analysis.roofline import precision, unit_times
from tracekit.model.schema import NONE, Kind
from tracekit.perfmodel import has_model
from tracekit.perfmodel.cost import Cost
from tracekit.perfmodel.hardware import Hardware


def doubled_work_factors(
    table: pa.Table, cols: Columns, device: int, row: Hardware | None
) -> dict[int, float]:
    """For each kernel (table row) of `device` whose operator has a model: 1 + u (module docstring)."""
    if row is None or row.memory_gbps is None or not set(INPUT_COLUMNS) <= set(table.column_names):
        return {}
    kernels = cols.device_ops(device)
    kernels = kernels[cols.kind[kernels] == Kind.KERNEL]
    owners = operator_rows(table, cols, kernels, has_model)
    names = [cols.names[code] for code in cols.name_code[kernels].tolist()]
    durations, rows = cols.dur[kernels].tolist(), kernels.tolist()
    by_owner: dict[int, list[int]] = defaultdict(list)  # positions in `kernels`
    for position, owner in enumerate(owners.tolist()):
        if owner != NONE:
            by_owner[owner].append(position)
    known = operator_calls(table, cols)
    factors: dict[int, float] = {}
    for owner, positions in by_owner.items():
        share = _roofline_share(known.of(owner)[1], [(names[i], durations[i]) for i in positions], row)
        if share is not None:
            factors.update(dict.fromkeys([rows[i] for i in positions], 1.0 + share))
    return factors


def _roofline_share(cost: Cost | None, kernels: list[tuple[str, int]], row: Hardware) -> float | None:
    """The operator's roofline time over its kernels' (name, duration) time, at most 1; None
    without a model."""
    device_ns = sum(ns for _, ns in kernels)
    limit = _roofline_ns(cost, kernels, row) if cost is not None else None
    if limit is None or device_ns <= 0:
        return None
    return min(limit / device_ns, 1.0)


def _roofline_ns(cost: Cost, kernels: list[tuple[str, int]], row: Hardware) -> float | None:
    memory_ns = cost.bytes / row.memory_gbps
    if cost.flops is None:
        return memory_ns
    # the kernels' execution units decide the peak of fp32 work only (tf32 on tensor cores)
    names = {name: (ns, 1) for name, ns in kernels} if cost.dtype == "fp32" else None
    peak = row.peak(precision(cost.dtype, unit_times(names, cost.dtype) if names is not None else None))
    return max(cost.flops / (peak * 1e3), memory_ns) if peak else None
