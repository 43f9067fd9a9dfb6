"""Scaled dot product attention (PyTorch SDPA and its flash / efficient / cuDNN kernels' ops).

query [..., L, E], key [..., S, E], value [..., S, Ev]; the leading dims (batch, heads) multiply.
FLOPs: 2 · E (Q·Kᵀ) + 2 · Ev (P·V) per unmasked score, times the leading dims. Without a mask every
one of the L·S scores counts; with is_causal (PyTorch's top-left aligned mask) row i keeps min(i + 1, S)
of them. Softmax and scaling are not counted. Bytes: query, key, value (and a mask) read once, the
output [..., L, Ev] written once.
"""

from __future__ import annotations

import math

from tracekit.perfmodel.calls import OpCall, io_bytes
from tracekit.perfmodel.cost import Cost, Model

FAMILY = "attention"


def causal_scores(length: int, keys: int) -> int:
    """Unmasked scores of a top-left causal mask: sum over rows i < L of min(i + 1, S)."""
    full_rows = min(length, keys)
    return full_rows * (full_rows + 1) // 2 + (length - full_rows) * keys


def attention_cost(call: OpCall, causal_index: int) -> Cost | None:
    q, k, v = call.tensor(0), call.tensor(1), call.tensor(2)
    if q is None or k is None or v is None or len(q) < 2 or len(k) < 2 or len(v) < 2:
        return None
    length, depth, keys, value_depth = q[-2], q[-1], k[-2], v[-1]
    if k[-1] != depth or v[-2] != keys:
        return None
    heads = math.prod(q[:-2])
    scores = causal_scores(length, keys) if call.flag(causal_index) else length * keys
    flops = 2 * heads * scores * (depth + value_depth)
    return Cost(FAMILY, flops, io_bytes(call, heads * length * value_depth), call.dtype())


def _model(causal_index: int) -> Model:
    return lambda call: attention_cost(call, causal_index)


MODELS: dict[str, Model] = {
    "aten::scaled_dot_product_attention": _model(5),
    "aten::_scaled_dot_product_flash_attention": _model(4),
    "aten::_scaled_dot_product_efficient_attention": _model(6),
    "aten::_scaled_dot_product_cudnn_attention": _model(6),
}
