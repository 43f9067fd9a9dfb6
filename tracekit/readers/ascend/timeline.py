"""Timeline reader: msprof_*.json and torch_npu trace_view.json (a bare JSON array of events).

Processes are recognised by their `process_name` metadata, never by pid number (msprof packs
pid, layer and device into the pid). `ts` is a decimal string of µs, decoded exactly to integer ns.
Flow events (`HostToDevice`, `async_npu`, ...) are launch arrows and are skipped; the launch link is
the `connection_id` that a CANN API call and the device task it launched both carry.

Each file arrives as columns (timeline_pieces.py: decoded in chunks, in worker processes when it is
large); here its events are given their layers and kinds, with the conversions and counted warnings
of a whole read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from itertools import chain
from pathlib import Path
from typing import NamedTuple

import msgspec
import numpy as np

from tracekit.errors import TraceError
from tracekit.gcpause import gc_paused
from tracekit.model.schema import NONE, Kind
from tracekit.model.steps import STEP_NAME
from tracekit.readers import checked
from tracekit.readers.ascend.rows import EventRows
from tracekit.readers.ascend.scalars import Codes, Scalars, taken
from tracekit.readers.ascend.tasks import DESTINATION_MEMORY, SOURCE_MEMORY, copy_direction, device_task_kind
from tracekit.readers.ascend.timeline_pieces import MetaEvent, Scalar, XColumns, read_file
from tracekit.readers.ascend.values import DROPPED, cached_map, event_us_to_ns, to_int
from tracekit.readers.collectives import dtype_bytes
from tracekit.readers.names import SYNC_CALL
from tracekit.readers.source import decode_json_array, read_buffer

HARDWARE = "Ascend Hardware"
CANN = "CANN"
OVERLAP = "Overlap Analysis"
COMMUNICATION_LAYERS = ("HCCL", "Communication")
HOST_LAYERS = ("Python", "MindSpore", "MsprofTx")
OVERLAP_NAMES = ("Computing", "Communication", "Communication(Not Overlapped)", "Free")

_NPU_LABEL = re.compile(r"NPU\s*(\d+)")


class _TypedEvent(msgspec.Struct, gc=False):
    """The event with `ts` / `dur` typed: decoded only to report an unusable time as an input error."""

    ts: Decimal | None = None
    dur: Decimal | None = None


class _Columns(NamedTuple):
    """The X events of known layers: their fields, and per event its layer and times in ns."""

    x: XColumns
    layer: Codes
    start: np.ndarray
    dur: np.ndarray


Timeline = tuple[Path, list[MetaEvent], XColumns]
"""One timeline file: its path, metadata events and X events' columns."""


def read_timelines(paths: list[Path]) -> list[Timeline]:
    """The events of one rank's timeline files (slices of one trace), as columns."""
    with gc_paused():  # millions of new objects and no cycles: collections would only rescan them
        return [(path, *read_file(path)) for path in paths]


def add_timelines(files: list[Timeline], rows: EventRows, default_device: int) -> dict[str, object]:
    """Append the events of the timeline files to `rows`, by layer (`default_device` for processes
    without an NPU label). Returns what was seen: the layers present and the device ids."""
    processes, threads, devices = _metadata(chain.from_iterable(meta for _, meta, _ in files))
    layers = set(processes.values())
    if not layers & {HARDWARE, CANN, OVERLAP, *COMMUNICATION_LAYERS}:
        raise TraceError(
            files[0][0], "not an msprof timeline: no Ascend Hardware, CANN or HCCL process metadata"
        )
    columns = _joined([_timed(path, x, processes) for path, _, x in files])
    communication = np.flatnonzero(columns.layer.among(COMMUNICATION_LAYERS))
    pid, tid = columns.x.pid.take(communication), columns.x.tid.take(communication)
    comm_ops = not _planes(threads, pid, tid).all()
    usable = (columns.start != checked.INVALID_NS) & (columns.dur != checked.INVALID_NS)
    _add_layers(rows, _selected(columns, usable), devices, default_device, threads, comm_ops)
    return {"layers": sorted(layers), "devices": sorted(set(devices.values()) or {default_device})}


def _timed(path: Path, x: XColumns, processes: dict) -> _Columns:
    """The X events of known layers of one file, their times converted (unusable ones counted)."""
    layer = x.pid.codes().relabeled(processes.get)
    keep = np.flatnonzero(~layer.among((None,)))
    timed = x.take(keep)
    start = timed.ts.to_ns("ts", _time_of(path, "ts"), DROPPED)
    dur = timed.dur.to_ns("dur", _time_of(path, "dur"), DROPPED)
    return _Columns(timed, layer.take(keep), start, dur)


