"""Recognising the Nsight Systems inputs by their first bytes.

Format detection runs these for every input, Kineto traces included, so this module imports only
`re` and the magic bytes: the readers (and sqlite3, msgspec, the export's tables) load when their
format is read.
"""

from __future__ import annotations

import re

from tracekit.readers.magic import SQLITE_MAGIC

REPORT_MAGIC = b"NVIDIA Tegra Profiler Report"
_STRING_TABLE = re.compile(rb'^\s*\{\s*"data"\s*:\s*\[')
_SUMMARY_HEADER = re.compile(r"^\s*(Time \(%\)|Total \(MB\)|PID[,\t]TID)[,\t]")
_UNIT = re.compile(r"^(.*?) \((ns|us|ms|s|MB)\)$")
NS_PER_UNIT = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000}
HEADER_SEARCH_CHARS = 8192
"""How far into an `nsys stats` CSV its header line is looked for (after nsys' preamble lines)."""


def sniff_nsys_sqlite(head: bytes) -> bool:
    """An SQLite database with nsys' string table (Ascend exports name theirs STRING_IDS)."""
    return head.startswith(SQLITE_MAGIC) and b"StringIds" in head


def sniff_nsys_json(head: bytes) -> bool:
    """The JSON export starts with its string table: `{"data":["...`."""
    return _STRING_TABLE.match(head) is not None and b'"traceEvents"' not in head


def sniff_nsys_report(head: bytes) -> bool:
    """The header every .nsys-rep and .qdrep file starts with."""
    return head.startswith(REPORT_MAGIC)


def sniff_nsys_csv(head: bytes) -> bool:
    """A CSV or TSV whose header is one of nsys stats' reports (after any preamble lines)."""
    return find_header(head[:HEADER_SEARCH_CHARS].decode("utf-8", errors="replace")) is not None


def find_header(text: str) -> tuple[int, str] | None:
    """Where the report's header line starts and what it heads ("trace" or "summary"), if found."""
    offset = 0
    for line in text.splitlines(keepends=True):
        kind = _header_kind(line)
        if kind:
            return offset, kind
        offset += len(line)
    return None


def _header_kind(line: str) -> str | None:
    """`trace` for a cuda_gpu_trace header (Start with a time unit, and Name, in any order),
    `summary` for a summary report's, else None."""
    if _SUMMARY_HEADER.match(line):
        return "summary"
    units = dict(split_title(cell.strip().strip('"')) for cell in re.split(r"[,\t]", line))
    return "trace" if units.get("Start") in NS_PER_UNIT and "Name" in units else None


def split_title(title: str) -> tuple[str, str | None]:
    """`Start (us)` -> (`Start`, `us`); a title without a unit -> (title, None)."""
    match = _UNIT.match(title)
    return (match.group(1), match.group(2)) if match else (title, None)
