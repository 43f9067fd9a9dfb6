"""Reader for Nsight Systems SQLite exports (`nsys export --type sqlite`), 2021 to 2026 schemas: the
CUDA and NVTX tables as canonical events (the export itself: `export_db`; what it says about itself:
`sqlite_metadata`). Every value read goes through the checked conversions (`activity.times`,
`checked.integers`, `checked.text`), whatever its SQLite type. NCCL's NVTX payloads give the
communication kernels their message sizes (`nccl_sizes`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tracekit.model.arrays import strings
from tracekit.model.trace import Trace
from tracekit.readers import checked
from tracekit.readers.nsys import activity, enums
from tracekit.readers.nsys.export_db import (
    GRAPH,
    KERNEL,
    MEMCPY,
    MEMSET,
    NVTX,
    RUNTIME,
    SYNC,
    Export,
    enum_column,
    field,
    ints,
    open_export,
    string_texts,
    texts,
)
from tracekit.readers.nsys.nccl_sizes import sized_ranges, with_collective_sizes
from tracekit.readers.nsys.sqlite_metadata import export_metadata

NVTX_SPAN_TYPES = (34, 59, 60, 70, 71)  # mark, push/pop, start/end and their NVTX-text variants
TIMED = "(start > 0 OR start IS NULL)"
"""Rows read: start 0 is CUPTI's "no timestamp" (skipped, as nsys does); a NULL start is read, so that
`activity.times` counts the dropped event."""
EXACT = ("start", "end", "demangled", "short", "name_id")
"""Fields whose NULL is not "unknown" (a dropped event, a name from elsewhere): fetched as arrays only
when integers."""
_DEVICE_FIELDS = {
    "start": "start",
    "end": "end",
    "device": "deviceId",
    "stream": "streamId",
    "global_pid": "globalPid",
    "correlation": "correlationId",
}


def read_nsys_sqlite(path: Path) -> Trace:
    """Every CUDA and NVTX table of the export as canonical events; what is missing goes to warnings."""
    with open_export(path) as export:
        events = with_collective_sizes(activity.assemble(_blocks(export)), sized_ranges(export))
        metadata = export_metadata(export)
    return Trace(events=events, format="nsys", source=str(path), metadata=metadata)


def _blocks(export: Export) -> list[checked.Block | None]:
    device = [_kernels(export), _copies(export), _memsets(export), _graphs(export)]
    return [*device, _api_calls(export), _syncs(export), _nvtx(export)]


# --- device activity -------------------------------------------------------------------------------


def _device_select(export: Export, table: str, extra: dict[str, str]) -> dict[str, list] | None:
    if not export.usable(table):
        return None
    fields = {alias: export.column(table, column, "-1") for alias, column in _DEVICE_FIELDS.items()}
    return export.select(table, {**fields, **extra}, where=TIMED, exact=EXACT)


def _common(table: str, rows: dict[str, list]) -> dict[str, np.ndarray]:
    start, end = (activity.times(rows[key], field(table, key)) for key in ("start", "end"))
    ids = (ints(table, rows, key) for key in ("device", "stream", "global_pid", "correlation"))
    return activity.device_common(start, end, *ids)


def _kernels(export: Export) -> checked.Block | None:
    ids = {"demangled": export.column(KERNEL, "demangledName"), "short": export.column(KERNEL, "shortName")}
    rows = _device_select(export, KERNEL, ids)
    if rows is None:
        return None
    names = string_texts(export, KERNEL, rows, ("demangled", "short"), "[unnamed kernel]")
    if names is None:  # ids that are not plain integers: SQLite compares them, as nsys' queries do
        name = f"coalesce({export.string(KERNEL, 'demangledName')}, {export.string(KERNEL, 'shortName')})"
        names = texts(KERNEL, export.select(KERNEL, {"name": name}, where=TIMED), "[unnamed kernel]")
    return activity.kernel_rows(_common(KERNEL, rows), names)


def _copies(export: Export) -> checked.Block | None:
    extra = {key: export.column(MEMCPY, key) for key in ("bytes", "copyKind", "srcKind", "dstKind")}
    rows = _device_select(export, MEMCPY, extra)
    if rows is None:
        return None
    copy_kinds = _enum_names(export, "ENUM_CUDA_MEMCPY_OPER", enums.COPY_KIND_NAMES)
    memory_kinds = _enum_names(export, "ENUM_CUDA_MEM_KIND", enums.MEMORY_KIND_NAMES)
    codes = {key: ints(MEMCPY, rows, key) for key in ("copyKind", "srcKind", "dstKind")}
    kind_name = lambda code: copy_kinds.get(code, "CUDA_MEMCPY_KIND_UNKNOWN")  # noqa: E731
    memory = lambda code: int(enums.memory_kind(memory_kinds.get(code, "")))  # noqa: E731
    copy = {
        "bytes": ints(MEMCPY, rows, "bytes"),
        "copy_direction": _mapped(codes["copyKind"], lambda code: int(enums.copy_direction(kind_name(code)))),
        "src_memory": _mapped(codes["srcKind"], memory),
        "dst_memory": _mapped(codes["dstKind"], memory),
    }
    names = _mapped(codes["copyKind"], lambda code: enums.copy_display_name(kind_name(code)), object)
    return activity.copy_rows(_common(MEMCPY, rows), strings(names.tolist()), copy)


def _memsets(export: Export) -> checked.Block | None:
    extra = {"bytes": export.column(MEMSET, "bytes"), "memKind": export.column(MEMSET, "memKind")}
    rows = _device_select(export, MEMSET, extra)
    if rows is None:
        return None
    memory_kinds = _enum_names(export, "ENUM_CUDA_MEM_KIND", enums.MEMORY_KIND_NAMES)
    memory = _mapped(
        ints(MEMSET, rows, "memKind"), lambda code: int(enums.memory_kind(memory_kinds.get(code, "")))
    )
    names = ["[CUDA memset]"] * len(rows["start"])
    return activity.memset_rows(_common(MEMSET, rows), names, ints(MEMSET, rows, "bytes"), memory)


def _graphs(export: Export) -> checked.Block | None:
    rows = _device_select(export, GRAPH, {"graph": export.column(GRAPH, "graphId")})
    if rows is None:
        return None
    names = _mapped(ints(GRAPH, rows, "graph"), lambda graph: f"[CUDA graph {graph}]", object).tolist()
    return activity.kernel_rows(_common(GRAPH, rows), names)


def _syncs(export: Export) -> checked.Block | None:
    rows = _device_select(export, SYNC, {})
    return rows and activity.sync_rows(_common(SYNC, rows), ["[CUDA synchronization]"] * len(rows["start"]))


# --- host activity ---------------------------------------------------------------------------------


def _api_calls(export: Export) -> checked.Block | None:
    if not export.usable(RUNTIME):
        return None
    fields = {
        "start": "start",
        "end": "end",
        "global_tid": export.column(RUNTIME, "globalTid", "-1"),
        "correlation": export.column(RUNTIME, "correlationId", "0"),
        "name_id": export.column(RUNTIME, "nameId"),
    }
    rows = export.select(RUNTIME, fields, where=TIMED, exact=EXACT)
    span = [activity.times(rows[key], field(RUNTIME, key)) for key in ("start", "end")]
    ids = [ints(RUNTIME, rows, key) for key in ("global_tid", "correlation")]
    names = string_texts(export, RUNTIME, rows, ("name_id",), "[unnamed CUDA API call]")
    if names is None:  # ids that are not plain integers: SQLite compares them
        by_sql = export.select(RUNTIME, {"name": export.string(RUNTIME, "nameId")}, where=TIMED)
        names = texts(RUNTIME, by_sql, "[unnamed CUDA API call]")
    return activity.api_rows(*span, *ids, names)


def _nvtx(export: Export) -> checked.Block | None:
    if not export.usable(NVTX, ("start", "end", "eventType")):
        return None
    text = f"coalesce({export.column(NVTX, 'text')}, {export.string(NVTX, 'textId')})"
    fields = {
        "start": "start",
        "end": "coalesce(end, start)",
        "global_tid": export.column(NVTX, "globalTid", "-1"),
        "name": text,
    }
    types = ", ".join(map(str, NVTX_SPAN_TYPES))
    where = f"eventType IN ({types}) AND (end IS NOT NULL OR eventType = 34) AND {TIMED}"
    rows = export.select(NVTX, fields, where=where)
    span = [activity.times(rows[key], field(NVTX, key)) for key in ("start", "end")]
    tid = ints(NVTX, rows, "global_tid")
    return activity.nvtx_rows(*span, tid, texts(NVTX, rows, "[unnamed NVTX range]"))


def _mapped(codes: np.ndarray, convert, dtype: type = np.int64) -> np.ndarray:
    """convert(code) for each code, computed once per distinct code."""
    distinct, index = np.unique(codes, return_inverse=True)
    return np.array([convert(code) for code in distinct.tolist()], dtype=dtype)[index]


def _enum_names(export: Export, table: str, fallback: dict[int, str]) -> dict[int, str]:
    """Enum id -> name from the export's own table when present, else the built-in copy."""
    return enum_column(export, table, "name", fallback)
