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
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np
import pyarrow as pa

from tracekit.errors import TraceError
from tracekit.model.schema import NONE, CopyDirection, MemoryKind
from tracekit.model.trace import Trace
from tracekit.readers.nsys import activity, enums
from tracekit.readers.source import read_buffer

_HEADER = re.compile(r"^(Start \((ns|us|ms|s)\)|Time \(%\)|Total \(MB\)|PID[,\t]TID)[,\t]", re.MULTILINE)
_UNIT = re.compile(r"^(.*?) \((ns|us|ms|s|MB)\)$")
_NS_PER_UNIT = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000}
_DEVICE_ID = re.compile(r"\((\d+)\)\s*$")
_COPY_NAME = re.compile(r"^\[CUDA memcpy (.+)\]$")
_SHORT_COPY = re.compile(r"^(Unified )?([HDAP])to([HDAP])$")
_LABEL_CODES = {label: code for code, label in enums.COPY_LABELS.items()}
_REQUIRED = ("Start", "Duration", "Name")
LOSSES = (
    "nsys stats CSV: bytes are given in MB with three decimals (rounded to 1 kB)",
    "nsys stats CSV: no CUDA API calls, so no launch delay, step assignment or bubble causes",
)


def sniff_nsys_csv(head: bytes) -> bool:
    """A CSV or TSV whose header is one of nsys stats' reports (after any preamble lines)."""
    return _HEADER.search(head[:8192].decode("utf-8", errors="replace")) is not None


def read_nsys_csv(path: Path) -> Trace:
    """Kernels, copies and memsets of a `cuda_gpu_trace` report."""
    header, rows = _table(path)
    if not header[0].startswith("Start ("):
        raise TraceError(
            path,
            "an nsys stats summary report has no per-event times; give the SQLite export "
            "(nsys export --type sqlite) or the cuda_gpu_trace report",
        )
    columns = _columns(path, header)
    events = [_event(path, row, columns) for row in rows if len(row) == len(header)]
    trace = activity.assemble(_blocks(events))
    return Trace(events=trace, format="nsys-csv", source=str(path), metadata={"warnings": list(LOSSES)})


def _table(path: Path) -> tuple[list[str], list[list[str]]]:
    text = bytes(read_buffer(path)).decode("utf-8", errors="replace")
    match = _HEADER.search(text)
    if match is None:
        raise TraceError(path, "no nsys stats header line found")
    body = text[match.start() :]  # skip the preamble nsys prints before the table
    delimiter = "\t" if "\t" in body.split("\n", 1)[0] else ","
    rows = list(csv.reader(io.StringIO(body), delimiter=delimiter))
    return rows[0], rows[1:]


def _columns(path: Path, header: list[str]) -> dict[str, tuple[int, str | None]]:
    """Column name without unit -> (index, unit)."""
    columns = {}
    for index, title in enumerate(header):
        match = _UNIT.match(title.strip())
        name, unit = (match.group(1), match.group(2)) if match else (title.strip(), None)
        columns[name] = (index, unit)
    missing = [name for name in _REQUIRED if name not in columns]
    if missing:
        raise TraceError(path, f"cuda_gpu_trace CSV lacks column(s) {', '.join(missing)}")
    return columns


def _event(path: Path, row: list[str], columns: dict[str, tuple[int, str | None]]) -> dict:
    def cell(name: str) -> str:
        return row[columns[name][0]].strip() if name in columns else ""

    def time(name: str) -> int:
        return _scaled(path, cell(name), _NS_PER_UNIT[columns[name][1] or "ns"])

    return {
        "start": time("Start"),
        "duration": time("Duration"),
        "correlation": int(cell("CorrId") or 0),
        "device": _device(cell("Device")),
        "stream": int(cell("Strm") or NONE),
        "bytes": _scaled(path, cell("Bytes"), 1_000_000) if cell("Bytes") else NONE,
        "src": enums.MEMORY_LABELS.get(cell("SrcMemKd").lower(), MemoryKind.UNKNOWN),
        "dst": enums.MEMORY_LABELS.get(cell("DstMemKd").lower(), MemoryKind.UNKNOWN),
        "name": cell("Name"),
    }


def _blocks(events: list[dict]) -> list[pa.Table]:
    kernels, copies, memsets = [], [], []
    for event in events:
        if _COPY_NAME.match(event["name"]):
            copies.append(event)
        elif event["name"] == "[CUDA memset]":
            memsets.append(event)
        else:
            kernels.append(event)
    copy = {
        "bytes": _array(copies, "bytes"),
        "copy_direction": [_direction(e["name"]) for e in copies],
        "src_memory": _array(copies, "src"),
        "dst_memory": _array(copies, "dst"),
    }
    return [
        activity.kernel_rows(_common(kernels), [e["name"] for e in kernels]),
        activity.copy_rows(_common(copies), [e["name"] for e in copies], copy),
        activity.memset_rows(
            _common(memsets), [e["name"] for e in memsets], _array(memsets, "bytes"), _array(memsets, "src")
        ),
    ]


def _common(events: list[dict]) -> dict[str, np.ndarray]:
    start = _array(events, "start")
    pid = np.zeros(len(events), dtype=np.int64)
    return activity.device_common(
        start,
        start + _array(events, "duration"),
        _array(events, "device"),
        _array(events, "stream"),
        pid,
        _array(events, "correlation"),
    )


def _direction(name: str) -> CopyDirection:
    label = _COPY_NAME.match(name).group(1)
    short = _SHORT_COPY.match(label)
    if short:
        code = f"{'UVM_' if short.group(1) else ''}{short.group(2)}TO{short.group(3)}"
    else:
        code = _LABEL_CODES.get(label, "UNKNOWN")
    return enums.copy_direction(f"CUDA_MEMCPY_KIND_{code}")


def _device(text: str) -> int:
    match = _DEVICE_ID.search(text)
    return int(match.group(1)) if match else 0


def _scaled(path: Path, text: str, factor: int) -> int:
    try:
        return int((Decimal(text.replace(",", ".")) * factor).to_integral_value())  # "482,333": a locale
    except InvalidOperation:
        raise TraceError(path, f"not a number: {text!r}") from None


def _array(events: list[dict], key: str) -> np.ndarray:
    return np.array([e[key] for e in events], dtype=np.int64)
