"""Reader for Nsight Systems SQLite exports (`nsys export --type sqlite`), 2021 to 2026 schemas.

Tables are created only when the capture has such data, and columns were added over the years, so
every table and column is looked up before use (shared/docs/formats-nsys.md §A). The database is
opened read-only and immutable: the input is never written.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pyarrow as pa

from tracekit.errors import TraceError
from tracekit.model.schema import NONE
from tracekit.model.trace import Trace
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
    return Trace(events=activity.assemble(blocks), format="nsys", source=str(path), metadata=metadata)


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
    require_file(path)
    uri = f"file:{quote(str(path.resolve()))}?mode=ro&immutable=1"
    try:
        with closing(sqlite3.connect(uri, uri=True)) as db:
            yield db
    except sqlite3.DatabaseError as exc:
        raise TraceError(path, f"unreadable SQLite database ({exc})") from None


def _table_columns(db: sqlite3.Connection) -> dict[str, set[str]]:
    tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {table: {row[1] for row in db.execute(f"PRAGMA table_info('{table}')")} for table in tables}


# --- device activity -------------------------------------------------------------------------------


def _device_select(export: _Export, table: str, extra: dict[str, str]) -> dict[str, list] | None:
    if not export.has(table):
        return None
    fields = {alias: export.column(table, column, "-1") for alias, column in _DEVICE_FIELDS.items()}
    return export.select(table, {**fields, **extra}, where="start > 0")


def _common(rows: dict[str, list]) -> dict[str, np.ndarray]:
    return activity.device_common(
        *(_ints(rows[key]) for key in ("start", "end", "device", "stream", "global_pid", "correlation"))
    )


def _kernels(export: _Export) -> pa.Table | None:
    name = f"coalesce({export.string(KERNEL, 'demangledName')}, {export.string(KERNEL, 'shortName')})"
    rows = _device_select(export, KERNEL, {"name": name})
    return rows and activity.kernel_rows(_common(rows), _texts(rows["name"], "[unnamed kernel]"))


def _copies(export: _Export) -> pa.Table | None:
    extra = {key: export.column(MEMCPY, key) for key in ("bytes", "copyKind", "srcKind", "dstKind")}
    rows = _device_select(export, MEMCPY, extra)
    if rows is None:
        return None
    copy_kinds = _enum_names(export, "ENUM_CUDA_MEMCPY_OPER", enums.COPY_KIND_NAMES)
    memory_kinds = _enum_names(export, "ENUM_CUDA_MEM_KIND", enums.MEMORY_KIND_NAMES)
    kind_names = [copy_kinds.get(code, "CUDA_MEMCPY_KIND_UNKNOWN") for code in rows["copyKind"]]
    copy = {
        "bytes": _ints(rows["bytes"]),
        "copy_direction": [enums.copy_direction(name) for name in kind_names],
        "src_memory": [enums.memory_kind(memory_kinds.get(code, "")) for code in rows["srcKind"]],
        "dst_memory": [enums.memory_kind(memory_kinds.get(code, "")) for code in rows["dstKind"]],
    }
    return activity.copy_rows(_common(rows), [enums.copy_display_name(name) for name in kind_names], copy)


def _memsets(export: _Export) -> pa.Table | None:
    extra = {"bytes": export.column(MEMSET, "bytes"), "memKind": export.column(MEMSET, "memKind")}
    rows = _device_select(export, MEMSET, extra)
    if rows is None:
        return None
    memory_kinds = _enum_names(export, "ENUM_CUDA_MEM_KIND", enums.MEMORY_KIND_NAMES)
    memory = [enums.memory_kind(memory_kinds.get(code, "")) for code in rows["memKind"]]
    names = ["[CUDA memset]"] * len(rows["start"])
    return activity.memset_rows(_common(rows), names, _ints(rows["bytes"]), memory)


def _graphs(export: _Export) -> pa.Table | None:
    rows = _device_select(export, GRAPH, {"graph": export.column(GRAPH, "graphId")})
    if rows is None:
        return None
    return activity.kernel_rows(_common(rows), [f"[CUDA graph {graph}]" for graph in rows["graph"]])


def _syncs(export: _Export) -> pa.Table | None:
    rows = _device_select(export, SYNC, {})
    return rows and activity.sync_rows(_common(rows), ["[CUDA synchronization]"] * len(rows["start"]))


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
    rows = export.select(RUNTIME, fields, where="start > 0")
    ints = [_ints(rows[key]) for key in ("start", "end", "global_tid", "correlation")]
    return activity.api_rows(*ints, _texts(rows["name"], "[unnamed CUDA API call]"))


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
    where = f"eventType IN ({types}) AND (end IS NOT NULL OR eventType = 34) AND start > 0"
    rows = export.select(NVTX, fields, where=where)
    ints = [_ints(rows[key]) for key in ("start", "end", "global_tid")]
    return activity.nvtx_rows(*ints, _texts(rows["name"], "[unnamed NVTX range]"))


# --- metadata --------------------------------------------------------------------------------------


def _metadata(export: _Export) -> dict[str, object]:
    return {
        "nsys": {
            "product_version": _export_setting(export, "EXPORT_PRODUCT_VERSION"),
            "schema_version": _export_setting(export, "EXPORT_SCHEMA_VERSION"),
            "analysis_range": _analysis_range(export),
            "cuda_graph_trace": _graph_trace_mode(export),
            "gpus": _gpus(export),
        },
        "warnings": _missing_data(export) + _diagnostics(export),
    }


def _export_setting(export: _Export, name: str) -> str | None:
    for table in ("META_DATA_EXPORT", "EXPORT_META_DATA"):
        if export.has(table):
            found = export.rows(f"SELECT value FROM {table} WHERE name = '{name}'")
            return str(found[0][0]) if found else None
    return None


def _analysis_range(export: _Export) -> dict[str, int] | None:
    if not export.has("ANALYSIS_DETAILS"):
        return None
    found = export.rows("SELECT startTime, stopTime FROM ANALYSIS_DETAILS")
    return {"start_ns": int(found[0][0]), "end_ns": int(found[0][1])} if found else None


def _graph_trace_mode(export: _Export) -> str | None:
    if not export.has("META_DATA_CAPTURE"):
        return None
    found = export.rows(
        "SELECT value FROM META_DATA_CAPTURE WHERE name LIKE '%CUDA_GRAPH_TRACE_OPTIONS:MODE'"
    )
    return str(found[0][0]) if found else None


def _gpus(export: _Export) -> list[dict[str, object]]:
    table = "TARGET_INFO_GPU"
    if not export.has(table):
        return []
    fields = {
        "id": export.column(table, "id"),
        "name": export.column(table, "name"),
        "sm_count": export.column(table, "smCount"),
        "memory_bandwidth_bytes_per_s": export.column(table, "memoryBandwidth"),
        "clock_rate_hz": export.column(table, "clockRate"),
    }
    rows = export.select(table, fields)
    return [dict(zip(rows, values, strict=True)) for values in zip(*rows.values(), strict=True)]


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
    rows = export.rows(f"SELECT severity, text FROM {table}")
    return activity.diagnostic_warnings((levels.get(code, "Info"), str(text)) for code, text in rows)


# --- values ----------------------------------------------------------------------------------------


def _enum_names(export: _Export, table: str, fallback: dict[int, str]) -> dict[int, str]:
    """Enum id -> name from the export's own table when present, else the built-in copy."""
    return _enum_column(export, table, "name", fallback)


def _enum_column(export: _Export, table: str, column: str, fallback: dict[int, str]) -> dict[int, str]:
    """Enum id -> one column (name or label) of the export's own enum table, else the fallback."""
    if not export.has(table):
        return fallback
    return {int(code): str(value) for code, value in export.rows(f"SELECT id, {column} FROM {table}")}


def _ints(values: list) -> np.ndarray:
    """Integers, NULL as NONE."""
    return np.array([NONE if v is None else int(v) for v in values], dtype=np.int64)


def _texts(values: list, fallback: str) -> list[str]:
    return [fallback if v is None else str(v) for v in values]
