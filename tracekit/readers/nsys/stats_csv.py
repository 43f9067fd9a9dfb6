"""Reader for `nsys stats` CSV output, for users who can only share that.

Only the per-event `cuda_gpu_trace` report has times; the summary reports (`cuda_gpu_kern_sum`, ...)
are recognised and refused with a message saying what to export instead. The trace report has no
CUDA API calls and gives bytes in MB with three decimals, so launch links and exact byte counts are
lost (shared/docs/formats-nsys.md §B.2-B.3); the reader says so in the trace's warnings.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np

from tracekit.errors import TraceError
from tracekit.model.schema import CopyDirection, MemoryKind
from tracekit.model.trace import Trace
from tracekit.readers import checked
from tracekit.readers.checked import INT64_MAX, INVALID_NS
from tracekit.readers.nsys import activity, enums
from tracekit.readers.nsys.sniff import HEADER_SEARCH_CHARS, NS_PER_UNIT, find_header, split_title
from tracekit.readers.source import first_line, read_buffer

_DEVICE_ID = re.compile(r"\((\d+)\)\s*$")
_COPY_NAME = re.compile(r"^\[CUDA memcpy (.+)\]$")
_SHORT_COPY = re.compile(r"^(Unified )?([HDAP])to([HDAP])$")
_LABEL_CODES = {label: code for code, label in enums.COPY_LABELS.items()}
LOSSES = (
    "nsys stats CSV: bytes are given in MB with three decimals (rounded to 1 kB)",
    "nsys stats CSV: no CUDA API calls, so no launch delay, step assignment or bubble causes",
)

Columns = dict[str, tuple[int, str | None]]
"""Column name without its unit -> (index, unit)."""


def read_nsys_csv(path: Path) -> Trace:
    """Kernels, copies and memsets of a `cuda_gpu_trace` report, its columns found by name."""
    kind, header, rows = _table(path)
    if kind == "summary":
        raise TraceError(
            path,
            "an nsys stats summary report has no per-event times; give the SQLite export "
            "(nsys export --type sqlite) or the cuda_gpu_trace report",
        )
    columns = _columns(header)
    missing = _missing_column(columns)
    if missing:
        raise TraceError(path, f"cuda_gpu_trace CSV lacks the column {missing}")
    whole = [row for row in rows if len(row) == len(header)]
    checked.note("row", "cell count differs from the header; row skipped", len(rows) - len(whole))
    cells = {name: [row[index].strip() for row in whole] for name, (index, _) in columns.items()}
    events = activity.assemble(_blocks(columns, cells, len(whole)))
    warnings = list(LOSSES) if events.num_rows else []  # nothing read: the dropped values say why
    return Trace(events=events, format="nsys-csv", source=str(path), metadata={"warnings": warnings})


def _table(path: Path) -> tuple[str, list[str], list[list[str]]]:
    text = bytes(read_buffer(path)).decode("utf-8", errors="replace")
    found = find_header(text[:HEADER_SEARCH_CHARS])
    if found is None:
        raise TraceError(path, "no nsys stats header line found")
    offset, kind = found
    body = text[offset:]  # skip the preamble nsys prints before the table
    delimiter = "\t" if "\t" in body.split("\n", 1)[0] else ","
    try:
        rows = list(csv.reader(io.StringIO(body, newline=""), delimiter=delimiter))
    except csv.Error as exc:  # e.g. a field past the csv module's 128 KiB limit
        raise TraceError(path, f"malformed CSV ({first_line(exc)})") from None
    return kind, rows[0], rows[1:]


def _columns(header: list[str]) -> Columns:
    return {
        name: (index, unit)
        for index, (name, unit) in ((i, split_title(t.strip())) for i, t in enumerate(header))
    }


def _missing_column(columns: Columns) -> str | None:
    """The first required column the parsed header lacks (a stray quote can merge header cells)."""
    for name in ("Start", "Duration"):
        if columns.get(name, (0, None))[1] not in NS_PER_UNIT:
            return f"{name} (with a time unit: ns, us, ms, s)"
    return None if "Name" in columns else "Name"


def _blocks(columns: Columns, cells: dict[str, list[str]], n: int) -> list[checked.Block]:
    names = cells["Name"]
    common = _common(columns, cells, n)
    kinds = np.array([_category(name) for name in names], dtype=np.int8)
    copies, memsets, kernels = (np.flatnonzero(kinds == k) for k in (_COPY, _MEMSET, _KERNEL))
    size = checked.integers(_scaled(_cells(cells, "Bytes", n), 1_000_000), "Bytes (MB)")
    src, dst = (_memory(_cells(cells, key, n)) for key in ("SrcMemKd", "DstMemKd"))
    copy = {
        "bytes": size[copies],
        "copy_direction": [_direction(names[i]) for i in copies],
        "src_memory": src[copies],
        "dst_memory": dst[copies],
    }
    return [
        activity.kernel_rows(_rows(common, kernels), [names[i] for i in kernels]),
        activity.copy_rows(_rows(common, copies), [names[i] for i in copies], copy),
        activity.memset_rows(
            _rows(common, memsets), [names[i] for i in memsets], size[memsets], src[memsets]
        ),
    ]


_KERNEL, _COPY, _MEMSET = 0, 1, 2


def _category(name: str) -> int:
    if _COPY_NAME.match(name):
        return _COPY
    return _MEMSET if name == "[CUDA memset]" else _KERNEL


def _common(columns: Columns, cells: dict[str, list[str]], n: int) -> dict[str, np.ndarray]:
    start, duration = (_times(columns, cells, key) for key in ("Start", "Duration"))
    devices = [_device(cell) for cell in _cells(cells, "Device", n)]
    return activity.device_common(
        start,
        _ends(start, duration),
        checked.integers(devices, "Device"),
        checked.integers(_cells(cells, "Strm", n), "Strm"),
        np.zeros(n, dtype=np.int64),
        checked.integers(_cells(cells, "CorrId", n), "CorrId"),
    )


def _rows(common: dict[str, np.ndarray], index: np.ndarray) -> dict[str, np.ndarray]:
    return {key: column[index] for key, column in common.items()}


def _cells(cells: dict[str, list[str]], name: str, n: int) -> list[str]:
    """A column's cells; empty ones when the report lacks the column."""
    return cells.get(name, [""] * n)


