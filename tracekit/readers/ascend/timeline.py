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
from itertools import chain, repeat
from operator import attrgetter, itemgetter
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
from tracekit.readers.ascend.tasks import DESTINATION_MEMORY, SOURCE_MEMORY, copy_direction, device_task_kind
from tracekit.readers.ascend.values import (
    binary_cells,
    cached_map,
    distinct_codes,
    event_us_to_ns,
    per_distinct,
    to_int,
    to_ints,
    us_column_to_ns,
)
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

_NPU_LABEL = re.compile(r"NPU\s*(\d+)")


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
_PH, _PID, _TID, _NAME, _TS, _DUR, _ARGS = map(attrgetter, ("ph", "pid", "tid", "name", "ts", "dur", "args"))
_CONNECTION = attrgetter("args.connection_id")
_TASK_TYPE, _PHYSIC_STREAM, _STREAM = map(attrgetter, ("task_type", "physic_stream", "stream"))
_OPERATION, _MEMCPY_DIRECTION = attrgetter("operation"), attrgetter("memcpy_direction")
_SIZE, _DATA_SIZE, _COUNT, _DATA_TYPE = map(attrgetter, ("size", "data_size", "count", "data_type"))
_NULL = msgspec.Raw(b"null")


class _Event(msgspec.Struct, gc=False):
    """One trace event; `ts` and `dur` kept as their JSON text, decoded for all events at once."""

    ph: str = ""
    name: str = ""
    cat: str = ""
    pid: Scalar = NONE
    tid: Scalar = NONE
    ts: msgspec.Raw = _NULL
    dur: msgspec.Raw = _NULL
    args: _Args = _NO_ARGS


class _TypedEvent(msgspec.Struct, gc=False):
    """The event with `ts` / `dur` typed: decoded only to report an unusable time as an input error."""

    ts: Decimal | None = None
    dur: Decimal | None = None


class _Columns(NamedTuple):
    """The X events of known layers: per event its layer and fields, times in ns."""

    events: list[_Event]
    layer: np.ndarray
    start: np.ndarray
    dur: np.ndarray


def decode(path: Path) -> list[_Event]:
    """All events of one timeline file (gzipped or not; unterminated arrays are read up to their last
    complete event); anything but a JSON array of events is an input error."""
    return decode_json_array(path, read_buffer(path), _Event, "msprof timeline")


def read_timelines(paths: list[Path], rows: EventRows, default_device: int) -> dict[str, object]:
    """Append the events of one rank's timeline files (slices of one trace) to `rows`.

    Returns what was seen: the layers present and the device ids.
    """
    with gc_paused():  # millions of new objects and no cycles: collections would only rescan them
        return _read_timelines(paths, rows, default_device)


def _read_timelines(paths: list[Path], rows: EventRows, default_device: int) -> dict[str, object]:
    files = [(path, decode(path)) for path in paths]
    phases = [np.array(list(map(_PH, events)), dtype=object) for _, events in files]
    meta = [_pick(events, np.flatnonzero(ph == "M")) for (_, events), ph in zip(files, phases, strict=True)]
    processes, threads, devices = _metadata(chain.from_iterable(meta))
    layers = set(processes.values())
    if not layers & {HARDWARE, CANN, OVERLAP, *COMMUNICATION_LAYERS}:
        raise TraceError(
            paths[0], "not an msprof timeline: no Ascend Hardware, CANN or HCCL process metadata"
        )
    columns = _joined(
        [_timed(path, events, ph == "X", processes) for (path, events), ph in zip(files, phases, strict=True)]
    )
    communication = np.flatnonzero(np.isin(columns.layer, COMMUNICATION_LAYERS))
    comm_ops = not _planes(threads, _pick(columns.events, communication)).all()
    usable = (columns.start != checked.INVALID_NS) & (columns.dur != checked.INVALID_NS)
    _add_layers(rows, _selected(columns, usable), devices, default_device, threads, comm_ops)
    return {"layers": sorted(layers), "devices": sorted(set(devices.values()) or {default_device})}


def _timed(path: Path, events: list[_Event], is_x: np.ndarray, processes: dict) -> _Columns:
    """The X events of known layers of one file, their times converted (unusable ones counted)."""
    xs = _pick(events, np.flatnonzero(is_x))
    layer = np.array(list(map(processes.get, map(_PID, xs))), dtype=object)
    keep = np.flatnonzero(np.not_equal(layer, None))
    timed = _pick(xs, keep)
    start = us_column_to_ns(binary_cells(list(map(_TS, timed))), "ts", _time_of(path, "ts"))
    dur = us_column_to_ns(binary_cells(list(map(_DUR, timed))), "dur", _time_of(path, "dur"))
    return _Columns(timed, layer[keep], start, dur)


