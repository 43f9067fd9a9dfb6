"""What an Nsight Systems SQLite export says about itself: versions, analysis range, CUDA graph trace
mode, GPUs, what is missing, and nsys' own diagnostics. Every value is JSON-safe: text through
`checked.text`, numbers through `checked.integer`."""

from __future__ import annotations

from tracekit.errors import shown_value
from tracekit.readers.nsys import activity
from tracekit.readers.nsys.export_db import (
    CUDA,
    GPU_TABLES,
    GRAPH,
    KERNEL,
    RUNTIME,
    Export,
    enum_column,
    ints,
    optional_integer,
    optional_text,
    texts,
)

_SEVERITY_NAMES = {2: "Warning", 3: "Error"}
NEWEST_TESTED_SCHEMA = (3, 25)
"""EXPORT_SCHEMA_VERSION of the newest export tested (nsys 2026.2, docs/formats.md); newer ones warn."""


def export_metadata(export: Export) -> dict[str, object]:
    schema = _export_setting(export, "EXPORT_SCHEMA_VERSION")
    return {
        "nsys": {
            "product_version": _export_setting(export, "EXPORT_PRODUCT_VERSION"),
            "schema_version": schema,
            "analysis_range": _analysis_range(export),
            "cuda_graph_trace": _graph_trace_mode(export),
            "gpus": _gpus(export),
        },
        "warnings": _schema_warning(schema) + export.warnings + _missing_data(export) + _diagnostics(export),
    }


def _export_setting(export: Export, name: str) -> str | None:
    for table in ("META_DATA_EXPORT", "EXPORT_META_DATA"):
        if export.usable(table, ("name", "value")):
            found = export.rows(f"SELECT value FROM {table} WHERE name = '{name}'")
            return optional_text(found[0][0], name) if found else None
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


def _analysis_range(export: Export) -> dict[str, int] | None:
    if not export.usable("ANALYSIS_DETAILS", ("startTime", "stopTime")):
        return None
    found = export.rows("SELECT startTime, stopTime FROM ANALYSIS_DETAILS LIMIT 1")
    if not found:
        return None
    start, end = (
        optional_integer(value, f"ANALYSIS_DETAILS.{column}")
        for value, column in zip(found[0], ("startTime", "stopTime"), strict=True)
    )
    return None if start is None or end is None else {"start_ns": start, "end_ns": end}


def _graph_trace_mode(export: Export) -> str | None:
    if not export.usable("META_DATA_CAPTURE", ("name", "value")):
        return None
    found = export.rows(
        "SELECT value FROM META_DATA_CAPTURE WHERE name LIKE '%CUDA_GRAPH_TRACE_OPTIONS:MODE'"
    )
    return optional_text(found[0][0], "META_DATA_CAPTURE.value") if found else None


_GPU_FIELDS = {
    "id": "id",
    "name": "name",
    "sm_count": "smCount",
    "memory_bandwidth_bytes_per_s": "memoryBandwidth",
    "clock_rate_hz": "clockRate",
}


def _gpus(export: Export) -> list[dict[str, object]]:
    """TARGET_INFO_GPU rows, JSON-safe: the name as text, the others as integers (None if unusable)."""
    table = "TARGET_INFO_GPU"
    if not export.has(table):
        return []
    rows = export.select(table, {key: export.column(table, column) for key, column in _GPU_FIELDS.items()})
    gpus = [dict(zip(rows, values, strict=True)) for values in zip(*rows.values(), strict=True)]
    return [
        {
            key: (optional_text if key == "name" else optional_integer)(value, f"{table}.{_GPU_FIELDS[key]}")
            for key, value in gpu.items()
        }
        for gpu in gpus
    ]


def _missing_data(export: Export) -> list[str]:
    if not any(table.startswith(CUDA) for table in export.columns):
        return ["no CUDA activity tables: the capture holds host data only (profiled without --trace=cuda?)"]
    if not any(export.has(table) for table in GPU_TABLES):
        return ["CUDA API calls were traced but no GPU activity was captured (no kernel/memcpy/memset table)"]
    if not export.has(KERNEL) and not export.has(GRAPH):
        return ["no kernel table: the capture has no kernels"]
    if export.has(GRAPH) or not _launches_graphs(export):
        return []
    return ["CUDA graphs were launched but their activity was not captured (no graph trace table)"]


def _launches_graphs(export: Export) -> bool:
    if not export.has(RUNTIME) or "value" not in export.columns.get("StringIds", ()):
        return False
    sql = "SELECT 1 FROM StringIds WHERE value LIKE 'cudaGraphLaunch%' OR value LIKE 'cuGraphLaunch%' LIMIT 1"
    return bool(export.rows(sql))


def _diagnostics(export: Export) -> list[str]:
    table = "DIAGNOSTIC_EVENT"
    if not export.has(table) or "severity" not in export.columns[table]:
        return []
    levels = enum_column(export, "ENUM_DIAGNOSTIC_SEVERITY_LEVEL", "label", _SEVERITY_NAMES)
    rows = export.select(table, {"severity": "severity", "text": export.column(table, "text")})
    codes = ints(table, rows, "severity").tolist()
    lines = texts(table, rows, "", "text")
    return activity.diagnostic_warnings(
        (levels.get(code, "Info"), text) for code, text in zip(codes, lines, strict=True)
    )