def _time_of(path: Path, field: str):
    """The scalar conversion of one JSON time (`ts` null is a dropped event, `dur` null is 0); a value
    that is neither a number nor a decimal text is an input error naming the event."""

    def convert(raw: bytes) -> int:
        try:
            value = msgspec.json.decode(raw, type=Decimal | None)
        except msgspec.ValidationError:
            decode_json_array(path, read_buffer(path), _TypedEvent, "msprof timeline")  # raises, naming it
            raise TraceError(path, f"unexpected msprof timeline content ({field} {raw[:40]!r})") from None
        return 0 if value is None and field == "dur" else event_us_to_ns(value, field)

    return convert


def _joined(parts: list[_Columns]) -> _Columns:
    if len(parts) == 1:
        return parts[0]
    return _Columns(
        XColumns.joined([part.x for part in parts]),
        Codes.joined([part.layer for part in parts]),
        *(np.concatenate([getattr(part, name) for part in parts]) for name in ("start", "dur")),
    )


def _selected(columns: _Columns, keep: np.ndarray) -> _Columns:
    rows = np.flatnonzero(keep)
    return _Columns(columns.x.take(rows), columns.layer.take(rows), columns.start[rows], columns.dur[rows])


def _metadata(events: Iterable[MetaEvent]) -> tuple[dict, dict, dict]:
    processes: dict[int | str, str] = {}
    threads: dict[tuple, str] = {}
    devices: dict[int | str, int] = {}
    for event in events:
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


