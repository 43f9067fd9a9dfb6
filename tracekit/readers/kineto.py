"""Reader for PyTorch-profiler (Kineto) traces and generic Chrome trace JSON.

Handles every Kineto schema era: the current lower-case categories (kernel, gpu_memcpy, cpu_op, ...),
the 2021 capitalised ones (Kernel, Memcpy, Runtime, Operator), ROCm traces, and plain Chrome traces
(array form or {"traceEvents": [...]}, e.g. VizTracer) for CPU-side analysis. Only the fields tracekit
needs are decoded, with a typed msgspec decoder.
"""

from __future__ import annotations

import gc
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from functools import partial
from itertools import chain, compress, count
from operator import attrgetter
from pathlib import Path

import msgspec
import numpy as np
import pyarrow as pa

from tracekit.errors import TraceError
from tracekit.model.schema import (
    EVENT_SCHEMA,
    NONE,
    CopyDirection,
    Kind,
    MemoryKind,
    column_default,
)
from tracekit.model.steps import STEP_NAME, assign_steps
from tracekit.model.trace import Trace
from tracekit.readers import checked, timeunits
from tracekit.readers.collectives import kineto_collectives
from tracekit.readers.names import COMMUNICATION, SYNC_CALL, name_flags
from tracekit.readers.source import decode_json, decode_json_array, read_buffer

IntOrStr = int | str | None
Loose = int | float | str | None

_KINETO_MARKS = re.compile(
    rb'"(schemaVersion|deviceProperties|distributedInfo)"|ProfilerStep#|'
    rb'"cat"\s*:\s*"(kernel|Kernel|cpu_op|Operator|cuda_runtime|Runtime|gpu_memcpy|Memcpy|'
    rb'cuda_driver|gpu_memset|Memset|user_annotation)"'
)
_CHROME_ARRAY = re.compile(rb"^\s*\[\s*(\]|\{|$)")
_JSON_OBJECT = re.compile(rb"^\s*\{")
_TRACE_EVENTS_KEY = re.compile(rb'"traceEvents"\s*:')
KNOWN_SCHEMA_VERSIONS = frozenset({1})
"""Kineto `schemaVersion` values tracekit was tested on (PyTorch 1.8 to 2.9 write 1)."""
_COPY = re.compile(r"^Memcpy ([A-Z])to([A-Z])(?: \(([\w ]+?) -> ([\w ]+?)\))?")

_CATEGORY_KINDS = {
    "kernel": Kind.KERNEL,
    "gpu_memcpy": Kind.MEMCPY,
    "memcpy": Kind.MEMCPY,
    "gpu_memset": Kind.MEMSET,
    "memset": Kind.MEMSET,
    "cuda_runtime": Kind.RUNTIME,
    "cuda_driver": Kind.RUNTIME,
    "runtime": Kind.RUNTIME,
    "cuda_sync": Kind.SYNC,
    "user_annotation": Kind.MARKER,
    "gpu_user_annotation": Kind.MARKER,
    "trace": Kind.MARKER,
}
_DEVICE_SIDE_CATEGORIES = frozenset(
    {"kernel", "gpu_memcpy", "memcpy", "gpu_memset", "memset", "cuda_sync", "gpu_user_annotation"}
)
_ENDPOINTS = {"H": "H", "D": "D", "A": "D", "P": "P"}
_DIRECTIONS = {
    ("H", "D"): CopyDirection.H2D,
    ("D", "H"): CopyDirection.D2H,
    ("D", "D"): CopyDirection.D2D,
    ("P", "P"): CopyDirection.P2P,
    ("H", "H"): CopyDirection.H2H,
}
_MEMORY_KINDS = {
    "pageable": MemoryKind.PAGEABLE,
    "pinned": MemoryKind.PINNED,
    "device": MemoryKind.DEVICE,
    "device static": MemoryKind.DEVICE,
    "array": MemoryKind.DEVICE,
    "managed": MemoryKind.MANAGED,
    "managed static": MemoryKind.MANAGED,
    "host": MemoryKind.HOST,
}
_SPAN_PHASES = frozenset({"X", "B", "E"})
_INSTANT_PHASES = frozenset({"i", "I"})
_MEMORY_NAME = "[memory]"
INPUT_COLUMNS = ("input_shapes", "input_dtypes", "input_values")
_TEXT = pa.dictionary(pa.int32(), pa.string())
"""Optional CPU-op columns (docs/model.md): `Input Dims`, `Input type`, `Concrete Inputs` as JSON text."""
_CPU_DEVICE_TYPE = 0  # c10::DeviceType::CPU; CUDA is 1, HIP 6, XPU 12, MPS 13, PrivateUse1 (NPU) 20


