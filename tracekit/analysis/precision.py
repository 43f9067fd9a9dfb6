"""What running fp32 work in bf16 would do to each kernel (docs/metrics.md, "Mixed precision").

For every device operation launched by an fp32 CPU operator, the factor by which its duration would
shrink under bf16 autocast, from the operator's performance model and the GPU's peaks:

- operators autocast runs in bf16 (matmul, linear, convolution, attention): the operator's roofline
  time in bf16 over its roofline time as it ran, `max(FLOPs / peak_bf16, bytes / 2 / bandwidth) /
  max(FLOPs / peak_then, bytes / bandwidth)`, where peak_then is the TF32 peak for kernels that ran
  on tensor cores and the fp32 SIMT peak for the others; the achieved share of the roofline is
  assumed to stay. Layout and epilogue kernels of these operators move half the bytes: 1/2;
- operators autocast keeps in fp32 (softmax, normalizations with fp32 statistics, reductions,
  exp / log / pow): 1;
- other elementwise operators with a model (they then get bf16 inputs): half the bytes, 1/2;
- operators without a model, or of another dtype: 1.

No kernel gets shorter than the device's shortest kernel (its fixed cost). Without recorded dtypes
(record_shapes=False) nothing is predicted.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from tracekit.analysis.columns import Columns
from tracekit.analysis.operator_links import operator_rows
from tracekit.model.schema import NONE
from tracekit.perfmodel import COMPUTE_FAMILIES, estimate, has_model
from tracekit.perfmodel.calls import kineto_call
from tracekit.perfmodel.cost import Cost
from tracekit.perfmodel.hardware import Hardware
from tracekit.perfmodel.tensor_cores import OTHER, TENSOR, kernel_unit

KEPT_IN_FP32 = frozenset(
    {
        "aten::softmax", "aten::_softmax", "aten::log_softmax", "aten::_log_softmax",
        "aten::layer_norm", "aten::native_layer_norm", "aten::group_norm", "aten::native_group_norm",
        "aten::sum", "aten::mean", "aten::norm", "aten::exp", "aten::log", "aten::pow",
        "aten::cumsum", "aten::prod", "aten::rsqrt",
    }
)  # fmt: skip
"""PyTorch autocast's fp32 list (CUDA): these run in fp32 whatever their inputs."""
_INPUT_COLUMNS = ("input_shapes", "input_dtypes", "input_values")


def bf16_factors(table: pa.Table, cols: Columns, device: int, row: Hardware | None) -> dict[int, float]:
    """Table row of each device operation that bf16 would shorten -> its duration factor."""
    if row is None or row.peak("bf16") is None or not set(_INPUT_COLUMNS) <= set(table.column_names):
        return {}
    ops = cols.device_ops(device)
    owner = operator_rows(table, cols, ops, has_model)
    text = {c: table.column(c).combine_chunks() for c in _INPUT_COLUMNS}
    calls: dict[int, Cost | None] = {}
    factors: dict[int, float] = {}
    for op, cpu in zip(ops.tolist(), owner.tolist(), strict=True):
        if cpu == NONE:
            continue
        if cpu not in calls:
            calls[cpu] = _cost(cols, text, cpu)
        factor = _factor(calls[cpu], cols.names[cols.name_code[cpu]], cols.names[cols.name_code[op]], row)
        if factor < 1:
            factors[op] = factor
    return _with_floor(factors, cols, ops)


def _cost(cols: Columns, text: dict[str, pa.DictionaryArray], cpu: int) -> Cost | None:
    shapes, dtypes, values = (str(text[c][cpu].as_py() or "") for c in _INPUT_COLUMNS)
    return estimate(kineto_call(cols.names[cols.name_code[cpu]], shapes, dtypes, values))


def _factor(cost: Cost | None, operator: str, kernel: str, row: Hardware) -> float:
    if cost is None or cost.dtype != "fp32" or operator in KEPT_IN_FP32:
        return 1.0
    if cost.family not in COMPUTE_FAMILIES or cost.flops is None:
        return 0.5
    unit = kernel_unit(kernel, "fp32")
    if unit == OTHER:
        return 0.5
    then = row.peak("tf32" if unit == TENSOR else "fp32")
    if then is None or row.memory_gbps is None:
        return 1.0
    before = max(cost.flops / (then * 1e3), cost.bytes / row.memory_gbps)
    after = max(cost.flops / (row.peak("bf16") * 1e3), cost.bytes / 2 / row.memory_gbps)
    return min(after / before, 1.0) if before > 0 else 1.0


def _with_floor(factors: dict[int, float], cols: Columns, ops: np.ndarray) -> dict[int, float]:
    """Factors raised so that no kernel gets shorter than the device's shortest one."""
    if not factors or len(ops) == 0:
        return factors
    floor = int(cols.dur[ops][cols.dur[ops] > 0].min()) if (cols.dur[ops] > 0).any() else 0
    return {
        op: max(factor, floor / cols.dur[op]) if cols.dur[op] > 0 else 1.0
        for op, factor in factors.items()
        if cols.dur[op] > floor
    }
