"""Reader for Nsight Systems SQLite exports (`nsys export --type sqlite`), 2021 to 2026 schemas.

Tables are created only when the capture has such data, and columns were added over the years, so
every table and column is looked up before use (shared/docs/formats-nsys.md §A). The database is
opened read-only and immutable: the input is never written. Every value read goes through the
checked conversions (`activity.times`, `checked.integers`, `checked.text`), whatever its SQLite type.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pyarrow as pa

from tracekit.errors import TraceError, shown_value
from tracekit.model.schema import NONE
from tracekit.model.trace import Trace
from tracekit.readers import checked
from tracekit.readers.nsys import activity, enums
from tracekit.readers.source import require_file

SQLITE_MAGIC = b"SQLite format 3\x00"
CUDA = "CUPTI_ACTIVITY_KIND_"
KERNEL, MEMCPY, MEMSET = f"{CUDA}KERNEL", f"{CUDA}MEMCPY", f"{CUDA}MEMSET"
RUNTIME, SYNC, GRAPH = f"{CUDA}RUNTIME", f"{CUDA}SYNCHRONIZATION", f"{CUDA}GRAPH_TRACE"
NVTX = "NVTX_EVENTS"
GPU_TABLES = (KERNEL, MEMCPY, MEMSET, GRAPH)
NVTX_SPAN_TYPES = (34, 59, 60, 70, 71)  # mark, push/pop, start/end and their NVTX-text variants
_SEVERITY_NAMES = {2: "Warning", 3: "Error"}
TIMED = "(start > 0 OR start IS NULL)"
"""Rows read: start 0 is CUPTI's "no timestamp" (skipped, as nsys does); a NULL start is read, so that
`activity.times` counts the dropped event."""
NEWEST_TESTED_SCHEMA = (3, 25)
"""EXPORT_SCHEMA_VERSION of the newest export tested (nsys 2026.2, docs/formats.md); newer ones warn."""
_DEVICE_FIELDS = {
    "start": "start",
    "end": "end",
    "device": "deviceId",
    "stream": "streamId",
    "global_pid": "globalPid",
    "correlation": "correlationId",
}


def sniff_nsys_sqlite(head: bytes) -> bool:
    """An SQLite database with nsys' string table (Ascend exports name theirs STRING_IDS)."""
    return head.startswith(SQLITE_MAGIC) and b"StringIds" in head


def read_nsys_sqlite(path: Path) -> Trace:
    """Every CUDA and NVTX table of the export as canonical events; what is missing goes to warnings."""
    with _open(path) as db:
        export = _Export(db, _table_columns(db))
        blocks = [_kernels(export), _copies(export), _memsets(export), _graphs(export)]
        blocks += [_api_calls(export), _syncs(export), _nvtx(export)]
        metadata = _metadata(export)
        events = activity.assemble(blocks)
    return Trace(events=events, format="nsys", source=str(path), metadata=metadata)


class _Export:
    """An open export and the columns of each of its tables."""

    def __init__(self, db: sqlite3.Connection, columns: dict[str, set[str]]) -> None:
        self.db = db
        self.columns = columns

    def has(self, table: str) -> bool:
        return table in self.columns

    def column(self, table: str, column: str, fallback: str = "NULL") -> str:
        """The column's name when the table has it, else an SQL fallback expression."""
        return column if column in self.columns.get(table, ()) else fallback

    def string(self, table: str, column: str) -> str:
        """SQL for the StringIds text of an id column (NULL when the column is absent)."""
        if column not in self.columns.get(table, ()) or not self.has("StringIds"):
            return "NULL"
        return f"(SELECT value FROM StringIds WHERE id = {column})"

    def select(self, table: str, fields: dict[str, str], where: str = "1") -> dict[str, list]:
        """Columns of the table's rows as lists, keyed like `fields` (alias -> SQL expression)."""
        sql = f"SELECT {', '.join(fields.values())} FROM {table} WHERE {where}"
        rows = self.db.execute(sql).fetchall()
        values = list(zip(*rows, strict=True)) if rows else [()] * len(fields)
        return {alias: list(column) for alias, column in zip(fields, values, strict=True)}

    def rows(self, sql: str) -> list[tuple]:
        return self.db.execute(sql).fetchall()