def sniff_kineto(head: bytes) -> bool:
    """True when the first bytes look like a PyTorch-profiler trace."""
    return looks_like_chrome(head) and _KINETO_MARKS.search(head) is not None


def looks_like_chrome(head: bytes) -> bool:
    """True when the first bytes look like Chrome trace JSON: an array of events, or an object whose
    `traceEvents` key (or a Kineto header key before it) appears in the head."""
    if _CHROME_ARRAY.match(head):
        return True
    header_key = _TRACE_EVENTS_KEY.search(head) or _KINETO_MARKS.search(head)
    return bool(_JSON_OBJECT.match(head)) and header_key is not None


def read_kineto(path: Path) -> Trace:
    """Read a PyTorch-profiler trace (host events alone are read too: the reader policy warns)."""
    return _read(path, "kineto")


def read_chrome(path: Path) -> Trace:
    """Read generic Chrome trace JSON (CPU-side analysis; device events are kept if present)."""
    return _read(path, "chrome")


# --- decoding -------------------------------------------------------------------------------------


class _Args(msgspec.Struct, frozen=True, gc=False):
    device: Loose = NONE
    stream: Loose = NONE
    correlation: Loose = NONE
    bytes: Loose = NONE
    external_id: Loose = msgspec.field(name="External id", default=NONE)
    external_id_2021: Loose = msgspec.field(name="external id", default=NONE)
    # `[memory]` instants (profile_memory=True): c10 device type (0 CPU), device index, the signed
    # size of the allocation (+) or free (-), and the device's total allocated after it (newer
    # profilers only). Floats are accepted: other events may use these keys for other things.
    device_type: Loose = msgspec.field(name="Device Type", default=NONE)
    device_id: Loose = msgspec.field(name="Device Id", default=NONE)
    size: Loose = msgspec.field(name="Bytes", default=0)  # -1 is a size (a 1-byte free), not NONE
    total_allocated: Loose = msgspec.field(name="Total Allocated", default=NONE)
    # CPU ops recorded with record_shapes=True: kept as raw JSON text, decoded only for CPU ops
    input_dims: msgspec.Raw = msgspec.field(name="Input Dims", default=msgspec.Raw())
    input_type: msgspec.Raw = msgspec.field(name="Input type", default=msgspec.Raw())
    concrete_inputs: msgspec.Raw = msgspec.field(name="Concrete Inputs", default=msgspec.Raw())
    # NCCL kernels (readers/collectives.py): the collective's parameters, copied by Kineto
    collective: Loose = msgspec.field(name="Collective name", default=None)
    in_nelems: Loose = msgspec.field(name="In msg nelems", default=None)
    out_nelems: Loose = msgspec.field(name="Out msg nelems", default=None)
    group_size: Loose = msgspec.field(name="Group size", default=None)
    dtype: Loose = None


_SPAN_ARGS = ("device", "stream", "correlation", "bytes", "external_id", "external_id_2021")
"""The args fields of spans (X, B/E events)."""
_MEMORY_ARGS = ("device_type", "device_id", "size", "total_allocated")
"""The args fields of `[memory]` instants."""


_NO_ARGS = _Args()


