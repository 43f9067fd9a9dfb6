"""Decoded events to columns: one `Piece` per decoded list of events (a whole trace, or one chunk of
its `traceEvents` array), converted with the checked conversions of tracekit/readers/checked.py.

A piece keeps its own name dictionary (first-seen order); `assemble` merges the pieces of a trace
in file order, so the merged dictionary is in first-seen order too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import chain, compress, count
from operator import attrgetter

import numpy as np

from tracekit.model.arrays import binary, numeric
from tracekit.model.schema import NONE, CopyDirection, Kind, MemoryKind
from tracekit.model.steps import STEP_NAME
from tracekit.readers import checked, timeunits
from tracekit.readers.collectives import kineto_collectives
from tracekit.readers.decimal_cells import layout_ns
from tracekit.readers.kineto.events import EXACT, TEXT_TIMES, IntOrStr
from tracekit.readers.names import COMMUNICATION, SYNC_CALL, name_flags

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
PHASE_CODES = {"X": 0, "B": 1, "E": 2}
MEMORY_NAME = "[memory]"
INPUT_COLUMNS = ("input_shapes", "input_dtypes", "input_values")
"""Optional CPU-op columns (docs/model.md): `Input Dims`, `Input type`, `Concrete Inputs` as JSON text."""
TEXT_COLUMNS = (*INPUT_COLUMNS, "collective")
"""The optional text columns a piece may carry: the inputs, and NCCL kernels' `Collective name`."""
_INPUT_FIELDS = ("input_dims", "input_type", "concrete_inputs")
_SPAN_ARGS = ("device", "stream", "correlation", "bytes", "external_id", "external_id_2021")
"""The args fields of spans (X, B/E events)."""
_MEMORY_ARGS = ("device_type", "device_id", "size", "total_allocated")
"""The args fields of `[memory]` instants."""
_CPU_DEVICE_TYPE = 0  # c10::DeviceType::CPU; CUDA is 1, HIP 6, XPU 12, MPS 13, PrivateUse1 (NPU) 20
_KEY = attrgetter("name", "cat", "pid", "tid")  # few distinct combinations: a few hundred per million


@dataclass
class Piece:
    """The rows of one decoded list of events, before the table-wide checks (checked.event_table).

    `names`/`inputs` are local dictionaries with int32 codes per row; `memory` the raw `[memory]`
    instants; `phases` (0 X, 1 B, 2 E) and `pair_keys` (the (pid, tid) of each row, as codes into
    `pairs`) are set only when B/E events are still to be paired across pieces.
    """

    rows: int
    columns: dict[str, np.ndarray]
    names: list[str]
    name_codes: np.ndarray
    inputs: dict[str, tuple[list[str], np.ndarray]] | None = None
    memory: dict[str, np.ndarray] | None = None
    phases: np.ndarray | None = None
    pairs: list[tuple] | None = None
    pair_keys: np.ndarray | None = None
    decoded: int = 0
    text_bytes: int = 0
    problems: checked.Problems | None = None  # a chunk's, noted when its piece is taken


Coded = tuple[list[str], np.ndarray]
"""A text field as its distinct values (first-seen order) and each row's code (int32)."""
Redecode = Callable[[tuple[type, type]], list]
"""The same events decoded again with other structs (events.TEXT_TIMES, events.EXACT)."""


def to_piece(decoded: list, redecode: Redecode, pair_here: bool, text_times: bool = False) -> Piece:
    """Convert decoded events (with `text_times`, decoded with events.TEXT_TIMES); `redecode` gives
    them with their times' text, or as exact decimals, when floats cannot hold the values. With
    `pair_here` (the whole trace), B/E pairs are closed now; else they are left to `assemble`, which
    pairs them across pieces."""
    if text_times:
        events, memory, pairs, (start_ns, dur_ns, memory_ns) = _exact(decoded, redecode)
    else:
        events, memory, pairs = spans_and_memory(decoded)
        start_ns, dur_ns = _times(events)
        memory_ns = _times(memory)[0]
        if start_ns is None or memory_ns is None:
            events, memory, pairs, (start_ns, dur_ns, memory_ns) = _exact(redecode(TEXT_TIMES), redecode)
    phases = None
    if pair_here:
        events, start_ns, dur_ns = close_begin_end_pairs(events, start_ns, dur_ns)
    elif pairs:
        phases = _phases(events)
    samples = _memory_instants(memory, memory_ns)  # before the spans, so warnings keep their order
    piece = _span_piece(events, start_ns, dur_ns)
    piece.memory = samples
    piece.decoded = len(decoded)
    if phases is not None:
        piece.phases = phases
        (pids, tids), piece.pair_keys = _distinct(map(attrgetter("pid", "tid"), events), len(events), 2)
        piece.pairs = list(zip(pids, tids, strict=True))
    return piece


