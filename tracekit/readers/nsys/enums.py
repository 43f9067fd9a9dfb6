"""Nsight Systems enum codes, carried here because exports from 2021 and 2026 lack the enum tables.

Codes are those of `ENUM_CUDA_MEMCPY_OPER` and `ENUM_CUDA_MEM_KIND` (nsys' own numbering, not
CUPTI's); shared/docs/formats-nsys.md §A.3 lists them. When an export has the tables, their names
are used instead, so a renumbering in a future version cannot go unnoticed.
"""

from __future__ import annotations

from tracekit.model.schema import CopyDirection, MemoryKind

COPY_KIND_NAMES = {
    0: "CUDA_MEMCPY_KIND_UNKNOWN",
    1: "CUDA_MEMCPY_KIND_HTOD",
    2: "CUDA_MEMCPY_KIND_DTOH",
    3: "CUDA_MEMCPY_KIND_HTOA",
    4: "CUDA_MEMCPY_KIND_ATOH",
    5: "CUDA_MEMCPY_KIND_ATOA",
    6: "CUDA_MEMCPY_KIND_ATOD",
    7: "CUDA_MEMCPY_KIND_DTOA",
    8: "CUDA_MEMCPY_KIND_DTOD",
    9: "CUDA_MEMCPY_KIND_HTOH",
    10: "CUDA_MEMCPY_KIND_PTOP",
    11: "CUDA_MEMCPY_KIND_UVM_HTOD",
    12: "CUDA_MEMCPY_KIND_UVM_DTOH",
    13: "CUDA_MEMCPY_KIND_UVM_DTOD",
}
MEMORY_KIND_NAMES = {
    0: "CUDA_MEMOPR_MEMORY_KIND_PAGEABLE",
    1: "CUDA_MEMOPR_MEMORY_KIND_PINNED",
    2: "CUDA_MEMOPR_MEMORY_KIND_DEVICE",
    3: "CUDA_MEMOPR_MEMORY_KIND_ARRAY",
    4: "CUDA_MEMOPR_MEMORY_KIND_MANAGED",
    5: "CUDA_MEMOPR_MEMORY_KIND_DEVICE_STATIC",
    6: "CUDA_MEMOPR_MEMORY_KIND_MANAGED_STATIC",
    7: "CUDA_MEMOPR_MEMORY_KIND_UNKNOWN",
}

_DIRECTION_OF_ENDPOINTS = {
    ("HTO", "D"): CopyDirection.H2D,
    ("HTO", "A"): CopyDirection.H2D,
    ("DTO", "H"): CopyDirection.D2H,
    ("ATO", "H"): CopyDirection.D2H,
    ("HTO", "H"): CopyDirection.H2H,
    ("PTO", "P"): CopyDirection.P2P,
}
_DEVICE_ENDS = {"DTO", "ATO"}
_MEMORY_OF_NAME = {
    "PAGEABLE": MemoryKind.PAGEABLE,
    "PINNED": MemoryKind.PINNED,
    "DEVICE": MemoryKind.DEVICE,
    "ARRAY": MemoryKind.DEVICE,
    "DEVICE_STATIC": MemoryKind.DEVICE,
    "MANAGED": MemoryKind.MANAGED,
    "MANAGED_STATIC": MemoryKind.MANAGED,
}
MEMORY_LABELS = {
    "pageable": MemoryKind.PAGEABLE,
    "pinned": MemoryKind.PINNED,
    "device": MemoryKind.DEVICE,
    "array": MemoryKind.DEVICE,
    "device static": MemoryKind.DEVICE,
    "managed": MemoryKind.MANAGED,
    "managed static": MemoryKind.MANAGED,
}
"""The labels `nsys stats` prints for memory kinds (SrcMemKd, DstMemKd)."""


def copy_direction(kind_name: str) -> CopyDirection:
    """Direction of a `CUDA_MEMCPY_KIND_*` name; unified-memory copies count by their endpoints."""
    code = kind_name.removeprefix("CUDA_MEMCPY_KIND_").removeprefix("UVM_")
    source, _, target = code.partition("TO")
    ends = (f"{source}TO", target)
    if ends in _DIRECTION_OF_ENDPOINTS:
        return _DIRECTION_OF_ENDPOINTS[ends]
    if ends[0] in _DEVICE_ENDS and target in ("D", "A"):
        return CopyDirection.D2D
    return CopyDirection.OTHER


def memory_kind(kind_name: str) -> MemoryKind:
    """Our memory kind for a `CUDA_MEMOPR_MEMORY_KIND_*` name."""
    return _MEMORY_OF_NAME.get(kind_name.removeprefix("CUDA_MEMOPR_MEMORY_KIND_"), MemoryKind.UNKNOWN)


COPY_LABELS = {
    "UNKNOWN": "Unknown",
    "HTOD": "Host-to-Device",
    "DTOH": "Device-to-Host",
    "HTOA": "Host-to-Array",
    "ATOH": "Array-to-Host",
    "ATOA": "Array-to-Array",
    "ATOD": "Array-to-Device",
    "DTOA": "Device-to-Array",
    "DTOD": "Device-to-Device",
    "HTOH": "Host-to-Host",
    "PTOP": "Peer-to-Peer",
    "UVM_HTOD": "Unified Host-to-Device",
    "UVM_DTOH": "Unified Device-to-Host",
    "UVM_DTOD": "Unified Device-to-Device",
}
"""nsys' labels, which make the display names `[CUDA memcpy Host-to-Device]`."""


def copy_display_name(kind_name: str) -> str:
    """nsys' display name of a copy, e.g. `[CUDA memcpy Host-to-Device]`."""
    code = kind_name.removeprefix("CUDA_MEMCPY_KIND_")
    return f"[CUDA memcpy {COPY_LABELS.get(code, code)}]"