class _Event(msgspec.Struct, gc=False):
    """One trace event, only the fields tracekit needs; times in µs as written (the fast path)."""

    ph: str = ""
    cat: str = ""
    name: str = ""
    pid: IntOrStr = NONE
    tid: IntOrStr = NONE
    ts: int | float = math.nan  # integer literals stay int, so exactness can be checked; NaN: no ts
    dur: int | float = 0
    args: _Args = _NO_ARGS  # shared: flows and instants without args allocate nothing


class _ExactEvent(_Event, gc=False):
    """The same event with times as exact decimals, for values a float cannot hold."""

    ts: Decimal = Decimal("NaN")
    dur: Decimal = Decimal(0)


class _Document(msgspec.Struct, gc=False):
    traceEvents: list[_Event] | None = None
    schemaVersion: Loose = None
    deviceProperties: msgspec.Raw = msgspec.Raw()
    distributedInfo: msgspec.Raw = msgspec.Raw()


class _ExactDocument(msgspec.Struct, gc=False):
    traceEvents: list[_ExactEvent] | None = None


class _DeviceProperties(msgspec.Struct, gc=False):
    """One entry of Kineto's `deviceProperties` header (only what tracekit reports)."""

    id: Loose = None
    name: Loose = ""
    computeMajor: Loose = None
    computeMinor: Loose = None
    numSms: Loose = None


_FAST = (_Event, _Document)
_EXACT = (_ExactEvent, _ExactDocument)


def _decode(path: Path, data, types: tuple[type, type], header: dict) -> list:
    """The events of the array or object form; the object's header (version, devices) goes into
    `header`. An unterminated array is read up to its last complete event (source.decode_json_array)."""
    event_type, document_type = types
    if _CHROME_ARRAY.match(data):
        return decode_json_array(path, data, event_type, "trace JSON")
    return _document_events(path, decode_json(path, data, document_type, "trace JSON"), header)


def _document_events(path: Path, document, header: dict) -> list:
    if document.traceEvents is None:
        raise TraceError(path, "a JSON object without a traceEvents array: not a Chrome trace")
    if isinstance(document, _Document):
        header.update(_header(document))
    return document.traceEvents


def _header(document: _Document) -> dict[str, object]:
    """Warnings about the schema version, and the GPUs of `deviceProperties`."""
    header: dict[str, object] = {}
    version = document.schemaVersion
    if version is not None and version not in KNOWN_SCHEMA_VERSIONS:
        shown = checked.text(version, "schemaVersion")[:20]
        header["warnings"] = [f"unknown Kineto schemaVersion {shown} (tested: 1); read as version 1"]
    gpus = _device_properties(document.deviceProperties)
    if gpus:
        header["gpus"] = gpus
    distributed = _distributed_info(document.distributedInfo)
    if distributed:
        header["distributed"] = distributed
    return header


def _distributed_info(raw: msgspec.Raw) -> dict[str, object]:
    """Rank, world size and backend of Kineto's `distributedInfo` header; {} when absent or malformed."""
    try:
        found = msgspec.json.decode(raw, type=dict[str, Loose]) if len(raw) else {}
    except (msgspec.DecodeError, RecursionError):
        checked.note("distributedInfo", "not an object of scalars, skipped")
        return {}
    rank = checked.integer(found.get("rank"), "distributedInfo.rank", 0)
    world = checked.integer(found.get("world_size"), "distributedInfo.world_size", 1)
    info = {"rank": rank, "world_size": world, "backend": checked.text(found.get("backend"), "backend")[:40]}
    return {key: value for key, value in info.items() if value not in (NONE, "")}


@contextmanager
def _gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# --- conversion to the canonical table -----------------------------------------------------------