@contextmanager
def _open(path: Path) -> Iterator[sqlite3.Connection]:
    """The export, read-only and immutable; an SQLite error in any query of the block (corrupt pages,
    not a database, a truncated file) is a TraceError naming the file."""
    require_file(path)
    try:
        with closing(sqlite3.connect(sqlite_uri(path), uri=True)) as db:
            yield db
    except sqlite3.DatabaseError as exc:
        raise TraceError(path, f"unreadable SQLite database ({exc})") from None


def sqlite_uri(path: Path) -> str:
    """A read-only, immutable URI for the file: every character of the path that has a meaning in a
    URI (`?`, `#`, `%`, spaces) is percent-encoded, so `run#1/report.sqlite` opens that file."""
    return f"file:{quote(str(path.resolve()), safe='/')}?mode=ro&immutable=1"


def _table_columns(db: sqlite3.Connection) -> dict[str, set[str]]:
    tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {table: {row[1] for row in db.execute(f"PRAGMA table_info({_quoted(table)})")} for table in tables}


def _quoted(identifier: str) -> str:
    """An SQL identifier in double quotes, its own double quotes doubled."""
    return '"' + identifier.replace('"', '""') + '"'


# --- device activity -------------------------------------------------------------------------------


def _device_select(export: _Export, table: str, extra: dict[str, str]) -> dict[str, list] | None:
    if not export.has(table):
        return None
    fields = {alias: export.column(table, column, "-1") for alias, column in _DEVICE_FIELDS.items()}
    return export.select(table, {**fields, **extra}, where=TIMED)


def _common(table: str, rows: dict[str, list]) -> dict[str, np.ndarray]:
    start, end = (activity.times(rows[key], _field(table, key)) for key in ("start", "end"))
    ids = (_ints(table, rows, key) for key in ("device", "stream", "global_pid", "correlation"))
    return activity.device_common(start, end, *ids)


def _kernels(export: _Export) -> pa.Table | None:
    name = f"coalesce({export.string(KERNEL, 'demangledName')}, {export.string(KERNEL, 'shortName')})"
    rows = _device_select(export, KERNEL, {"name": name})
    return rows and activity.kernel_rows(_common(KERNEL, rows), _texts(KERNEL, rows, "[unnamed kernel]"))


def _copies(export: _Export) -> pa.Table | None:
    extra = {key: export.column(MEMCPY, key) for key in ("bytes", "copyKind", "srcKind", "dstKind")}
    rows = _device_select(export, MEMCPY, extra)
    if rows is None:
        return None
    copy_kinds = _enum_names(export, "ENUM_CUDA_MEMCPY_OPER", enums.COPY_KIND_NAMES)
    memory_kinds = _enum_names(export, "ENUM_CUDA_MEM_KIND", enums.MEMORY_KIND_NAMES)
    codes = {key: _ints(MEMCPY, rows, key).tolist() for key in ("copyKind", "srcKind", "dstKind")}
    kind_names = [copy_kinds.get(code, "CUDA_MEMCPY_KIND_UNKNOWN") for code in codes["copyKind"]]
    copy = {
        "bytes": _ints(MEMCPY, rows, "bytes"),
        "copy_direction": [enums.copy_direction(name) for name in kind_names],
        "src_memory": [enums.memory_kind(memory_kinds.get(code, "")) for code in codes["srcKind"]],
        "dst_memory": [enums.memory_kind(memory_kinds.get(code, "")) for code in codes["dstKind"]],
    }
    names = [enums.copy_display_name(name) for name in kind_names]
    return activity.copy_rows(_common(MEMCPY, rows), names, copy)


def _memsets(export: _Export) -> pa.Table | None:
    extra = {"bytes": export.column(MEMSET, "bytes"), "memKind": export.column(MEMSET, "memKind")}
    rows = _device_select(export, MEMSET, extra)
    if rows is None:
        return None
    memory_kinds = _enum_names(export, "ENUM_CUDA_MEM_KIND", enums.MEMORY_KIND_NAMES)
    memory = [
        enums.memory_kind(memory_kinds.get(code, "")) for code in _ints(MEMSET, rows, "memKind").tolist()
    ]
    names = ["[CUDA memset]"] * len(rows["start"])
    return activity.memset_rows(_common(MEMSET, rows), names, _ints(MEMSET, rows, "bytes"), memory)


