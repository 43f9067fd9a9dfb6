"""Convolution forward (1-, 2- and 3-D, with stride, padding, dilation and groups).

FLOPs: 2 · N · K · (output positions) · (C / groups) · (kernel positions), plus N · K · (output
positions) for a bias; the weight [K, C / groups, kernel...] already carries the groups. Output size
per spatial dimension: floor((in + 2·padding - dilation·(kernel - 1) - 1) / stride) + 1. Calls whose
stride and padding were not recorded (no `Concrete Inputs`) and transposed convolutions have no model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tracekit.perfmodel.calls import OpCall, io_bytes
from tracekit.perfmodel.cost import Cost, Model

FAMILY = "convolution"


@dataclass(frozen=True)
class Signature:
    """Where each argument sits in one op's schema (None: the op has no such argument)."""

    bias: int | None
    stride: int
    padding: int
    dilation: int
    groups: int
    transposed: int | None = None


_CONV_ND = Signature(bias=2, stride=3, padding=4, dilation=5, groups=6)
_CONVOLUTION = Signature(bias=2, stride=3, padding=4, dilation=5, groups=8, transposed=6)
_CUDNN = Signature(bias=None, padding=2, stride=3, dilation=4, groups=5)
_MIOPEN = Signature(bias=2, padding=3, stride=4, dilation=5, groups=6)


def _output_size(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def _per_dim(call: OpCall, index: int, dims: int) -> tuple[int, ...] | None:
    values = call.int_list(index)
    if values is None:
        return None
    if len(values) == 1:
        return values * dims
    return values if len(values) == dims else None


def _padding(call: OpCall, index: int, kernel: tuple[int, ...], dilation: tuple[int, ...]) -> tuple | None:
    """Explicit padding, or the string forms: 'valid' (0) and 'same' (output size = input size)."""
    text = call.value(index).strip("'\"")
    if text == "valid":
        return (0,) * len(kernel)
    if text == "same":
        return tuple(d * (k - 1) // 2 for k, d in zip(kernel, dilation, strict=True))
    return _per_dim(call, index, len(kernel))


def convolution_cost(call: OpCall, sig: Signature) -> Cost | None:
    x, w = call.tensor(0), call.tensor(1)
    if x is None or w is None or len(x) != len(w) or len(x) < 3:
        return None
    if sig.transposed is not None and call.flag(sig.transposed):
        return None
    dims = len(x) - 2
    kernel = w[2:]
    stride = _per_dim(call, sig.stride, dims)
    dilation = _per_dim(call, sig.dilation, dims)
    padding = _padding(call, sig.padding, kernel, dilation) if dilation else None
    if stride is None or dilation is None or padding is None:
        return None
    out = tuple(_output_size(*args) for args in zip(x[2:], kernel, stride, padding, dilation, strict=True))
    positions = x[0] * w[0] * math.prod(out)
    has_bias = sig.bias is not None and call.tensor(sig.bias) is not None
    flops = 2 * positions * w[1] * math.prod(kernel) + (positions if has_bias else 0)
    return Cost(FAMILY, flops, io_bytes(call, positions), call.dtype())


def _model(sig: Signature) -> Model:
    return lambda call: convolution_cost(call, sig)


MODELS: dict[str, Model] = {
    **dict.fromkeys(("aten::conv1d", "aten::conv2d", "aten::conv3d"), _model(_CONV_ND)),
    **dict.fromkeys(("aten::convolution", "aten::_convolution"), _model(_CONVOLUTION)),
    "aten::cudnn_convolution": _model(_CUDNN),
    "aten::miopen_convolution": _model(_MIOPEN),
    "aten::mkldnn_convolution": _model(_MIOPEN),
}