def _planes(threads: dict, pid: Scalars, tid: Scalars) -> np.ndarray:
    """Per event, whether its thread is a "Plane" of a collective (its sub-tasks), once per thread."""
    pids, tids = pid.codes(), tid.codes()
    width = len(tids.values)
    used, inverse = np.unique(pids.codes * width + tids.codes, return_inverse=True)
    keys = [(pids.values[pair // width], tids.values[pair % width]) for pair in used.tolist()]
    return np.array([threads.get(key, "").startswith("Plane") for key in keys], dtype=bool)[inverse]


def _add_layers(
    rows: EventRows, columns: _Columns, devices: dict, default_device: int, threads: dict, comm_ops: bool
) -> None:
    """The usable events as rows, by layer, in file order."""
    x = columns.x
    tid, pid = x.tid.to_ints("tid"), x.pid.to_ints("pid")
    connection = x.connection.to_ints("connection_id")
    device = x.pid.codes().mapped(lambda value: devices.get(value, default_device))
    common = _Common(x.name, columns.start, columns.dur, columns.layer, tid, pid, connection, device)
    kind = np.full(len(x), -1, dtype=np.int64)
    fields: dict[str, np.ndarray | Codes] = {}
    _device_tasks(common, x, kind, fields, comm_ops)
    _host_layers(common, x, kind, fields, threads)
    keep = kind >= 0
    keep = slice(None) if keep.all() else keep  # usually every event: no copy of each column
    rows.add_block(
        x.name.take(keep), start_ns=columns.start[keep], dur_ns=columns.dur[keep], kind=kind[keep],
        correlation=connection[keep], layer=columns.layer.take(keep),
        **{name: taken(values, keep) for name, values in fields.items()},
    )  # fmt: skip


class _Common(NamedTuple):
    name: Codes
    start: np.ndarray
    dur: np.ndarray
    layer: Codes
    tid: np.ndarray
    pid: np.ndarray
    connection: np.ndarray
    device: np.ndarray


def _field(fields: dict[str, np.ndarray | Codes], name: str, n: int, default: int = NONE) -> np.ndarray:
    if name not in fields:
        fields[name] = np.full(n, default, dtype=np.int64)
    return fields[name]


def _device_tasks(common: _Common, x: XColumns, kind: np.ndarray, fields: dict, comm_ops: bool) -> None:
    """Ascend Hardware tasks: kernels, waits, bookkeeping, copies (with direction and bytes)."""
    rows = np.flatnonzero(common.layer.among((HARDWARE,)))
    if not len(rows):
        return
    n, type_codes = len(kind), x.task_type.take(rows)
    types = [_text(value) for value in type_codes.values]
    stream = x.physic_stream.take(rows).or_else(x.stream.take(rows)).to_ints("Stream Id")
    stream = np.where(stream == NONE, common.tid[rows], stream)
    names, name_code = x.name.values, x.name.codes[rows]
    pairs, pair_code = np.unique(name_code * len(types) + type_codes.codes, return_inverse=True)
    pair_kind = [
        device_task_kind(names[p // len(types)], types[p % len(types)], comm_ops) for p in pairs.tolist()
    ]
    kind[rows] = np.array(pair_kind, dtype=np.int64)[pair_code]
    for name, values in (("device", common.device[rows]), ("stream", stream), ("thread", stream)):
        _field(fields, name, n)[rows] = values
    fields["task_type"] = Codes.constant("", n).assigned(rows, Codes.merged(types, type_codes.codes))
    copies = np.flatnonzero(name_code == names.index("MEMCPY_ASYNC")) if "MEMCPY_ASYNC" in names else []
    if len(copies):
        _copies(rows[copies], x, np.array(types, dtype=object)[type_codes.codes[copies]], kind, fields)


def _copies(rows: np.ndarray, x: XColumns, task_type: np.ndarray, kind: np.ndarray, fields: dict) -> None:
    """The copies among the device tasks (`rows`, their `task_type`): direction and bytes."""
    n = len(kind)
    operation, memcpy = (codes.take(rows).array().tolist() for codes in (x.operation, x.memcpy_direction))
    how = list(zip(task_type.tolist(), operation, memcpy, strict=True))
    direction = np.array(cached_map(how, lambda h: int(copy_direction(*h))), dtype=np.int64)
    size = x.size.take(rows).or_else(x.data_size.take(rows)).to_ints("size(B)", 0)
    kind[rows] = Kind.MEMCPY
    _field(fields, "copy_direction", n, 0)[rows] = direction
    _field(fields, "src_memory", n, 0)[rows] = SOURCE_MEMORY[direction]
    _field(fields, "dst_memory", n, 0)[rows] = DESTINATION_MEMORY[direction]
    _field(fields, "bytes", n)[rows] = size


def _host_layers(common: _Common, x: XColumns, kind: np.ndarray, fields: dict, threads: dict) -> None:
    """Collectives, CANN API calls, the Overlap Analysis layer, framework operators and steps."""
    n = len(kind)
    for layer in COMMUNICATION_LAYERS:
        rows = np.flatnonzero(common.layer.among((layer,)))
        rows = rows[~_planes(threads, x.pid.take(rows), x.tid.take(rows))]
        kind[rows] = Kind.COMMUNICATION  # plane sub-tasks repeat the Ascend Hardware tasks: skipped
        _field(fields, "device", n)[rows] = common.device[rows]
        _field(fields, "bytes", n)[rows] = _hccl_bytes(x.count.take(rows), x.data_type.take(rows))
    rows = np.flatnonzero(common.layer.among((CANN,)))
    sync = x.name.take(rows).mapped(lambda name: bool(SYNC_CALL.search(name)), dtype=bool)
    kind[rows] = np.where(sync, Kind.SYNC, Kind.RUNTIME)
    _process_thread(common, rows, fields)
    rows = np.flatnonzero(common.layer.among((OVERLAP,)))
    kind[rows] = Kind.MARKER
    _field(fields, "device", n)[rows] = common.device[rows]
    rows = np.flatnonzero(common.layer.among(HOST_LAYERS))
    step = x.name.take(rows).per_distinct(_step_number)
    marker = common.layer.take(rows).among(("MsprofTx",))
    kind[rows] = np.where(step != NONE, Kind.STEP, np.where(marker, Kind.MARKER, Kind.CPU_OP))
    _field(fields, "step", n)[rows] = step
    _process_thread(common, rows, fields)


def _hccl_bytes(count: Scalars, data_type: Codes) -> np.ndarray:
    """An HCCL op's message size: `count` elements of `data_type` (readers/collectives.py); NONE
    when either is missing."""
    count = count.to_ints("count", 0)
    element = data_type.mapped(dtype_bytes)
    return np.where((count != NONE) & (element != NONE), count * element, NONE)


def _process_thread(common: _Common, rows: np.ndarray, fields: dict) -> None:
    _field(fields, "process", len(common.name))[rows] = common.pid[rows]
    _field(fields, "thread", len(common.name))[rows] = common.tid[rows]


def _step_number(name: str) -> int:
    step = STEP_NAME.match(name)
    return to_int(step.group(1), "step") if step else NONE


def _text(value: Scalar) -> str:
    return value if isinstance(value, str) else ""