def _read(path: Path, format_name: str) -> Trace:
    data = read_buffer(path)
    if not (_CHROME_ARRAY.match(data) or _JSON_OBJECT.match(data)):
        raise TraceError(path, "not Chrome trace JSON (expected a JSON array or an object with traceEvents)")
    metadata: dict[str, object] = {}
    with _gc_paused():  # millions of new objects and no cycles: collections would only rescan them
        events, memory = _spans_and_memory(_decode(path, data, _FAST, metadata))
        start_ns, dur_ns = _times(events)
        memory_ns = _times(memory)[0]
        if start_ns is None or memory_ns is None:
            events, memory = _spans_and_memory(_decode(path, data, _EXACT, {}))
            start_ns, dur_ns = _exact_times(events)
            memory_ns = _exact_times(memory)[0]
        del data
        events, start_ns, dur_ns = _close_begin_end_pairs(events, start_ns, dur_ns)
        samples, warnings = _memory_samples(memory, memory_ns)
        table = assign_steps(_to_table(events, start_ns, dur_ns, samples))
    if warnings:
        metadata["warnings"] = [*metadata.get("warnings", []), *warnings]
    return Trace(events=table, format=format_name, source=str(path), metadata=metadata)


def _spans_and_memory(decoded: list) -> tuple[list, list]:
    """The spans (complete X and begin/end B, E events) and the `[memory]` instants, in file order;
    flows, other instants and metadata go. Names are compared on instants only: they are few unless
    memory was profiled."""
    phases = list(map(attrgetter("ph"), decoded))
    spans = list(compress(decoded, map(_SPAN_PHASES.__contains__, phases)))
    instants = list(compress(decoded, map(_INSTANT_PHASES.__contains__, phases)))
    return spans, list(compress(instants, map(_MEMORY_NAME.__eq__, map(attrgetter("name"), instants))))


