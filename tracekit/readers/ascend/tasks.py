"""What an Ascend Hardware task is: its kind from its name and task type, a copy's direction and the
memory at its ends (the timeline reader's rules; the profiler DB reader classifies by them too)."""

from __future__ import annotations

import numpy as np

from tracekit.model.schema import CopyDirection, Kind, MemoryKind

_DEVICE_WAITS = frozenset({"EVENT_WAIT", "EVENT_WAIT_SQE", "Notify Wait", "NOTIFY_WAIT_SQE", "STREAM_WAIT"})
_DEVICE_BOOKKEEPING = frozenset(
    {
        "EVENT_RECORD", "EVENT_RECORD_SQE", "EVENT_RESET", "NOTIFY_RECORD_SQE", "Notify Record",
        "PLACE_HOLDER_SQE", "PROFILING_ENABLE", "PROFILING_DISABLE", "Write Value", "WRITE_VALUE_SQE",
        "MODEL_EXECUTE", "MODEL_END_GRAPH",
    }
)  # fmt: skip
_COMMUNICATION_TASKS = frozenset(
    {"SDMA", "RDMA", "Reduce_Inline", "Reduce_TBE", "Local_Copy", "Inline_Reduce"}
)
_COPY_DIRECTIONS = {
    "host to device": CopyDirection.H2D,
    "host to device ex": CopyDirection.H2D,
    "device to host": CopyDirection.D2H,
    "device to host ex": CopyDirection.D2H,
    "device to device": CopyDirection.D2D,
    "addr device to device": CopyDirection.D2D,
    "host to host": CopyDirection.H2H,
}
_ENDPOINTS = {
    CopyDirection.H2D: (MemoryKind.HOST, MemoryKind.DEVICE),
    CopyDirection.D2H: (MemoryKind.DEVICE, MemoryKind.HOST),
    CopyDirection.D2D: (MemoryKind.DEVICE, MemoryKind.DEVICE),
    CopyDirection.H2H: (MemoryKind.HOST, MemoryKind.HOST),
}


def _endpoint_table(end: int) -> np.ndarray:
    """The memory kind at one end (0 source, 1 destination) of a copy, indexed by its direction."""
    table = np.zeros(max(CopyDirection) + 1, dtype=np.int64)
    for direction in CopyDirection:
        table[direction] = _ENDPOINTS.get(direction, (MemoryKind.UNKNOWN, MemoryKind.UNKNOWN))[end]
    return table


SOURCE_MEMORY, DESTINATION_MEMORY = _endpoint_table(0), _endpoint_table(1)


def device_task_kind(name: str, task_type: str, communication_ops_present: bool) -> Kind:
    """What a non-copy device task is: compute kernel, device-side wait, bookkeeping, communication."""
    if name in _DEVICE_WAITS or task_type in _DEVICE_WAITS:
        return Kind.SYNC
    if name in _DEVICE_BOOKKEEPING or task_type in _DEVICE_BOOKKEEPING:
        return Kind.MARKER
    if task_type in _COMMUNICATION_TASKS or name in _COMMUNICATION_TASKS:
        # sub-tasks of a collective: the collective itself is the COMMUNICATION row when present
        return Kind.MARKER if communication_ops_present else Kind.COMMUNICATION
    if name.startswith("hcom_"):
        return Kind.COMMUNICATION
    return Kind.KERNEL


def copy_direction(task_type: str, *operations: object) -> CopyDirection:
    """Direction of a MEMCPY_ASYNC task: `operation` when given, else PCIe = H2D, SDMA = D2D."""
    for operation in operations:
        if isinstance(operation, str) and operation.strip():
            return _COPY_DIRECTIONS.get(operation.strip().lower(), CopyDirection.OTHER)
    if task_type == "PCIE_DMA_SQE":
        return CopyDirection.H2D
    if task_type == "SDMA_SQE":
        return CopyDirection.D2D
    return CopyDirection.OTHER
