"""Nsight Systems activity as canonical rows: shared by the SQLite, JSON and stats-CSV readers.

Each source hands over plain column arrays per table (kernels, copies, memsets, API calls, syncs,
NVTX ranges, graph launches); these functions give them kinds, names and links, and `assemble`
concatenates them into one event table with steps assigned. Every table goes through
`checked.event_table`; times come through `times`, other integers through `checked.integers`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
import pyarrow as pa

from tracekit.model.arrays import numeric
from tracekit.model.schema import NONE, Kind, name_array
from tracekit.model.steps import STEP_NAME, assign_steps
from tracekit.readers import checked
from tracekit.readers.checked import INVALID_NS
from tracekit.readers.names import COMMUNICATION, SYNC_CALL, api_base_name, name_flags

Names = Sequence[str] | pa.Array
"""Event names: a list of str, or an Arrow (dictionary) string array."""
PID_BITS = 24
_ID_MASK = (1 << PID_BITS) - 1
NO_STREAM = 0xFFFFFFFF  # CUPTI's "no stream" in device and event synchronizations
SERIOUS_LEVELS = ("Warning", "Error")
DATA_LOSS = re.compile(r"might be missing|were lost|dropped", re.IGNORECASE)
"""nsys logs some data loss at info level (e.g. CUPTI buffers not flushed); those are warnings too."""


def pid_of(global_id: np.ndarray) -> np.ndarray:
    """Process id packed in an nsys globalPid / globalTid: bits 24..47."""
    pid = np.right_shift(np.asarray(global_id, dtype=np.int64), PID_BITS)
    pid &= _ID_MASK
    return pid


def tid_of(global_tid: np.ndarray) -> np.ndarray:
    """Thread id packed in an nsys globalTid: the low 24 bits."""
    return np.asarray(global_tid, dtype=np.int64) & _ID_MASK


def correlation_key(pid: np.ndarray, correlation: np.ndarray) -> np.ndarray:
    """Correlation ids are unique per process only: combine them with the pid; 0 means none."""
    correlation = np.asarray(correlation, dtype=np.int64)
    key = np.left_shift(np.asarray(pid, dtype=np.int64), 32)
    key |= correlation
    key[correlation <= 0] = NONE
    return key


def times(values: Sequence[object], field: str) -> np.ndarray:
    """Integer ns times (nsys writes ns since the capture start): INVALID_NS where a value is unusable
    or negative, noted per `field`; `checked.event_table` drops those events. An int64 array of
    usable times comes back as it is (never modified)."""
    column = _exact_int64(values)
    if column is None:
        column = np.fromiter((checked.ns(v, field) for v in values), dtype=np.int64, count=len(values))
    negative = (column < 0) & (column != INVALID_NS)
    if negative.any():
        checked.note(field, "negative time; event dropped", int(negative.sum()))
        column = np.where(negative, INVALID_NS, column)
    return column


def _exact_int64(values: Sequence[object]) -> np.ndarray | None:
    """The values as int64 when each is a Python int in range (or they are an int64 array: that array,
    not a copy), else None (numpy would truncate floats and parse text such as `1_000` silently;
    those go through `checked.ns`)."""
    if isinstance(values, np.ndarray) and values.dtype == np.int64:
        return values
    if not all(type(v) is int for v in values):
        return None
    try:
        return np.fromiter(values, dtype=np.int64, count=len(values))
    except OverflowError:
        return None


def kernel_rows(common: dict[str, np.ndarray], names: Names) -> checked.Block:
    """Kernels; NCCL-style names become communication."""
    kind = np.where(_flags(names, COMMUNICATION), np.int8(Kind.COMMUNICATION), np.int8(Kind.KERNEL))
    return _device_rows(common, names, kind)


def copy_rows(common: dict[str, np.ndarray], names: Names, copy: dict[str, np.ndarray]) -> checked.Block:
    """Memory copies: `copy` holds bytes, copy_direction, src_memory and dst_memory."""
    return _device_rows({**common, **copy}, names, np.full(len(names), Kind.MEMCPY, dtype=np.int8))


def memset_rows(
    common: dict[str, np.ndarray], names: Names, size: np.ndarray, memory: Sequence[int]
) -> checked.Block:
    """Memsets with their byte counts; the kind of memory set goes to `dst_memory`."""
    columns = {**common, "bytes": size, "dst_memory": np.asarray(memory, dtype=np.int8)}
    return _device_rows(columns, names, np.full(len(names), Kind.MEMSET, dtype=np.int8))


def sync_rows(common: dict[str, np.ndarray], names: Names) -> checked.Block:
    """CUPTI's record of a synchronization, on the device it waited for."""
    stream = np.asarray(common["stream"], dtype=np.int64)
    common = {**common, "stream": np.where(stream == NO_STREAM, NONE, stream)}
    return _device_rows(common, names, np.full(len(names), Kind.SYNC, dtype=np.int8))