def _times(events: list) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Integer ns from float µs, or (None, None) when floats cannot hold the values exactly."""
    try:
        ts = np.fromiter(map(attrgetter("ts"), events), dtype=np.float64, count=len(events))
        dur = np.fromiter(map(attrgetter("dur"), events), dtype=np.float64, count=len(events))
    except OverflowError:  # an integer literal past float64: the exact path checks each value
        return None, None
    exact = timeunits.exact_in_float(ts, partial(_all_whole, events, "ts")) and timeunits.exact_in_float(
        dur, partial(_all_whole, events, "dur")
    )
    if not exact:
        return None, None
    return checked.float_us_to_ns(ts, "ts"), checked.float_us_to_ns(dur, "dur")


def _all_whole(events: list, field: str) -> bool:
    """True when the JSON wrote this field as an integer in every event."""
    return float not in set(map(type, map(attrgetter(field), events)))


def _exact_times(events: list) -> tuple[np.ndarray, np.ndarray]:
    ts = np.fromiter((checked.us_to_ns(e.ts, "ts") for e in events), dtype=np.int64, count=len(events))
    dur = np.fromiter((checked.us_to_ns(e.dur, "dur") for e in events), dtype=np.int64, count=len(events))
    return ts, dur


def _close_begin_end_pairs(events: list, start_ns: np.ndarray, dur_ns: np.ndarray) -> tuple:
    """Turn B/E pairs (per process and thread, properly nested) into spans; drop unmatched ones."""
    phases = [e.ph for e in events]
    if "B" not in phases:
        return events, start_ns, dur_ns
    keep = np.ones(len(events), dtype=bool)
    open_spans: dict[tuple, list[int]] = {}
    for i, event in enumerate(events):
        if event.ph == "X":
            continue
        keep[i] = False
        stack = open_spans.setdefault((event.pid, event.tid), [])
        if event.ph == "B":
            stack.append(i)
        elif stack:
            begin = stack.pop()
            keep[begin] = True
            known = checked.INVALID_NS not in (start_ns[i], start_ns[begin])
            dur_ns[begin] = start_ns[i] - start_ns[begin] if known else checked.INVALID_NS
    index = np.flatnonzero(keep)
    return [events[i] for i in index], start_ns[index], dur_ns[index]


def _memory_samples(events: list, start_ns: np.ndarray) -> tuple[dict[str, object] | None, list[str]]:
    """MEMORY rows (as columns) from the `[memory]` instants of accelerator devices, in time order,
    and the warnings they need. CPU samples are left out.

    `bytes` is the device's total allocated after the event: the trace's `Total Allocated`, or, when
    a device's samples lack it (older profilers), the running sum of their signed sizes raised by
    the least starting value that keeps it >= 0 (a lower bound: memory allocated before the capture
    and never freed in it is not seen).
    """
    if not events:
        return None, []
    args = _arg_ints(events, _MEMORY_ARGS)
    device_type, device = args["device_type"], args["device_id"]
    rows = np.flatnonzero((device_type != _CPU_DEVICE_TYPE) & (device_type != NONE) & (device >= 0))
    if len(rows) == 0:
        return None, []
    rows = rows[np.argsort(start_ns[rows], kind="stable")]
    device, size, total = device[rows], args["size"][rows], args["total_allocated"][rows].copy()
    warnings = []
    for d in np.unique(device):
        on = np.flatnonzero(device == d)
        if (total[on] != NONE).all():
            continue
        running = np.cumsum(size[on])
        total[on] = running + max(0, -int(running.min()))
        warnings.append(
            f"device {d}: the memory samples give no Total Allocated (older PyTorch profiler); allocated "
            "bytes are the running sum of allocation sizes since the capture began, so memory allocated "
            "before it is not counted (peak and levels are lower bounds; growth per step is exact)"
        )
    columns = {
        "start_ns": start_ns[rows],
        "dur_ns": np.zeros(len(rows), dtype=np.int64),
        "kind": np.full(len(rows), Kind.MEMORY, dtype=np.int8),
        "device": device,
        "process": _ints(events, "pid")[rows],  # the host thread that allocated or freed
        "thread": _ints(events, "tid")[rows],
        "bytes": total,
    }
    return columns, warnings


def _with_samples(columns: dict[str, object], n: int, samples: dict[str, object]) -> tuple[dict, int]:
    """The span columns followed by the memory-sample rows (name `[memory]`, defaults elsewhere)."""
    m = len(samples["start_ns"])
    names: pa.DictionaryArray = columns["name"]
    dictionary = names.dictionary.to_pylist()
    if _MEMORY_NAME not in dictionary:
        dictionary.append(_MEMORY_NAME)
    code = np.full(m, dictionary.index(_MEMORY_NAME), dtype=np.int32)
    indices = np.concatenate([names.indices.to_numpy(zero_copy_only=False), code])
    merged: dict[str, object] = {"name": pa.DictionaryArray.from_arrays(indices, dictionary)}
    for field in EVENT_SCHEMA.names:
        spans, memory = columns.get(field), samples.get(field)
        if field == "name" or (spans is None and memory is None):
            continue
        dtype = (spans if spans is not None else memory).dtype
        if spans is None:
            spans = np.full(n, column_default(field), dtype=dtype)
        if memory is None:
            memory = np.full(m, column_default(field), dtype=dtype)
        merged[field] = np.concatenate([spans, memory])
    return merged, n + m


def _to_table(
    events: list, start_ns: np.ndarray, dur_ns: np.ndarray, samples: dict[str, object] | None = None
) -> pa.Table:
    n = len(events)
    (names, categories, pids, tids), key = _distinct(map(_KEY, events), n, 4)
    names, categories = _dictionary(names, key), _dictionary(categories, key)
    kind = _kinds(categories, names)
    on_device = _device_side(categories)
    pid, tid = _int_values(pids, "pid")[key], _int_values(tids, "tid")[key]
    args = _arg_ints(events)
    stream = np.where(on_device, _first_known(args["stream"], tid), NONE)
    columns = {
        "start_ns": start_ns,
        "dur_ns": dur_ns,
        "kind": kind,
        "name": names,
        "device": np.where(on_device, _first_known(args["device"], pid), NONE),
        "stream": stream,
        "process": np.where(on_device, NONE, pid),
        "thread": np.where(on_device, stream, tid),
        "correlation": args["correlation"],
        "external_id": _first_known(args["external_id"], args["external_id_2021"]),
        "step": _step_numbers(names, kind),
        "bytes": args["bytes"],
    }
    columns.update(_copy_columns(names, kind))
    if samples is not None:
        columns, n = _with_samples(columns, n, samples)
    comms = np.flatnonzero(kind == Kind.COMMUNICATION)
    sizes, extra = kineto_collectives([events[i].args for i in comms], comms, n)
    columns["bytes"] = np.where(sizes != NONE, sizes, columns["bytes"])
    return checked.event_table(columns, n, {**_input_columns(events, kind, n), **extra})


def _input_columns(events: list, kind: np.ndarray, rows: int) -> dict[str, pa.Array]:
    """The CPU ops' `Input Dims`, `Input type` and `Concrete Inputs` (record_shapes=True) as JSON text,
    "" on other rows; no columns when no operator has them."""
    ops = np.flatnonzero(kind == Kind.CPU_OP)
    args = [events[i].args for i in ops]
    if not any(map(len, map(attrgetter("input_dims"), args))):
        return {}
    columns = {}
    for name, field in zip(INPUT_COLUMNS, ("input_dims", "input_type", "concrete_inputs"), strict=True):
        text = np.full(rows, "", dtype=object)
        text[ops] = [bytes(raw).decode() for raw in map(attrgetter(field), args)]
        columns[name] = pa.array(text, type=pa.string()).dictionary_encode().cast(_TEXT)
    return columns


def _device_properties(raw: msgspec.Raw) -> list[dict[str, object]]:
    """The GPUs of Kineto's `deviceProperties` header (name, compute capability, SMs); a malformed
    header is skipped (it describes the devices, it holds no events)."""
    if not len(raw):
        return []
    try:
        found = msgspec.json.decode(raw, type=list[_DeviceProperties])
    except (msgspec.DecodeError, RecursionError):
        checked.note("deviceProperties", "not a list of device records, skipped")
        return []
    return [
        {
            "id": checked.integer(p.id, "deviceProperties.id"),
            "name": checked.text(p.name, "deviceProperties.name")[:200],
            "compute_capability": f"{_small(p.computeMajor)}.{_small(p.computeMinor)}",
            "sm_count": checked.integer(p.numSms, "deviceProperties.numSms"),
        }
        for p in found
    ]


def _small(value: Loose) -> str:
    number = checked.integer(value, "deviceProperties.compute", 0, 1000)
    return "?" if number == NONE else str(number)


def _kinds(categories: pa.DictionaryArray, names: pa.DictionaryArray) -> np.ndarray:
    by_category = np.array(
        [_CATEGORY_KINDS.get(c.lower(), Kind.CPU_OP) for c in categories.dictionary.to_pylist()]
        or [Kind.CPU_OP],
        dtype=np.int8,
    )
    kind = by_category[categories.indices.to_numpy(zero_copy_only=False)]
    name_list = names.dictionary.to_pylist()
    name_index = names.indices.to_numpy(zero_copy_only=False)
    communication = name_flags(name_list, COMMUNICATION)[name_index]
    kind[(kind == Kind.KERNEL) & communication] = Kind.COMMUNICATION
    sync_call = name_flags(name_list, SYNC_CALL)[name_index]
    kind[(kind == Kind.RUNTIME) & sync_call] = Kind.SYNC
    kind[name_flags(name_list, STEP_NAME)[name_index]] = Kind.STEP
    return kind


def _device_side(categories: pa.DictionaryArray) -> np.ndarray:
    flags = [c.lower() in _DEVICE_SIDE_CATEGORIES for c in categories.dictionary.to_pylist()]
    return np.array(flags or [False], dtype=bool)[categories.indices.to_numpy(zero_copy_only=False)]


def _step_numbers(names: pa.DictionaryArray, kind: np.ndarray) -> np.ndarray:
    """Step number on ProfilerStep#N rows; NONE elsewhere (assign_steps fills the rest)."""
    per_name = [STEP_NAME.match(n) for n in names.dictionary.to_pylist()]
    numbers = np.array([checked.integer(m.group(1), "step") if m else NONE for m in per_name] or [NONE])
    steps = numbers[names.indices.to_numpy(zero_copy_only=False)]
    return np.where(kind == Kind.STEP, steps, NONE)