def _pick(items: list, rows: np.ndarray) -> list:
    """items[i] for each index of `rows`, in that order (one C-level look-up, no Python loop)."""
    if len(rows) == len(items):
        return items  # rows are the sorted indices of a mask: all of them
    if len(rows) < 2:
        return [items[i] for i in rows.tolist()]
    return list(itemgetter(*rows.tolist())(items))


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
        list(chain.from_iterable(part.events for part in parts)),
        *(np.concatenate([getattr(part, name) for part in parts]) for name in ("layer", "start", "dur")),
    )


def _selected(columns: _Columns, keep: np.ndarray) -> _Columns:
    events = _pick(columns.events, np.flatnonzero(keep))
    return _Columns(events, columns.layer[keep], columns.start[keep], columns.dur[keep])


def _metadata(events: Iterable[_Event]) -> tuple[dict, dict, dict]:
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


def _planes(threads: dict, events: list[_Event]) -> np.ndarray:
    """Per event, whether its thread is a "Plane" of a collective (its sub-tasks), once per thread."""
    keys = list(zip(map(_PID, events), map(_TID, events), strict=True))
    plane = cached_map(keys, lambda key: threads.get(key, "").startswith("Plane"))
    return np.array(plane, dtype=bool)


def _add_layers(
    rows: EventRows, columns: _Columns, devices: dict, default_device: int, threads: dict, comm_ops: bool
) -> None:
    """The usable events as rows, by layer, in file order."""
    events = columns.events
    pids = list(map(_PID, events))
    tid = to_ints(list(map(_TID, events)), "tid")
    pid = to_ints(pids, "pid")
    connection = to_ints(list(map(_CONNECTION, events)), "connection_id")
    device = np.fromiter(map(devices.get, pids, repeat(default_device)), dtype=np.int64, count=len(pids))
    names = np.array(list(map(_NAME, events)), dtype=object)
    common = _Common(names, columns.start, columns.dur, columns.layer, tid, pid, connection, device)
    kind = np.full(len(events), -1, dtype=np.int64)
    fields: dict[str, np.ndarray] = {}
    _device_tasks(common, events, kind, fields, comm_ops)
    _host_layers(common, events, kind, fields, threads)
    keep = kind >= 0
    keep = slice(None) if keep.all() else keep  # usually every event: no copy of each column
    rows.add_block(
        names[keep], start_ns=columns.start[keep], dur_ns=columns.dur[keep], kind=kind[keep],
        correlation=connection[keep], layer=columns.layer[keep],
        **{name: values[keep] for name, values in fields.items()},
    )  # fmt: skip


class _Common(NamedTuple):
    name: np.ndarray
    start: np.ndarray
    dur: np.ndarray
    layer: np.ndarray
    tid: np.ndarray
    pid: np.ndarray
    connection: np.ndarray
    device: np.ndarray


def _field(fields: dict[str, np.ndarray], name: str, n: int, default: int | str = NONE) -> np.ndarray:
    if name not in fields:
        fields[name] = np.full(n, default, dtype=object if isinstance(default, str) else np.int64)
    return fields[name]


