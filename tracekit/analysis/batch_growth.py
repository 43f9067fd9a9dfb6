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

import numpy as np
import pyarrow as pa

from tracekit.analysis.columns import Columns
from tracekit.analysis.operator_links import operator_rows
from tracekit.analysis.precision import INPUT_COLUMNS, operator_call
from tracekit.analysis.roofline import precision, unit_times
from tracekit.model.schema import NONE, Kind
from tracekit.perfmodel import estimate, has_model
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
    by_owner: dict[int, list[int]] = defaultdict(list)
    for kernel, owner in zip(kernels.tolist(), owners.tolist(), strict=True):
        if owner != NONE:
            by_owner[owner].append(kernel)
    text = {c: table.column(c).combine_chunks() for c in INPUT_COLUMNS}
    costs = _Costs(cols, text)
    factors: dict[int, float] = {}
    for owner, rows in by_owner.items():
        share = _roofline_share(cols, costs.of(owner), rows, row)
        if share is not None:
            factors.update(dict.fromkeys(rows, 1.0 + share))
    return factors


class _Costs:
    """Each operator's modelled cost, estimated once per distinct call (name, shapes, dtypes,
    values): a model's operators repeat every step."""

    def __init__(self, cols: Columns, text: dict[str, pa.DictionaryArray]) -> None:
        self.cols, self.text, self.known = cols, text, {}
        self.codes = [text[c].indices.to_numpy(zero_copy_only=False) for c in INPUT_COLUMNS]

    def of(self, owner: int) -> Cost | None:
        key = (int(self.cols.name_code[owner]), *(int(codes[owner]) for codes in self.codes))
        if key not in self.known:
            call = operator_call(self.cols, self.text, owner)
            self.known[key] = estimate(call) if call is not None else None
        return self.known[key]


def _roofline_share(cols: Columns, cost: Cost | None, rows: list[int], row: Hardware) -> float | None:
    """The operator's roofline time over its kernels' time, at most 1; None without a model."""
    device_ns = int(np.sum(cols.dur[rows]))
    limit = _roofline_ns(cost, cols, rows, row) if cost is not None else None
    if limit is None or device_ns <= 0:
        return None
    return min(limit / device_ns, 1.0)


def _roofline_ns(cost: Cost, cols: Columns, rows: list[int], row: Hardware) -> float | None:
    memory_ns = cost.bytes / row.memory_gbps
    if cost.flops is None:
        return memory_ns
    names = {cols.names[cols.name_code[r]]: (int(cols.dur[r]), 1) for r in rows}
    peak = row.peak(precision(cost.dtype, unit_times(names, cost.dtype)))
    return max(cost.flops / (peak * 1e3), memory_ns) if peak else None