def _copy_columns(names: pa.DictionaryArray, kind: np.ndarray) -> dict[str, np.ndarray]:
    parsed = np.array(
        [_parse_copy_name(n) for n in names.dictionary.to_pylist()] or [(0, 0, 0)], dtype=np.int8
    )
    per_event = parsed[names.indices.to_numpy(zero_copy_only=False)]
    per_event[kind != Kind.MEMCPY] = 0
    return {
        "copy_direction": per_event[:, 0],
        "src_memory": per_event[:, 1],
        "dst_memory": per_event[:, 2],
    }


def _parse_copy_name(name: str) -> tuple[int, int, int]:
    """(direction, source memory, destination memory) from e.g. `Memcpy HtoD (Pageable -> Device)`."""
    match = _COPY.match(name)
    if match is None:
        return (CopyDirection.NA, MemoryKind.UNKNOWN, MemoryKind.UNKNOWN)
    src, dst = _ENDPOINTS.get(match.group(1), "?"), _ENDPOINTS.get(match.group(2), "?")
    direction = _DIRECTIONS.get((src, dst), CopyDirection.OTHER)
    return (direction, _memory_kind(match.group(3)), _memory_kind(match.group(4)))


def _memory_kind(text: str | None) -> int:
    return _MEMORY_KINDS.get((text or "").strip().lower(), MemoryKind.UNKNOWN)