def _graphs(export: _Export) -> pa.Table | None:
    rows = _device_select(export, GRAPH, {"graph": export.column(GRAPH, "graphId")})
    if rows is None:
        return None
    names = [f"[CUDA graph {graph}]" for graph in _ints(GRAPH, rows, "graph").tolist()]
    return activity.kernel_rows(_common(GRAPH, rows), names)


def _syncs(export: _Export) -> pa.Table | None:
    rows = _device_select(export, SYNC, {})
    return rows and activity.sync_rows(_common(SYNC, rows), ["[CUDA synchronization]"] * len(rows["start"]))


# --- host activity ---------------------------------------------------------------------------------


def _api_calls(export: _Export) -> pa.Table | None:
    if not export.has(RUNTIME):
        return None
    fields = {
        "start": "start",
        "end": "end",
        "global_tid": export.column(RUNTIME, "globalTid", "-1"),
        "correlation": export.column(RUNTIME, "correlationId", "0"),
        "name": export.string(RUNTIME, "nameId"),
    }
    rows = export.select(RUNTIME, fields, where=TIMED)
    span = [activity.times(rows[key], _field(RUNTIME, key)) for key in ("start", "end")]
    ids = [_ints(RUNTIME, rows, key) for key in ("global_tid", "correlation")]
    return activity.api_rows(*span, *ids, _texts(RUNTIME, rows, "[unnamed CUDA API call]"))


def _nvtx(export: _Export) -> pa.Table | None:
    if not export.has(NVTX):
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
    span = [activity.times(rows[key], _field(NVTX, key)) for key in ("start", "end")]
    tid = _ints(NVTX, rows, "global_tid")
    return activity.nvtx_rows(*span, tid, _texts(NVTX, rows, "[unnamed NVTX range]"))


# --- metadata --------------------------------------------------------------------------------------


def _metadata(export: _Export) -> dict[str, object]:
    schema = _export_setting(export, "EXPORT_SCHEMA_VERSION")
    return {
        "nsys": {
            "product_version": _export_setting(export, "EXPORT_PRODUCT_VERSION"),
            "schema_version": schema,
            "analysis_range": _analysis_range(export),
            "cuda_graph_trace": _graph_trace_mode(export),
            "gpus": _gpus(export),
        },
        "warnings": _schema_warning(schema) + _missing_data(export) + _diagnostics(export),
    }


def _export_setting(export: _Export, name: str) -> str | None:
    for table in ("META_DATA_EXPORT", "EXPORT_META_DATA"):
        if export.has(table):
            found = export.rows(f"SELECT value FROM {table} WHERE name = '{name}'")
            return _optional_text(found[0][0], name) if found else None
    return None


def _schema_warning(version: str | None) -> list[str]:
    """A warning when the export's schema is newer than the tested ones, or not a version at all
    (2021 exports carry none: they were tested)."""
    if version is None or (3, 0) <= _version_numbers(version) <= NEWEST_TESTED_SCHEMA:
        return []
    newest = ".".join(map(str, NEWEST_TESTED_SCHEMA))
    return [
        f"nsys export schema version {shown_value(version)} is untested (tested: up to {newest}); "
        "tables and columns are read by name, values may be misread"
    ]


def _version_numbers(version: str) -> tuple[int, int]:
    """(major, minor) of a `3.25.0` version; (0, 0) when it is not one."""
    parts = version.strip().split(".")
    if len(parts) < 2 or not all(part.isascii() and part.isdigit() for part in parts[:2]):
        return (0, 0)
    return (int(parts[0][:6]), int(parts[1][:6]))


def _analysis_range(export: _Export) -> dict[str, int] | None:
    if not export.has("ANALYSIS_DETAILS"):
        return None
    found = export.rows("SELECT startTime, stopTime FROM ANALYSIS_DETAILS")
    if not found:
        return None
    start, end = (
        _optional_integer(value, f"ANALYSIS_DETAILS.{column}")
        for value, column in zip(found[0], ("startTime", "stopTime"), strict=True)
    )
    return None if start is None or end is None else {"start_ns": start, "end_ns": end}


def _graph_trace_mode(export: _Export) -> str | None:
    if not export.has("META_DATA_CAPTURE"):
        return None
    found = export.rows(
        "SELECT value FROM META_DATA_CAPTURE WHERE name LIKE '%CUDA_GRAPH_TRACE_OPTIONS:MODE'"
    )
    return _optional_text(found[0][0], "META_DATA_CAPTURE.value") if found else None


