"""Reductions (bytes only): the input read once, the reduced output written once.

The reduced dimensions come from the `dim` argument's concrete value; none recorded (or `None`) means
a full reduction to one element.
"""

from __future__ import annotations

from tracekit.perfmodel.calls import OpCall, io_bytes, numel
from tracekit.perfmodel.cost import Cost, Model

FAMILY = "reduction"

_NAMES = ("sum", "mean", "amax", "amin", "max", "min", "prod", "argmax", "argmin", "var", "std", "norm")


def reduction(call: OpCall) -> Cost | None:
    shape = call.tensor(0)
    if shape is None:
        return None
    dims = call.int_list(1)
    if dims is None or not shape:
        kept = 1
    else:
        reduced = {d % len(shape) for d in dims}
        kept = numel(tuple(size for axis, size in enumerate(shape) if axis not in reduced))
    return Cost(FAMILY, None, io_bytes(call, kept), call.dtype())


MODELS: dict[str, Model] = {f"aten::{name}": reduction for name in _NAMES}