def _times(columns: Columns, cells: dict[str, list[str]], name: str) -> np.ndarray:
    """A time column in ns, in the unit its header gives."""
    factor = NS_PER_UNIT[columns[name][1] or "ns"]
    return activity.times(_scaled(cells[name], factor), f"{name} ({columns[name][1]})")


def _ends(start: np.ndarray, duration: np.ndarray) -> np.ndarray:
    """start + duration; INVALID_NS where either is invalid (already noted) or the end leaves int64."""
    invalid = (start == INVALID_NS) | (duration == INVALID_NS)
    overflow = ~invalid & (start > INT64_MAX - np.where(invalid, 0, duration))
    checked.note("Duration", "end past the int64 ns range; event dropped", int(overflow.sum()))
    unusable = invalid | overflow
    return np.where(unusable, INVALID_NS, np.where(unusable, 0, start) + np.where(unusable, 0, duration))


def _scaled(cells: list[str], factor: int) -> list[object]:
    """Cells in a unit as integers of a unit `factor` times smaller (rounded); a cell that is not a
    number is passed on as it is, for the checked conversion to count it."""
    scaled: list[object] = []
    for cell in cells:
        value = checked.number(cell.replace(",", "."))  # "482,333": a locale's decimal comma
        scaled.append(cell if value is None else (value * factor).to_integral_value())
    return scaled


def _memory(labels: list[str]) -> np.ndarray:
    kinds = [enums.MEMORY_LABELS.get(label.lower(), MemoryKind.UNKNOWN) for label in labels]
    return np.array(kinds, dtype=np.int8)


def _direction(name: str) -> CopyDirection:
    label = _COPY_NAME.match(name).group(1)
    short = _SHORT_COPY.match(label)
    if short:
        code = f"{'UVM_' if short.group(1) else ''}{short.group(2)}TO{short.group(3)}"
    else:
        code = _LABEL_CODES.get(label, "UNKNOWN")
    return enums.copy_direction(f"CUDA_MEMCPY_KIND_{code}")


def _device(text: str) -> str:
    """The device number of `NVIDIA H200 (0)`; 0 when the cell names none."""
    match = _DEVICE_ID.search(text)
    return match.group(1) if match else "0"