def api_rows(
    start: np.ndarray, end: np.ndarray, global_tid: np.ndarray, correlation: np.ndarray, names: Names
) -> checked.Block:
    """CUDA runtime and driver calls; synchronizing calls get the SYNC kind."""
    pid = pid_of(global_tid)
    distinct, codes = distinct_names(names)
    sync = name_flags([api_base_name(n) for n in distinct], SYNC_CALL)[codes] if len(codes) else codes > 0
    columns = {
        **_span(start, end),
        "kind": np.where(sync, np.int8(Kind.SYNC), np.int8(Kind.RUNTIME)),
        "name": name_array(names),
        "process": pid,
        "thread": tid_of(global_tid),
        "correlation": correlation_key(pid, correlation),
    }
    return checked.Block(columns, len(names))


def nvtx_rows(start: np.ndarray, end: np.ndarray, global_tid: np.ndarray, names: Names) -> checked.Block:
    """NVTX ranges and marks as markers; `ProfilerStep#N` ranges delimit steps."""
    distinct, codes = distinct_names(names)
    steps = np.array(_counted(distinct, codes, _step_number) or [NONE], dtype=np.int64)[codes]
    columns = {
        **_span(start, end),
        "kind": np.where(steps != NONE, Kind.STEP, Kind.MARKER),
        "name": name_array(names),
        "process": pid_of(global_tid),
        "thread": tid_of(global_tid),
        "step": steps,
    }
    return checked.Block(columns, len(names))


def device_common(
    start: np.ndarray,
    end: np.ndarray,
    device: np.ndarray,
    stream: np.ndarray,
    global_pid: np.ndarray,
    correlation: np.ndarray,
) -> dict[str, np.ndarray]:
    """The columns every device table has."""
    pid = pid_of(global_pid)
    return {
        **_span(start, end),
        "device": np.asarray(device, dtype=np.int64),
        "stream": np.asarray(stream, dtype=np.int64),
        "thread": np.asarray(stream, dtype=np.int64),
        "correlation": correlation_key(pid, correlation),
    }


def diagnostic_warnings(entries: Iterable[tuple[str, str]]) -> list[str]:
    """nsys' own (level, text) diagnostics worth a warning: Warning and Error levels, and info-level
    notes of lost data; one line each, repeats counted."""
    counts = Counter(
        (level, _one_line(text))
        for level, text in entries
        if level in SERIOUS_LEVELS or DATA_LOSS.search(text)
    )
    return [
        f"nsys diagnostic ({level.lower()}): {text}" + (f" (x{count})" if count > 1 else "")
        for (level, text), count in counts.items()
    ]


def assemble(blocks: list[checked.Block | None]) -> pa.Table:
    """One event table from the per-table blocks (None: table absent), with every event's step assigned.
    Pass a list nothing else holds: the blocks' columns are then freed before the steps are assigned."""
    table = _joined(blocks)
    del blocks
    return assign_steps(table)


def _joined(blocks: list[checked.Block | None]) -> pa.Table:
    present = [block for block in blocks if block is not None and block.n]
    return checked.blocks_table(present or [checked.Block({"name": []}, 0)])


def _device_rows(common: dict[str, np.ndarray], names: Names, kind: np.ndarray) -> checked.Block:
    return checked.Block({**common, "kind": kind, "name": name_array(names)}, len(names))


def _span(start: np.ndarray, end: np.ndarray) -> dict[str, np.ndarray]:
    """start_ns and dur_ns from `times` columns. An unusable end (noted by `times`) makes the start
    invalid, so the event is dropped without being counted twice; an end before the start gives a
    negative duration, which `checked.event_table` drops and counts."""
    unusable_end = end == INVALID_NS
    start = np.where(unusable_end, INVALID_NS, start) if unusable_end.any() else start
    dur = np.subtract(end, start)  # wraps where the start is invalid: those durations are 0
    dur[start == INVALID_NS] = 0
    return {"start_ns": start, "dur_ns": dur}


def _flags(names: Names, pattern) -> np.ndarray:
    distinct, codes = distinct_names(names)
    return name_flags(distinct, pattern)[codes] if len(codes) else np.zeros(0, dtype=bool)


def distinct_names(names: Names) -> tuple[list[str], np.ndarray]:
    """The distinct names and, per row, the index of its name among them (int32: the dictionary's own
    indices, not copied)."""
    array = name_array(names)
    return array.dictionary.to_pylist(), numeric(array.indices)


def _counted(distinct: list[str], codes: np.ndarray, convert) -> list:
    """convert(name) once per distinct name; what it notes is counted once per row holding the name."""
    occurrences = np.bincount(codes, minlength=len(distinct)).tolist()
    results = []
    for name, count in zip(distinct, occurrences, strict=True):
        with checked.collecting() as problems:
            results.append(convert(name))
        for (field, reason), noted in problems.counts.items():
            checked.note(field, reason, noted * count)
    return results


def _step_number(name: str) -> int:
    match = STEP_NAME.match(name)
    return checked.integer(match.group(1), "ProfilerStep number", 0) if match else NONE


def _one_line(text: str, limit: int = 200) -> str:
    words = " ".join(text.split())
    return words if len(words) <= limit else words[: limit - 3] + "..."
