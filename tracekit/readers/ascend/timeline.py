"""Timeline reader: msprof_*.json and torch_npu trace_view.json (a bare JSON array of events).

Processes are recognised by their `process_name` metadata, never by pid number (msprof packs
pid, layer and device into the pid). `ts` is a decimal string of µs, decoded exactly to integer ns.
Flow events (`HostToDevice`, `async_npu`, ...) are launch arrows and are skipped; the launch link is
the `connection_id` that a CANN API call and the device task it launched both carry.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

import msgspec

from tracekit.errors import TraceError
from tracekit.model.schema import NONE, CopyDirection, Kind, MemoryKind
from tracekit.model.steps import STEP_NAME
from tracekit.readers import checked
from tracekit.readers.ascend.rows import EventRows
from tracekit.readers.ascend.values import event_us_to_ns, to_int
from tracekit.readers.collectives import dtype_bytes
from tracekit.readers.names import SYNC_CALL
from tracekit.readers.source import decode_json_array, read_buffer

Scalar = int | float | str | None

HARDWARE = "Ascend Hardware"
CANN = "CANN"
OVERLAP = "Overlap Analysis"
COMMUNICATION_LAYERS = ("HCCL", "Communication")
HOST_LAYERS = ("Python", "MindSpore", "MsprofTx")
OVERLAP_NAMES = ("Computing", "Communication", "Communication(Not Overlapped)", "Free")

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
_NPU_LABEL = re.compile(r"NPU\s*(\d+)")
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


class _Args(msgspec.Struct, frozen=True, gc=False):
    name: Scalar = None
    labels: Scalar = None
    task_type: Scalar = msgspec.field(name="Task Type", default=None)
    physic_stream: Scalar = msgspec.field(name="Physic Stream Id", default=None)
    stream: Scalar = msgspec.field(name="Stream Id", default=None)
    task_id: Scalar = msgspec.field(name="Task Id", default=None)
    connection_id: Scalar = None
    size: Scalar = msgspec.field(name="size(B)", default=None)
    data_size: Scalar = msgspec.field(name="data size(Byte)", default=None)
    operation: Scalar = None
    memcpy_direction: Scalar = msgspec.field(name="memcpy direction", default=None)
    count: Scalar = None  # HCCL op: elements of its message, and their type
    data_type: Scalar = None


_NO_ARGS = _Args()


class _Event(msgspec.Struct, gc=False):
    ph: str = ""
    name: str = ""
    cat: str = ""
    pid: Scalar = NONE
    tid: Scalar = NONE
    ts: Decimal | None = None
    dur: Decimal | None = None
    args: _Args = _NO_ARGS


def decode(path: Path) -> list[_Event]:
    """All events of one timeline file (gzipped or not; unterminated arrays are read up to their last
    complete event); anything but a JSON array of events, or a `ts` / `dur` that is not a number, is
    an input error naming the event."""
    return decode_json_array(path, read_buffer(path), _Event, "msprof timeline")


def read_timelines(paths: list[Path], rows: EventRows, default_device: int) -> dict[str, object]:
    """Append the events of one rank's timeline files (slices of one trace) to `rows`.

    Returns what was seen: the layers present and the device ids.
    """
    events: list[_Event] = []
    for path in paths:
        events.extend(decode(path))
    processes, threads, devices = _metadata(events)
    layers = set(processes.values())
    if not layers & {HARDWARE, CANN, OVERLAP, *COMMUNICATION_LAYERS}:
        raise TraceError(
            paths[0], "not an msprof timeline: no Ascend Hardware, CANN or HCCL process metadata"
        )
    has_communication_ops = any(
        processes.get(e.pid) in COMMUNICATION_LAYERS and e.ph == "X" and not _is_plane(threads, e)
        for e in events
    )
    for event in events:
        layer = processes.get(event.pid) if event.ph == "X" else None
        if layer is None:
            continue
        device = devices.get(event.pid, default_device)
        _add(rows, event, layer, device, threads, has_communication_ops)
    return {"layers": sorted(layers), "devices": sorted(set(devices.values()) or {default_device})}


def _metadata(events: Iterable[_Event]) -> tuple[dict, dict, dict]:
    processes: dict[int | str, str] = {}
    threads: dict[tuple, str] = {}
    devices: dict[int | str, int] = {}
    for event in events:
        if event.ph != "M":
            continue
        value = event.args.name
        if event.name == "process_name" and isinstance(value, str):
            processes[event.pid] = value
        elif event.name == "thread_name" and isinstance(value, str):
            threads[(event.pid, event.tid)] = value
        elif event.name == "process_labels" and isinstance(event.args.labels, str):
            match = _NPU_LABEL.search(event.args.labels)
            device = to_int(match.group(1), "process_labels", 0, checked.INT32_MAX) if match else NONE
            if device != NONE:
                devices[event.pid] = device
    return processes, threads, devices


def _is_plane(threads: dict, event: _Event) -> bool:
    return threads.get((event.pid, event.tid), "").startswith("Plane")


def _add(rows: EventRows, event: _Event, layer: str, device: int, threads: dict, comm_ops: bool) -> None:
    start = event_us_to_ns(event.ts, "ts")
    dur = 0 if event.dur is None else event_us_to_ns(event.dur, "dur")
    if checked.INVALID_NS in (start, dur):
        return  # counted by the conversion
    tid, pid = to_int(event.tid, "tid"), to_int(event.pid, "pid")
    connection = to_int(event.args.connection_id, "connection_id")
    if layer == HARDWARE:
        _add_device_task(rows, event, start, dur, device, tid, connection, comm_ops)
    elif layer in COMMUNICATION_LAYERS:
        if not _is_plane(threads, event):  # plane sub-tasks repeat the Ascend Hardware tasks
            rows.add(
                event.name, start, dur, Kind.COMMUNICATION, device=device, stream=NONE, thread=NONE,
                correlation=connection, layer=layer, bytes=_hccl_bytes(event.args),
            )  # fmt: skip
    elif layer == CANN:
        kind = Kind.SYNC if SYNC_CALL.search(event.name) else Kind.RUNTIME
        rows.add(event.name, start, dur, kind, process=pid, thread=tid, correlation=connection, layer=layer)
    elif layer == OVERLAP:
        rows.add(event.name, start, dur, Kind.MARKER, device=device, layer=layer)
    elif layer in HOST_LAYERS:
        step = STEP_NAME.match(event.name)
        kind = Kind.STEP if step else (Kind.MARKER if layer == "MsprofTx" else Kind.CPU_OP)
        rows.add(
            event.name, start, dur, kind, process=pid, thread=tid,
            step=to_int(step.group(1), "step") if step else NONE, layer=layer,
        )  # fmt: skip


def _add_device_task(
    rows: EventRows,
    event: _Event,
    start: int,
    dur: int,
    device: int,
    tid: int,
    connection: int,
    comm_ops: bool,
) -> None:
    args = event.args
    task_type = args.task_type if isinstance(args.task_type, str) else ""
    stream = to_int(args.physic_stream if args.physic_stream is not None else args.stream, "Stream Id")
    stream = tid if stream == NONE else stream
    common = {
        "device": device, "stream": stream, "thread": stream, "correlation": connection,
        "layer": HARDWARE, "task_type": task_type,
    }  # fmt: skip
    if event.name == "MEMCPY_ASYNC":
        direction = copy_direction(task_type, args.operation, args.memcpy_direction)
        src, dst = _ENDPOINTS.get(direction, (MemoryKind.UNKNOWN, MemoryKind.UNKNOWN))
        size = to_int(args.size if args.size is not None else args.data_size, "size(B)", 0)
        rows.add(
            event.name, start, dur, Kind.MEMCPY, copy_direction=direction, src_memory=src,
            dst_memory=dst, bytes=size, **common,
        )  # fmt: skip
        return
    rows.add(event.name, start, dur, device_task_kind(event.name, task_type, comm_ops), **common)


def _hccl_bytes(args: _Args) -> int:
    """An HCCL op's message size: `count` elements of `data_type` (readers/collectives.py); NONE
    when either is missing."""
    count = to_int(args.count, "count", 0)
    element = dtype_bytes(args.data_type)
    return count * element if count != NONE and element != NONE else NONE


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


def copy_direction(task_type: str, *operations: Scalar) -> CopyDirection:
    """Direction of a MEMCPY_ASYNC task: `operation` when given, else PCIe = H2D, SDMA = D2D."""
    for operation in operations:
        if isinstance(operation, str) and operation.strip():
            return _COPY_DIRECTIONS.get(operation.strip().lower(), CopyDirection.OTHER)
    if task_type == "PCIE_DMA_SQE":
        return CopyDirection.H2D
    if task_type == "SDMA_SQE":
        return CopyDirection.D2D
    return CopyDirection.OTHER