def spans_and_memory(decoded: list) -> tuple[list, list, bool]:
    """The spans (complete X and begin/end B, E events) and the `[memory]` instants, in file order,
    and whether some spans are B/E; flows, other instants and metadata go. Names are compared on
    instants only: they are few unless memory was profiled."""
    phases = list(map(attrgetter("ph"), decoded))
    spans = list(compress(decoded, map(_SPAN_PHASES.__contains__, phases)))
    instants = list(compress(decoded, map(_INSTANT_PHASES.__contains__, phases)))
    memory = list(compress(instants, map(MEMORY_NAME.__eq__, map(attrgetter("name"), instants))))
    return spans, memory, "B" in phases or "E" in phases


def _phases(events: list) -> np.ndarray:
    """Phase codes of the spans (0 X, 1 B, 2 E)."""
    phases = map(PHASE_CODES.__getitem__, map(attrgetter("ph"), events))
    return np.fromiter(phases, dtype=np.int8, count=len(events))


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


def _exact(
    decoded: list, redecode: Redecode
) -> tuple[list, list, bool, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The spans, `[memory]` instants and B/E flag of events decoded with their times' text, with
    exact ns (span starts, durations, instants' times): a whole column at once
    (decimal_cells.layout_ns) when every cell has a common layout and is in range; else each through
    Decimal (`redecode`), which notes the rest."""
    events, memory, pairs = spans_and_memory(decoded)
    times = [_text_ns(found, field) for found, field in ((events, "ts"), (events, "dur"), (memory, "ts"))]
    if any(t is None for t in times):
        events, memory, pairs = spans_and_memory(redecode(EXACT))
        times = [*_exact_times(events), _exact_times(memory)[0]]
    return events, memory, pairs, tuple(times)


def _text_ns(events: list, field: str) -> np.ndarray | None:
    """The field's exact ns from its JSON text; None when a cell needs the Decimal way."""
    ns, done, beyond = layout_ns(binary(list(map(attrgetter(field), events))))
    return ns if done.all() and not beyond.any() else None


def _exact_times(events: list) -> tuple[np.ndarray, np.ndarray]:
    ts = np.fromiter((checked.us_to_ns(e.ts, "ts") for e in events), dtype=np.int64, count=len(events))
    dur = np.fromiter((checked.us_to_ns(e.dur, "dur") for e in events), dtype=np.int64, count=len(events))
    return ts, dur


def close_begin_end_pairs(events: list, start_ns: np.ndarray, dur_ns: np.ndarray) -> tuple:
    """Turn B/E pairs (per process and thread, properly nested) into spans; drop unmatched ones."""
    phases = [e.ph for e in events]
    if "B" not in phases:
        return events, start_ns, dur_ns
    keep = pair_rows(phases, [(e.pid, e.tid) for e in events], start_ns, dur_ns)
    index = np.flatnonzero(keep)
    return [events[i] for i in index], start_ns[index], dur_ns[index]


def pair_rows(phases, keys, start_ns: np.ndarray, dur_ns: np.ndarray) -> np.ndarray:
    """The rows to keep after pairing: X rows and matched B rows, whose `dur_ns` is set in place.
    `phases` holds "X"/"B"/"E" or their codes (0, 1, 2); `keys` the (process, thread) of each row."""
    keep = np.ones(len(phases), dtype=bool)
    open_spans: dict[object, list[int]] = {}
    for i, phase in enumerate(phases):
        if phase in ("X", 0):
            continue
        keep[i] = False
        stack = open_spans.setdefault(keys[i], [])
        if phase in ("B", 1):
            stack.append(i)
        elif stack:
            begin = stack.pop()
            keep[begin] = True
            known = checked.INVALID_NS not in (start_ns[i], start_ns[begin])
            dur_ns[begin] = start_ns[i] - start_ns[begin] if known else checked.INVALID_NS
    return keep


def _memory_instants(events: list, start_ns: np.ndarray) -> dict[str, np.ndarray] | None:
    """The `[memory]` instants of accelerator devices as columns, in file order (CPU samples are
    left out); None when there are none."""
    if not events:
        return None
    args = _arg_ints(events, _MEMORY_ARGS)
    device_type, device = args["device_type"], args["device_id"]
    rows = np.flatnonzero((device_type != _CPU_DEVICE_TYPE) & (device_type != NONE) & (device >= 0))
    if len(rows) == 0:
        return None
    columns = {"start_ns": start_ns[rows], "device": device[rows], "size": args["size"][rows]}
    columns["total"] = args["total_allocated"][rows]
    columns["process"] = _ints(events, "pid")[rows]  # the host thread that allocated or freed
    columns["thread"] = _ints(events, "tid")[rows]
    return columns


def _span_piece(events: list, start_ns: np.ndarray, dur_ns: np.ndarray) -> Piece:
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
    codes = names[1]
    texts = _input_columns(events, kind, n)
    comms = np.flatnonzero(kind == Kind.COMMUNICATION)
    sizes, collectives = kineto_collectives([events[i].args for i in comms], comms, n)
    columns["bytes"] = np.where(sizes != NONE, sizes, columns["bytes"])
    if collectives:
        columns["group_size"] = collectives["group_size"]
        texts = {**(texts or {}), "collective": _encoded(collectives["collective"])}
    return Piece(n, columns, names[0], codes, texts)


def _input_columns(events: list, kind: np.ndarray, rows: int) -> dict[str, tuple[list, np.ndarray]] | None:
    """The CPU ops' `Input Dims`, `Input type` and `Concrete Inputs` (record_shapes=True) as JSON text
    (dictionary, codes), "" on other rows; None when no operator has them. The raw texts are coded by
    Arrow's hashing; each distinct one is decoded once."""
    ops = np.flatnonzero(kind == Kind.CPU_OP)
    args = [events[i].args for i in ops]
    if not any(map(len, map(attrgetter("input_dims"), args))):
        return None
    columns = {}
    for name, field in zip(INPUT_COLUMNS, _INPUT_FIELDS, strict=True):
        raws = binary(list(map(attrgetter(field), args))).dictionary_encode()
        dictionary = [text.decode() for text in raws.dictionary.to_pylist()]
        if "" not in dictionary:
            dictionary.append("")
        codes = np.full(rows, dictionary.index(""), dtype=np.int32)
        codes[ops] = numeric(raws.indices)
        columns[name] = (dictionary, codes)
    return columns


def _encoded(text: np.ndarray) -> Coded:
    """A text column as (dictionary, codes)."""
    return _coded(text.tolist())


def _coded(values: Sequence[str]) -> Coded:
    """The distinct values in first-seen order, and each value's code among them."""
    code_of = {value: code for code, value in enumerate(dict.fromkeys(values))}
    return list(code_of), np.fromiter(map(code_of.__getitem__, values), dtype=np.int32, count=len(values))


def _kinds(categories: Coded, names: Coded) -> np.ndarray:
    category_list, category_index = categories
    by_category = np.array(
        [_CATEGORY_KINDS.get(c.lower(), Kind.CPU_OP) for c in category_list] or [Kind.CPU_OP], dtype=np.int8
    )
    kind = by_category[category_index]
    name_list, name_index = names
    communication = name_flags(name_list, COMMUNICATION)[name_index]
    kind[(kind == Kind.KERNEL) & communication] = Kind.COMMUNICATION
    sync_call = name_flags(name_list, SYNC_CALL)[name_index]
    kind[(kind == Kind.RUNTIME) & sync_call] = Kind.SYNC
    kind[name_flags(name_list, STEP_NAME)[name_index]] = Kind.STEP
    return kind


def _device_side(categories: Coded) -> np.ndarray:
    flags = [c.lower() in _DEVICE_SIDE_CATEGORIES for c in categories[0]]
    return np.array(flags or [False], dtype=bool)[categories[1]]


def _step_numbers(names: Coded, kind: np.ndarray) -> np.ndarray:
    """Step number on ProfilerStep#N rows; NONE elsewhere (assign_steps fills the rest)."""
    per_name = [STEP_NAME.match(n) for n in names[0]]
    numbers = np.array([checked.integer(m.group(1), "step") if m else NONE for m in per_name] or [NONE])
    steps = numbers[names[1]]
    return np.where(kind == Kind.STEP, steps, NONE)


def _copy_columns(names: Coded, kind: np.ndarray) -> dict[str, np.ndarray]:
    parsed = np.array([_parse_copy_name(n) for n in names[0]] or [(0, 0, 0)], dtype=np.int8)
    per_event = parsed[names[1]]
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


def _dictionary(values: tuple[str, ...], key: np.ndarray) -> Coded:
    """A string field given once per distinct key, coded in first-seen order."""
    distinct, per_key = _coded(values)
    return distinct, per_key[key]


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
