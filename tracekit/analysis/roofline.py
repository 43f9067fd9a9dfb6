"""Roofline of one operator group: the peak for its precision, the bound, the roofline time and the
achieved share of it; and the tensor-core share of GEMM and convolution time (docs/metrics.md)."""

from __future__ import annotations

from tracekit.perfmodel.hardware import Hardware
from tracekit.perfmodel.tensor_cores import OTHER, SIMT, TENSOR, kernel_unit

_TENSOR_CORE_FAMILIES = ("matmul", "convolution")


def unit_times(kernel_ns: dict[str, tuple[int, int]], dtype: str) -> dict[str, int]:
    """Device ns per execution unit (tensor_core, simt, other) of one operator's kernels."""
    units = {TENSOR: 0, SIMT: 0, OTHER: 0}
    for name, (ns, _) in kernel_ns.items():
        units[kernel_unit(name, dtype)] += ns
    return units


def precision(dtype: str, units: dict[str, int] | None) -> str:
    """The peak to compare with: fp32 GEMMs count as TF32 when most of their product time was on tensor
    cores; every other dtype compares with its own rate."""
    if dtype == "fp32" and units is not None and units[TENSOR] > units[SIMT]:
        return "tf32"
    return dtype


def roofline(group: dict, row: Hardware | None, units: dict[str, int] | None) -> dict[str, object]:
    """precision, peak_tflops, roofline_ns = max(FLOPs / peak, bytes / bandwidth), peak_share =
    roofline_ns / device_ns, and bound (compute or memory); null where the hardware or model is missing."""
    empty = {"precision": None, "peak_tflops": None, "roofline_ns": None, "peak_share": None, "bound": None}
    flops, moved, device_ns = group["flops"], group["bytes"], group["device_ns"]
    if row is None or moved is None or row.memory_gbps is None or not device_ns:
        return empty
    memory_ns = moved / row.memory_gbps
    if flops is None:
        return {**empty, "roofline_ns": memory_ns, "peak_share": memory_ns / device_ns, "bound": "memory"}
    used = precision(group["dtype"], units)
    peak = row.peak(used)
    if peak is None:
        return {**empty, "precision": used}
    compute_ns = flops / (peak * 1e3)
    limit = max(compute_ns, memory_ns)
    return {
        "precision": used,
        "peak_tflops": peak,
        "roofline_ns": limit,
        "peak_share": limit / device_ns,
        "bound": "compute" if compute_ns >= memory_ns else "memory",
    }


def tensor_core_summary(groups: list[dict]) -> dict[str, object]:
    """GEMM and convolution product time on tensor cores versus fp32 SIMT kernels, over all groups."""
    gemm = [g for g in groups if g["family"] in _TENSOR_CORE_FAMILIES and g["tensor_core_ns"] is not None]
    tensor = sum(g["tensor_core_ns"] for g in gemm)
    simt = sum(g["simt_ns"] for g in gemm)
    return {
        "gemm_conv_ns": sum(g["device_ns"] for g in gemm),
        "tensor_core_ns": tensor,
        "simt_ns": simt,
        "share": tensor / (tensor + simt) if tensor + simt else None,
    }
