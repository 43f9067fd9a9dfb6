"""Elementwise ops (bytes only): every tensor input read once, the broadcast output written once.

An in-place op (name ending in `_`) writes its first input; the written bytes use the first tensor's
dtype. Scalars are not memory traffic.
"""

from __future__ import annotations

from tracekit.perfmodel.calls import OpCall, broadcast, io_bytes, nbytes, numel
from tracekit.perfmodel.cost import Cost, Model

FAMILY = "elementwise"

_NAMES = (
    "add", "sub", "mul", "div", "neg", "abs", "pow", "exp", "log", "sqrt", "rsqrt", "sin", "cos",
    "relu", "gelu", "silu", "sigmoid", "tanh", "hardswish", "leaky_relu", "clamp", "where",
    "maximum", "minimum", "fill", "zero", "copy", "masked_fill", "addcmul", "addcdiv", "lerp",
)  # fmt: skip


def elementwise(call: OpCall) -> Cost | None:
    shapes = [shape for shape, _ in call.tensors()]
    if not shapes:
        return None
    out = shapes[0] if call.name.endswith("_") else broadcast(*shapes)
    if out is None:
        return None
    return Cost(FAMILY, None, io_bytes(call, numel(out)), call.dtype())


def fill(call: OpCall) -> Cost | None:
    """fill_ / zero_: the tensor is written, not read."""
    shape = call.tensor(0)
    if shape is None:
        return None
    return Cost(FAMILY, None, nbytes(shape, call.dtype()), call.dtype())


def _names(base: str) -> tuple[str, ...]:
    return (f"aten::{base}", f"aten::{base}_")


MODELS: dict[str, Model] = {
    **{name: elementwise for base in _NAMES for name in _names(base)},
    **{name: fill for base in ("fill", "zero") for name in _names(base)},
}