_GPU_FIELDS = {
    "id": "id",
    "name": "name",
    "sm_count": "smCount",
    "memory_bandwidth_bytes_per_s": "memoryBandwidth",
    "clock_rate_hz": "clockRate",
}


def _gpus(export: _Export) -> list[dict[str, object]]:
    """TARGET_INFO_GPU rows, JSON-safe: the name as text, the others as integers (None if unusable)."""
    table = "TARGET_INFO_GPU"
    if not export.has(table):
        return []
    rows = export.select(table, {key: export.column(table, column) for key, column in _GPU_FIELDS.items()})
    gpus = [dict(zip(rows, values, strict=True)) for values in zip(*rows.values(), strict=True)]
    return [
        {
            key: (_optional_text if key == "name" else _optional_integer)(
                value, f"{table}.{_GPU_FIELDS[key]}"
            )
            for key, value in gpu.items()
        }
        for gpu in gpus
    ]


def _missing_data(export: _Export) -> list[str]:
    if not any(table.startswith(CUDA) for table in export.columns):
        return ["no CUDA activity tables: the capture holds host data only (profiled without --trace=cuda?)"]
    if not any(export.has(table) for table in GPU_TABLES):
        return ["CUDA API calls were traced but no GPU activity was captured (no kernel/memcpy/memset table)"]
    if not export.has(KERNEL) and not export.has(GRAPH):
        return ["no kernel table: the capture has no kernels"]
    if export.has(GRAPH) or not _launches_graphs(export):
        return []
    return ["CUDA graphs were launched but their activity was not captured (no graph trace table)"]


def _launches_graphs(export: _Export) -> bool:
    if not export.has(RUNTIME) or not export.has("StringIds"):
        return False
    sql = "SELECT 1 FROM StringIds WHERE value LIKE 'cudaGraphLaunch%' OR value LIKE 'cuGraphLaunch%' LIMIT 1"
    return bool(export.rows(sql))


def _diagnostics(export: _Export) -> list[str]:
    table = "DIAGNOSTIC_EVENT"
    if not export.has(table) or "severity" not in export.columns[table]:
        return []
    levels = _enum_column(export, "ENUM_DIAGNOSTIC_SEVERITY_LEVEL", "label", _SEVERITY_NAMES)
    rows = export.select(table, {"severity": "severity", "text": export.column(table, "text")})
    codes = _ints(table, rows, "severity").tolist()
    texts = _texts(table, rows, "", "text")
    return activity.diagnostic_warnings(
        (levels.get(code, "Info"), text) for code, text in zip(codes, texts, strict=True)
    )


# --- values ----------------------------------------------------------------------------------------


def _enum_names(export: _Export, table: str, fallback: dict[int, str]) -> dict[int, str]:
    """Enum id -> name from the export's own table when present, else the built-in copy."""
    return _enum_column(export, table, "name", fallback)


def _enum_column(export: _Export, table: str, column: str, fallback: dict[int, str]) -> dict[int, str]:
    """Enum id -> one column (name or label) of the export's own enum table, else the fallback; rows
    whose id is NULL or not an integer are skipped (noted)."""
    if not export.has(table):
        return fallback
    rows = export.select(table, {"id": export.column(table, "id"), column: export.column(table, column)})
    ids = _ints(table, rows, "id").tolist()
    return {
        code: name for code, name in zip(ids, _texts(table, rows, "", column), strict=True) if code != NONE
    }


def _field(table: str, key: str) -> str:
    """How a column is named in the trace's warnings: `CUPTI_ACTIVITY_KIND_KERNEL.start`."""
    return f"{table}.{key}"


def _ints(table: str, rows: dict[str, list], key: str) -> np.ndarray:
    """One column of `rows` as checked int64 (NULL and unusable values as NONE)."""
    return checked.integers(rows[key], _field(table, key))


def _texts(table: str, rows: dict[str, list], fallback: str, key: str = "name") -> list[str]:
    """One column of `rows` as checked text (NULL as `fallback`)."""
    return [checked.text(value, _field(table, key), fallback) for value in rows[key]]


def _optional_integer(value: object, field: str) -> int | None:
    """A metadata integer; None when NULL or unusable (noted)."""
    parsed = checked.integer(value, field)
    return None if parsed == NONE else parsed


def _optional_text(value: object, field: str) -> str | None:
    """A metadata text; None when NULL."""
    return None if value is None else checked.text(value, field)
