"""Softmax (bytes only): the input read once and the same-sized output written once."""

from __future__ import annotations

from tracekit.perfmodel.calls import OpCall, io_bytes, numel
from tracekit.perfmodel.cost import Cost, Model

FAMILY = "softmax"

_NAMES = ("softmax", "_softmax", "log_softmax", "_log_softmax", "_safe_softmax")


def softmax(call: OpCall) -> Cost | None:
    shape = call.tensor(0)
    if shape is None:
        return None
    return Cost(FAMILY, None, io_bytes(call, numel(shape)), call.dtype())


MODELS: dict[str, Model] = {f"aten::{name}": softmax for name in _NAMES}