_KEY = attrgetter("name", "cat", "pid", "tid")  # few distinct combinations: a few hundred per million


def _distinct(keys: Iterator[tuple], n: int, width: int) -> tuple[list[tuple], np.ndarray]:
    """The distinct key tuples, as `width` columns, and the index of each row's key.

    One C-driven pass (map, attrgetter, dict.setdefault, fromiter) codes several fields at once;
    each distinct value is then converted once instead of once per event.
    """
    first_row: dict[tuple, int] = {}
    first = np.fromiter(map(first_row.setdefault, keys, count()), dtype=np.int64, count=n)
    compact = np.zeros(n, dtype=np.int64)
    compact[list(first_row.values())] = np.arange(len(first_row))
    return (list(zip(*first_row, strict=True)) if first_row else [()] * width), compact[first]


def _dictionary(values: tuple[str, ...], key: np.ndarray) -> pa.DictionaryArray:
    """Dictionary array of a string field given once per distinct key (first-seen order)."""
    code_of = {value: code for code, value in enumerate(dict.fromkeys(values))}
    per_key = np.fromiter(map(code_of.__getitem__, values), dtype=np.int32, count=len(values))
    return pa.DictionaryArray.from_arrays(per_key[key], pa.array(list(code_of), type=pa.string()))


def _int_values(values: tuple[IntOrStr, ...], field: str) -> np.ndarray:
    """A few distinct ids as int64; numeric strings are parsed, labels ("stream 7") become NONE."""
    return checked.integers(values, field, labels=True)


def _arg_ints(events: list, fields: tuple[str, ...] = _SPAN_ARGS) -> dict[str, np.ndarray]:
    """The given fields of `args` as int64 columns, in one pass when they are all integers."""
    flat = list(chain.from_iterable(map(attrgetter(*fields), map(attrgetter("args"), events))))
    if set(map(type, flat)) != {int}:  # a string, null or float somewhere: checked field by field
        return {name: _ints(events, f"args.{name}") for name in fields}
    try:
        table = np.fromiter(flat, dtype=np.int64, count=len(flat)).reshape(len(events), len(fields))
    except OverflowError:
        return {name: _ints(events, f"args.{name}") for name in fields}
    return {name: table[:, i] for i, name in enumerate(fields)}


def _ints(events: list, field: str) -> np.ndarray:
    """One (dotted) field of every event as int64; numeric strings are parsed, others become NONE."""
    return checked.integers(list(map(attrgetter(field), events)), field.removeprefix("args."), labels=True)


def _first_known(preferred: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    return np.where(preferred != NONE, preferred, fallback)



