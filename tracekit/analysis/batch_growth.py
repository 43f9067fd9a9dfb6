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

import numpy as np
import pyarrow as pa

from tracekit.analysis.columns import Columns
from tracekit.analysis.operator_links import operator_rows
from tracekit.analysis.precision import INPUT_COLUMNS, operator_calls
from tracekit.analysis.roofline import precision
from tracekit.analysis.row_values import RowValues
from tracekit.model.schema import NONE, Kind
from tracekit.perfmodel import has_model
from tracekit.perfmodel.cost import Cost
from tracekit.perfmodel.hardware import Hardware
from tracekit.perfmodel.tensor_cores import SIMT, TENSOR, kernel_unit


def doubled_work_factors(table: pa.Table, cols: Columns, device: int, row: Hardware | None) -> RowValues:
    """For each kernel (table row) of `device` whose operator has a model: 1 + u (module docstring).

    Per distinct call one cost, per operator one roofline share (array passes over the kernels)."""
    if row is None or row.memory_gbps is None or not set(INPUT_COLUMNS) <= set(table.column_names):
        return RowValues.of_mapping({})
    kernels = cols.device_ops(device)
    kernels = kernels[cols.kind[kernels] == Kind.KERNEL]
    owners = operator_rows(table, cols, kernels, has_model)
    kernels, owners = kernels[owners != NONE], owners[owners != NONE]
    if len(kernels) == 0:
        return RowValues.of_mapping({})
    distinct, owner_of = np.unique(owners, return_inverse=True)
    group, costs = operator_calls(table, cols).cost_groups(distinct)
    tf32 = _tensor_over_simt(cols, kernels, owner_of, len(distinct))
    limits, known = _roofline_ns(costs, group, tf32, row)
    device_ns = np.bincount(owner_of, weights=cols.dur[kernels], minlength=len(distinct))  # exact below 2**53
    valid = known & (device_ns > 0)
    share = np.minimum(limits / np.where(valid, device_ns, 1), 1.0)
    keep = valid[owner_of]
    return RowValues.of(kernels[keep], 1.0 + share[owner_of[keep]])


def _tensor_over_simt(cols: Columns, kernels: np.ndarray, owner_of: np.ndarray, count: int) -> np.ndarray:
    """Per operator: does its kernels' tensor-core time exceed their SIMT time, each distinct kernel
    name counted once with the duration of its last kernel (the fp32 rule of roofline.precision)."""
    first_code = {}
    for code, name in enumerate(cols.names):
        first_code.setdefault(name, code)
    names = np.array([first_code[name] for name in cols.names] or [0])[
        cols.name_code[kernels]
    ]  # one per text
    order = np.lexsort((np.arange(len(kernels)), names, owner_of))
    owner, name = owner_of[order], names[order]
    picked = order[np.r_[(owner[1:] != owner[:-1]) | (name[1:] != name[:-1]), True]]
    unit_of = {code: kernel_unit(cols.names[code], "fp32") for code in np.unique(names).tolist()}
    units = np.array([unit_of[code] for code in names[picked].tolist()], dtype=object)
    ns = cols.dur[kernels][picked].astype(np.float64)
    tensor = np.bincount(owner_of[picked], weights=np.where(units == TENSOR, ns, 0), minlength=count)
    simt = np.bincount(owner_of[picked], weights=np.where(units == SIMT, ns, 0), minlength=count)
    return tensor > simt


def _roofline_ns(
    costs: list[Cost | None], group: np.ndarray, tf32: np.ndarray, row: Hardware
) -> tuple[np.ndarray, np.ndarray]:
    """Per operator: max(FLOPs / peak, bytes / bandwidth) at the peak of its dtype (fp32 work on
    tensor cores: TF32), and whether it is known (a model and a peak)."""
    limits = np.zeros((len(costs), 2))  # [:, 1]: fp32 work counted as TF32
    known = np.zeros((len(costs), 2), dtype=bool)
    for g, cost in enumerate(costs):
        if cost is None:
            continue
        memory_ns = cost.bytes / row.memory_gbps
        for column, on_tensor_cores in enumerate((False, True)):
            peak = row.peak(precision(cost.dtype, {TENSOR: int(on_tensor_cores), SIMT: 0}))
            if cost.flops is None:
                limits[g, column], known[g, column] = memory_ns, True
            elif peak:
                limits[g, column], known[g, column] = max(cost.flops / (peak * 1e3), memory_ns), True
    column = tf32.astype(int)
    return limits[group, column], known[group, column]
