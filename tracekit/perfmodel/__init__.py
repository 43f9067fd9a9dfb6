"""Performance models: FLOPs and bytes of one operator call, and the hardware table.

One module per family (matmul, convolution, attention; bytes-only elementwise, reduction,
normalization, softmax), each a dict `MODELS` from operator name to model. Nothing here reads traces.
"""

from __future__ import annotations

from tracekit.perfmodel import attention, convolution, elementwise, matmul, normalization, reduction, softmax
from tracekit.perfmodel.calls import OpCall
from tracekit.perfmodel.cost import Cost, Model

MODELS: dict[str, Model] = {
    **elementwise.MODELS,
    **reduction.MODELS,
    **normalization.MODELS,
    **softmax.MODELS,
    **matmul.MODELS,
    **convolution.MODELS,
    **attention.MODELS,
}
COMPUTE_FAMILIES = (matmul.FAMILY, convolution.FAMILY, attention.FAMILY)
"""Families with a FLOPs model, run on tensor cores where the dtype and kernel allow."""


def has_model(name: str) -> bool:
    return name in MODELS


def estimate(call: OpCall) -> Cost | None:
    """The call's FLOPs and bytes, or None when no model covers its name or its arguments."""
    model = MODELS.get(call.name)
    return model(call) if model is not None else None


__all__ = ["COMPUTE_FAMILIES", "Cost", "OpCall", "estimate", "has_model"]