def _device_tasks(
    common: _Common, events: list[_Event], kind: np.ndarray, fields: dict, comm_ops: bool
) -> None:
    """Ascend Hardware tasks: kernels, waits, bookkeeping, copies (with direction and bytes)."""
    rows = np.flatnonzero(common.layer == HARDWARE)
    if not len(rows):
        return
    n, args = len(kind), list(map(_ARGS, _pick(events, rows)))
    raw_types, type_code = distinct_codes(list(map(_TASK_TYPE, args)))
    types = [_text(value) for value in raw_types]
    task_type = np.array(types, dtype=object)[type_code]
    stream = to_ints(_first_given(args, _PHYSIC_STREAM, _STREAM), "Stream Id")
    stream = np.where(stream == NONE, common.tid[rows], stream)
    names, name_code = distinct_codes(common.name[rows].tolist())
    pairs, pair_code = np.unique(name_code * len(types) + type_code, return_inverse=True)
    pair_kind = [
        device_task_kind(names[p // len(types)], types[p % len(types)], comm_ops) for p in pairs.tolist()
    ]
    kind[rows] = np.array(pair_kind, dtype=np.int64)[pair_code]
    for name, values in (("device", common.device[rows]), ("stream", stream), ("thread", stream)):
        _field(fields, name, n)[rows] = values
    _field(fields, "task_type", n, "")[rows] = task_type
    copies = np.flatnonzero(name_code == names.index("MEMCPY_ASYNC")) if "MEMCPY_ASYNC" in names else []
    if len(copies):
        _copies(rows[copies], _pick(args, copies), task_type[copies], kind, fields)


def _copies(
    rows: np.ndarray, args: list[_Args], task_type: np.ndarray, kind: np.ndarray, fields: dict
) -> None:
    n = len(kind)
    how = list(zip(task_type.tolist(), map(_OPERATION, args), map(_MEMCPY_DIRECTION, args), strict=True))
    direction = np.array(cached_map(how, lambda h: int(copy_direction(*h))), dtype=np.int64)
    size = to_ints(_first_given(args, _SIZE, _DATA_SIZE), "size(B)", 0)
    kind[rows] = Kind.MEMCPY
    _field(fields, "copy_direction", n, 0)[rows] = direction
    _field(fields, "src_memory", n, 0)[rows] = SOURCE_MEMORY[direction]
    _field(fields, "dst_memory", n, 0)[rows] = DESTINATION_MEMORY[direction]
    _field(fields, "bytes", n)[rows] = size


def _host_layers(
    common: _Common, events: list[_Event], kind: np.ndarray, fields: dict, threads: dict
) -> None:
    """Collectives, CANN API calls, the Overlap Analysis layer, framework operators and steps."""
    n = len(kind)
    for layer in COMMUNICATION_LAYERS:
        rows = np.flatnonzero(common.layer == layer)
        rows = rows[~_planes(threads, _pick(events, rows))]
        kind[rows] = Kind.COMMUNICATION  # plane sub-tasks repeat the Ascend Hardware tasks: skipped
        _field(fields, "device", n)[rows] = common.device[rows]
        _field(fields, "bytes", n)[rows] = _hccl_bytes(list(map(_ARGS, _pick(events, rows))))
    rows = np.flatnonzero(common.layer == CANN)
    sync = cached_map(common.name[rows].tolist(), lambda name: bool(SYNC_CALL.search(name)))
    kind[rows] = np.where(np.array(sync, dtype=bool), Kind.SYNC, Kind.RUNTIME)
    _process_thread(common, rows, fields)
    rows = np.flatnonzero(common.layer == OVERLAP)
    kind[rows] = Kind.MARKER
    _field(fields, "device", n)[rows] = common.device[rows]
    rows = np.flatnonzero(np.isin(common.layer, HOST_LAYERS))
    step = np.array(per_distinct(common.name[rows].tolist(), _step_number), dtype=np.int64)
    marker = common.layer[rows] == "MsprofTx"
    kind[rows] = np.where(step != NONE, Kind.STEP, np.where(marker, Kind.MARKER, Kind.CPU_OP))
    _field(fields, "step", n)[rows] = step
    _process_thread(common, rows, fields)


def _hccl_bytes(args: list[_Args]) -> np.ndarray:
    """An HCCL op's message size: `count` elements of `data_type` (readers/collectives.py); NONE
    when either is missing."""
    count = to_ints(list(map(_COUNT, args)), "count", 0)
    element = np.array(cached_map(list(map(_DATA_TYPE, args)), dtype_bytes), dtype=np.int64)
    return np.where((count != NONE) & (element != NONE), count * element, NONE)


def _process_thread(common: _Common, rows: np.ndarray, fields: dict) -> None:
    _field(fields, "process", len(common.name))[rows] = common.pid[rows]
    _field(fields, "thread", len(common.name))[rows] = common.tid[rows]


def _step_number(name: str) -> int:
    step = STEP_NAME.match(name)
    return to_int(step.group(1), "step") if step else NONE


def _first_given(args: list[_Args], first: attrgetter, second: attrgetter) -> list[Scalar]:
    """Per args, its `first` field, or its `second` where `first` is absent (null)."""
    values = list(map(first, args))
    if None not in values:
        return values
    chosen = np.array(values, dtype=object)
    absent = np.flatnonzero(np.equal(chosen, None))
    chosen[absent] = list(map(second, _pick(args, absent)))
    return chosen.tolist()


def _text(value: Scalar) -> str:
    return value if isinstance(value, str) else ""
