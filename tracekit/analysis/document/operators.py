"""A device's operators (the CPU operators that launched its work) and the hardware they ran on."""

from __future__ import annotations

import msgspec

from tracekit.analysis.document.base import Block


class OperatorKernel(Block, kw_only=True):
    name: str
    count: int
    device_ns: int


class Operator(Block, kw_only=True):
    name: str
    shapes: list[list[int]]
    dtypes: list[str]
    dtype: str
    count: int
    device_ns: int
    family: str | None
    mean_ns: float
    kernels: list[OperatorKernel]
    flops: int | None
    bytes: int | None
    intensity: float | None
    achieved_tflops: float | None
    achieved_gbps: float | None
    tensor_core_ns: int | None
    simt_ns: int | None
    precision: str | None
    peak_tflops: float | None
    roofline_ns: float | None
    peak_share: float | None
    bound: str | None


class TensorCores(Block, kw_only=True):
    gemm_conv_ns: int
    tensor_core_ns: int
    simt_ns: int
    share: float | None


class OperatorsSummary(Block, kw_only=True):
    device_name: str | None
    device_ns: int
    attributed_ns: int
    modelled_ns: int
    groups: int
    listed: int
    tensor_cores: TensorCores | None = None
    notes: list[str] = msgspec.field(default_factory=list)


class PeakTflops(Block, kw_only=True):
    fp64: float | None = None
    fp32: float | None = None
    tf32: float | None = None
    fp16: float | None = None
    bf16: float | None = None
    fp8: float | None = None
    int8: float | None = None


class Hardware(Block, kw_only=True):
    name: str
    vendor: str
    peak_tflops: PeakTflops
    memory_gbps: float | None
    host_link_gbps: float | None
    sources: list[str]
    note: str | None
    device_name: str | None
    source: str
