"""Matmul family: mm, addmm, bmm, baddbmm, matmul (with broadcasting), linear; Ascend MatMul ops.

FLOPs are 2·M·N·K per product (one multiply and one add per term), plus M·N for an added bias
(addmm, baddbmm, linear with bias). Bytes: every input read once and the output written once.
"""

from __future__ import annotations

import math

from tracekit.perfmodel.calls import OpCall, Shape, broadcast, io_bytes
from tracekit.perfmodel.cost import Cost, Model

FAMILY = "matmul"


def _cost(call: OpCall, batch: int, m: int, n: int, k: int, bias: bool) -> Cost:
    flops = 2 * batch * m * n * k + (batch * m * n if bias else 0)
    return Cost(FAMILY, flops, io_bytes(call, batch * m * n), call.dtype())


def mm(call: OpCall) -> Cost | None:
    a, b = call.tensor(0), call.tensor(1)
    if a is None or b is None or len(a) != 2 or len(b) != 2 or a[1] != b[0]:
        return None
    return _cost(call, 1, a[0], b[1], a[1], bias=False)


def addmm(call: OpCall) -> Cost | None:
    """addmm(bias, a[M,K], b[K,N], beta, alpha)."""
    a, b = call.tensor(1), call.tensor(2)
    if a is None or b is None or len(a) != 2 or len(b) != 2 or a[1] != b[0]:
        return None
    return _cost(call, 1, a[0], b[1], a[1], bias=True)


def bmm(call: OpCall) -> Cost | None:
    return _batched(call, 0, bias=False)


def baddbmm(call: OpCall) -> Cost | None:
    """baddbmm(bias, a[B,M,K], b[B,K,N], beta, alpha)."""
    return _batched(call, 1, bias=True)


def _batched(call: OpCall, first: int, bias: bool) -> Cost | None:
    a, b = call.tensor(first), call.tensor(first + 1)
    if a is None or b is None or len(a) != 3 or len(b) != 3 or a[0] != b[0] or a[2] != b[1]:
        return None
    return _cost(call, a[0], a[1], b[2], a[2], bias)


def matmul(call: OpCall) -> Cost | None:
    """torch.matmul: 1-D operands gain then lose a unit dimension; batch dimensions broadcast."""
    a, b = call.tensor(0), call.tensor(1)
    if a is None or b is None or not a or not b:
        return None
    return _broadcast_product(call, a, b, bias=False)


def linear(call: OpCall) -> Cost | None:
    """linear(x[..., K], weight[N, K], bias[N] or None): rows = the product of x's leading dims."""
    x, w = call.tensor(0), call.tensor(1)
    if x is None or w is None or not x or len(w) != 2 or x[-1] != w[1]:
        return None
    rows = math.prod(x[:-1])
    return _cost(call, 1, rows, w[0], w[1], bias=call.tensor(2) is not None)


def _broadcast_product(call: OpCall, a: Shape, b: Shape, bias: bool) -> Cost | None:
    left = a if len(a) > 1 else (1, a[0])
    right = b if len(b) > 1 else (b[0], 1)
    if left[-1] != right[-2]:
        return None
    batch = broadcast(left[:-2], right[:-2])
    if batch is None:
        return None
    return _cost(call, math.prod(batch), left[-2], right[-1], left[-1], bias)


def ascend_matmul(call: OpCall) -> Cost | None:
    """Ascend MatMul / BatchMatMul: the transposes are not recorded, so K is the dimension the two
    operands share (a[-1] with b[-2], else a transposed or b transposed); a third tensor is a bias."""
    a, b = call.tensor(0), call.tensor(1)
    if a is None or b is None or len(a) < 2 or len(b) < 2:
        return None
    for left_t, right_t in ((False, False), (False, True), (True, False), (True, True)):
        left = (*a[:-2], a[-1], a[-2]) if left_t else a
        right = (*b[:-2], b[-1], b[-2]) if right_t else b
        if left[-1] == right[-2]:
            return _broadcast_product(call, left, right, bias=call.tensor(2) is not None)
    return None


MODELS: dict[str, Model] = {
    "aten::mm": mm,
    "aten::addmm": addmm,
    "aten::bmm": bmm,
    "aten::baddbmm": baddbmm,
    "aten::matmul": matmul,
    "aten::linear": linear,
    **dict.fromkeys(("MatMul", "MatMulV2", "MatMulV3", "BatchMatMul", "BatchMatMulV2"), ascend_matmul),
}
