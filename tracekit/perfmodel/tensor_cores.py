"""Which GEMM / convolution kernels ran on tensor (matrix) cores, by the operator's dtype and the kernel's
family: 16- and 8-bit GEMMs use tensor cores unless the kernel is a SIMT one (gemv, sgemm-style, FFT);
fp32 ones only when the kernel computes in TF32; fp64 ones only in DMMA kernels."""

from __future__ import annotations

import re

TENSOR = "tensor_core"
SIMT = "simt"
OTHER = "other"  # layout transforms, workspace init, elementwise epilogues: not the product itself

_COMPUTE = re.compile(
    r"gemm|gemv|conv|fprop|dgrad|wgrad|implicit|winograd|fft|nvjet|cutlass|xmma|cublas|dot_kernel|"
    r"flash|fmha|attention|sdpa|matmul|splitk",
    re.IGNORECASE,
)
_LAYOUT = re.compile(
    r"nchwToNhwc|nhwcToNchw|init_device_workspace|flip_filter|elementwise|reduce_kernel|memset", re.IGNORECASE
)
_SIMT = re.compile(r"gemv|gemmSN|sgemm|dgemm|simt|ffma|fft|dot_kernel", re.IGNORECASE)
_TF32 = re.compile(r"tf32", re.IGNORECASE)
_FP64_TENSOR = re.compile(r"dmma|d884|d16816", re.IGNORECASE)
_LOW_PRECISION = frozenset({"fp16", "bf16", "fp8", "int8"})


def kernel_unit(kernel_name: str, dtype: str) -> str:
    """TENSOR, SIMT or OTHER for one kernel of a GEMM-like operator whose inputs have `dtype`."""
    if _LAYOUT.search(kernel_name) or not _COMPUTE.search(kernel_name):
        return OTHER
    if dtype in _LOW_PRECISION:
        return SIMT if _SIMT.search(kernel_name) else TENSOR
    if dtype == "fp32":
        return TENSOR if _TF32.search(kernel_name) else SIMT
    if dtype == "fp64":
        return TENSOR if _FP64_TENSOR.search(kernel_name) else SIMT
    return SIMT
