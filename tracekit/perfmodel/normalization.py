"""Normalization (bytes only): input, weight, bias and statistics read once, the output (the input's
size) written once. layer_norm, rms_norm, group_norm, batch_norm, instance_norm."""

from __future__ import annotations

from tracekit.perfmodel.calls import OpCall, io_bytes, numel
from tracekit.perfmodel.cost import Cost, Model

FAMILY = "normalization"

_NAMES = (
    "layer_norm", "native_layer_norm", "rms_norm", "_fused_rms_norm", "group_norm", "native_group_norm",
    "batch_norm", "native_batch_norm", "_native_batch_norm_legit_no_training", "instance_norm",
)  # fmt: skip


def normalization(call: OpCall) -> Cost | None:
    shape = call.tensor(0)
    if shape is None:
        return None
    return Cost(FAMILY, None, io_bytes(call, numel(shape)), call.dtype())


MODELS: dict[str, Model] = {f"aten::{name}": normalization for name in _NAMES}
