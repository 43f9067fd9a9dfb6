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
- operators without a model, or of another dtype: 1;
- copies to or from the host and collectives: 1 (the host's data and the gradients keep their dtype).

Elementwise operators run in bf16 only downstream of an operator autocast runs in bf16: a device
with no fp32 matmul, convolution or attention gets no factors at all.

No kernel gets shorter than the device's shortest kernel (its fixed cost). Autocast also casts each
fp32 input of the operators it runs in bf16, every step: one cast kernel per input (reading 4 and
writing 2 bytes per element at the memory bandwidth, no shorter than the shortest kernel) launched
before the operator, for the host cost of one launch (`casts`). Without recorded dtypes
(record_shapes=False) nothing is predicted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from tracekit.analysis.columns import Columns
from tracekit.analysis.operator_links import operator_rows
from tracekit.analysis.row_values import RowValues
from tracekit.model.arrays import numeric
from tracekit.model.distinct import distinct_rows
from tracekit.model.schema import NONE, CopyDirection, Kind
from tracekit.model.trace import whole_column
from tracekit.perfmodel import COMPUTE_FAMILIES, estimate, has_model
from tracekit.perfmodel.calls import OpCall, kineto_call, nbytes
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
INPUT_COLUMNS = ("input_shapes", "input_dtypes", "input_values")
Calls = list[tuple[OpCall | None, Cost | None]]
"""Per group of equal operator calls: its call and its modelled cost (None: none)."""


@dataclass(frozen=True)
class Bf16:
    """What bf16 autocast does to a device's work: each shortened operation's factor (by table row),
    and before the first kernel of each autocast operator, the durations of the casts it adds (the
    index of its list among `cast_lists`, by table row). Arrays, not dicts: a 10 GB trace has
    millions of such operations, and a step's edit reads its own few (`among`)."""

    factors: RowValues = field(default_factory=lambda: NO_FACTORS)
    casts: RowValues = field(default_factory=lambda: NO_CASTS)
    cast_lists: tuple[tuple[int, ...], ...] = ()

    @staticmethod
    def of(factors: Mapping[int, float], casts: Mapping[int, Sequence[int]]) -> Bf16:
        """The effects given as dicts: row -> factor, row -> cast durations."""
        lists = tuple(tuple(durations) for durations in casts.values())
        indices = RowValues.of(np.fromiter(casts, np.int64, len(casts)), np.arange(len(casts)))
        return Bf16(RowValues.of_mapping(factors), indices, lists)

    def among(self, rows: np.ndarray) -> tuple[dict[int, float], dict[int, tuple[int, ...]]]:
        """The factors and the casts (row -> durations) of those of `rows` that have them."""
        casts = {row: self.cast_lists[i] for row, i in self.casts.among(rows).items()}
        return self.factors.among(rows), casts


NO_FACTORS = RowValues.of_mapping({})
NO_CASTS = RowValues.of(np.empty(0, np.int64), np.empty(0, np.int64))


def bf16_effects(table: pa.Table, cols: Columns, device: int, row: Hardware | None) -> Bf16:
    """The factors and the casts of bf16 autocast on `device` (module docstring), each worked out once
    per distinct call and kernel name (a model's operators repeat every step)."""
    if row is None or row.peak("bf16") is None or not set(INPUT_COLUMNS) <= set(table.column_names):
        return Bf16()
    work = _device_work(cols, device)
    owner = operator_rows(table, cols, work, has_model)
    ops, owner = work[owner != NONE], owner[owner != NONE]
    cpus, first, of_op = np.unique(owner, return_index=True, return_inverse=True)
    group, calls = operator_calls(table, cols).call_groups(cpus)
    floor = _shortest(cols, work)
    casts, cast_lists = _casts(ops, first, group, calls, floor, row)  # group: of each of `cpus`
    if len(casts) == 0:  # nothing autocast runs in bf16: no operator gets bf16 inputs either
        return Bf16()
    factor = _factors(cols, ops, group[of_op.reshape(-1)], calls, row)
    shortened = factor < 1
    return Bf16(_with_floor(ops[shortened], factor[shortened], cols, floor), casts, cast_lists)


def _factors(cols: Columns, ops: np.ndarray, group: np.ndarray, calls: Calls, row: Hardware) -> np.ndarray:
    """Each operation's bf16 factor (`_factor`), by its operator's group of equal calls and its name."""
    firsts, pair = distinct_rows(group, cols.name_code[ops])
    names = [cols.names[code] for code in cols.name_code[ops[firsts]].tolist()]
    pairs = [calls[g] for g in group[firsts].tolist()]
    factor = [
        _factor(cost, call.name if call else "", kernel, row)
        for (call, cost), kernel in zip(pairs, names, strict=True)
    ]
    return np.array(factor, dtype=np.float64)[pair]


def _casts(
    ops: np.ndarray,
    first: np.ndarray,
    group: np.ndarray,
    calls: Calls,
    floor: int,
    row: Hardware,
) -> tuple[RowValues, tuple[tuple[int, ...], ...]]:
    """Before the first operation of each operator autocast runs in bf16 (`first`: each distinct
    operator's first operation, `group`: its calls' group), the durations of its fp32 inputs' casts:
    those operations' rows, each with the index of its group's durations among the lists."""
    lists: list[tuple[int, ...]] = []
    index_of = np.full(len(calls), -1, dtype=np.int64)
    for g in np.unique(group).tolist():
        call, cost = calls[g]
        if cost is not None and _autocast_runs_in_bf16(cost, call.name):
            index_of[g] = len(lists)
            lists.append(tuple(_cast_ns(shape, floor, row) for shape in _fp32_inputs(call)))
    cast = index_of[group] >= 0
    return RowValues.of(ops[first[cast]], index_of[group[cast]]), tuple(lists)


def _cast_ns(shape: tuple[int, ...], floor: int, row: Hardware) -> int:
    """The cast of one fp32 input to bf16: reading 4 and writing 2 bytes per element."""
    return max(floor, round(1.5 * nbytes(shape, "fp32") / row.memory_gbps))


def _device_work(cols: Columns, device: int) -> np.ndarray:
    """The device's operations whose dtype autocast can change: kernels, memsets and device-to-device
    copies (not copies to or from the host, whose data stays as the host holds it, nor collectives)."""
    ops = cols.device_ops(device)
    host_copy = (cols.kind[ops] == Kind.MEMCPY) & np.isin(
        cols.copy_direction[ops], [CopyDirection.H2D, CopyDirection.D2H]
    )
    return ops[~host_copy & (cols.kind[ops] != Kind.COMMUNICATION)]


class OperatorCalls:
    """Each CPU operator's recorded call and modelled cost, parsed and estimated once per distinct
    call (name, shapes, dtypes, values; a model's operators repeat every step), for all the analyses
    of one table (`operator_calls`)."""

    def __init__(self, table: pa.Table, cols: Columns) -> None:
        self.cols, self.known = cols, {}
        self.text = {c: whole_column(table, c) for c in INPUT_COLUMNS}
        self.codes = [_codes(self.text[c]) for c in INPUT_COLUMNS]

    def cost_groups(self, rows: np.ndarray) -> tuple[np.ndarray, list[Cost | None]]:
        """For CPU operator rows, each one's group of equal calls and each group's cost."""
        group, calls = self.call_groups(rows)
        return group, [cost for _, cost in calls]

    def call_groups(self, rows: np.ndarray) -> tuple[np.ndarray, Calls]:
        """For CPU operator rows, each one's group of equal calls and each group's call and cost."""
        if len(rows) == 0:
            return np.empty(0, dtype=np.int64), []
        first, group = distinct_rows(self.cols.name_code[rows], *(codes[rows] for codes in self.codes))
        return group, [self.of(int(rows[i])) for i in first.tolist()]

    def of(self, cpu: int) -> tuple[OpCall | None, Cost | None]:
        """The call of the CPU operator at row `cpu` and its cost (None: no model covers it)."""
        key = (int(self.cols.name_code[cpu]), *(int(codes[cpu]) for codes in self.codes))
        if key not in self.known:
            call = operator_call(self.cols, self.text, cpu)
            self.known[key] = (call, estimate(call) if call is not None else None)
        return self.known[key]


def _codes(text: pa.DictionaryArray) -> np.ndarray:
    """Each row's code, -1 where null (no copy when there is none)."""
    return numeric(text.indices, null=-1)


def operator_calls(table: pa.Table, cols: Columns) -> OperatorCalls:
    """The table's `OperatorCalls`, made on first use and kept in `cols.derived`."""
    key = ("operator_calls", id(table))
    if key not in cols.derived:
        cols.derived[key] = (table, OperatorCalls(table, cols))  # the table held: its id is not reused
    return cols.derived[key][1]


def operator_call(cols: Columns, text: dict[str, pa.DictionaryArray], cpu: int) -> OpCall | None:
    """The recorded call of the CPU operator at row `cpu` (name, shapes, dtypes, values)."""
    shapes, dtypes, values = (str(text[c][cpu].as_py() or "") for c in INPUT_COLUMNS)
    return kineto_call(cols.names[cols.name_code[cpu]], shapes, dtypes, values)


def _autocast_runs_in_bf16(cost: Cost, name: str) -> bool:
    return cost.dtype == "fp32" and cost.family in COMPUTE_FAMILIES and name not in KEPT_IN_FP32


def _fp32_inputs(call: OpCall) -> list[tuple[int, ...]]:
    return [shape for shape, dtype in call.tensors() if dtype == "fp32"]


def _shortest(cols: Columns, ops: np.ndarray) -> int:
    positive = cols.dur[ops][cols.dur[ops] > 0]
    return int(positive.min()) if len(positive) else 0


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


def _with_floor(rows: np.ndarray, factor: np.ndarray, cols: Columns, floor: int) -> RowValues:
    """The shortened operations' factors (by table row), raised so that none gets shorter than the
    device's shortest kernel `floor`, and none kept for an operation that is no longer than it."""
    dur = cols.dur[rows]
    kept = dur > floor  # floor >= 0: every kept duration is positive
    raised = np.maximum(factor[kept], floor / dur[kept])
    return RowValues.of(rows[kept], raised)
