"""Reader for Nsight Systems JSON exports (`nsys export --type json`): one JSON object per line.

Line 1 holds the string table, each following line one event (`{"Type": N, "<Kind>": {...}}`); 64-bit
integers are written as strings (shared/docs/formats-nsys.md §B.1). Only CUDA activity, CUDA API
calls, NVTX ranges and diagnostics are decoded.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa

from tracekit.errors import TraceError
from tracekit.model.schema import NONE
from tracekit.model.trace import Trace
from tracekit.readers.nsys import activity, enums
from tracekit.readers.nsys.sqlite import NVTX_SPAN_TYPES
from tracekit.readers.source import read_buffer

CUDA_API_CLASSES = (0, 1)  # ENUM_NSYS_EVENT_CLASS: CUDA runtime, CUDA driver
NVTX_MARK = 34
_STRING_TABLE = re.compile(rb'^\s*\{\s*"data"\s*:\s*\[')


class _Kernel(msgspec.Struct):
    demangledName: int | None = None
    shortName: int | None = None


class _Memcpy(msgspec.Struct):
    sizebytes: int = NONE
    copyKind: int = 0
    srcKind: int = 7
    dstKind: int = 7


class _Memset(msgspec.Struct):
    sizebytes: int = NONE
    memKind: int = 7


class _Cuda(msgspec.Struct):
    startNs: int = 0
    endNs: int = 0
    correlationId: int = 0
    deviceId: int = NONE
    streamId: int = NONE
    globalPid: int = 0
    kernel: _Kernel | None = None
    memcpy: _Memcpy | None = None
    memset: _Memset | None = None
    sync: dict[str, Any] | None = None


class _Call(msgspec.Struct):
    startNs: int = 0
    endNs: int = 0
    correlationId: int = 0
    eventClass: int = NONE
    name: int = NONE
    globalTid: int = 0


class _Nvtx(msgspec.Struct):
    Type: int = NONE
    Timestamp: int = 0
    EndTimestamp: int | None = None
    Text: str | None = None
    GlobalTid: int = 0


class _Diagnostic(msgspec.Struct):
    Level: str = ""
    Text: str = ""


class _Line(msgspec.Struct):
    Type: int | None = None
    CudaEvent: _Cuda | None = None
    TraceProcessEvent: _Call | None = None
    NvtxEvent: _Nvtx | None = None
    DiagnosticEvent: _Diagnostic | None = None
    data: list[Any] | None = None


_DECODER = msgspec.json.Decoder(_Line, strict=False)


def sniff_nsys_json(head: bytes) -> bool:
    """The export starts with its string table: `{"data":["...`."""
    return _STRING_TABLE.match(head) is not None and b'"traceEvents"' not in head


def read_nsys_json(path: Path) -> Trace:
    """CUDA kernels, copies, memsets, syncs, API calls and NVTX ranges of a JSON export."""
    lines = _decode(path)
    strings = [s for s in (lines[0].data or []) if isinstance(s, str)] if lines else []
    cuda = [line.CudaEvent for line in lines if line.CudaEvent is not None and line.CudaEvent.startNs > 0]
    blocks = [
        _kernels([e for e in cuda if e.kernel is not None], strings),
        _copies([e for e in cuda if e.memcpy is not None]),
        _memsets([e for e in cuda if e.memset is not None]),
        _syncs([e for e in cuda if e.sync is not None]),
        _calls(lines, strings),
        _nvtx(lines),
    ]
    metadata = {"nsys": {"export": "json"}, "warnings": _diagnostics(lines)}
    return Trace(events=activity.assemble(blocks), format="nsys-json", source=str(path), metadata=metadata)


def _decode(path: Path) -> list[_Line]:
    try:
        return _DECODER.decode_lines(read_buffer(path))
    except msgspec.DecodeError as exc:
        raise TraceError(path, f"not a readable nsys JSON export ({exc})") from None


def _common(events: list[_Cuda]) -> dict[str, np.ndarray]:
    fields = ("startNs", "endNs", "deviceId", "streamId", "globalPid", "correlationId")
    return activity.device_common(*(_ints(events, field) for field in fields))


def _kernels(events: list[_Cuda], strings: list[str]) -> pa.Table:
    names = [_string(strings, e.kernel.demangledName, e.kernel.shortName) for e in events]
    return activity.kernel_rows(_common(events), names)


def _copies(events: list[_Cuda]) -> pa.Table:
    kinds = [enums.COPY_KIND_NAMES.get(e.memcpy.copyKind, "CUDA_MEMCPY_KIND_UNKNOWN") for e in events]
    memory = enums.MEMORY_KIND_NAMES
    copy = {
        "bytes": np.array([e.memcpy.sizebytes for e in events], dtype=np.int64),
        "copy_direction": [enums.copy_direction(kind) for kind in kinds],
        "src_memory": [enums.memory_kind(memory.get(e.memcpy.srcKind, "")) for e in events],
        "dst_memory": [enums.memory_kind(memory.get(e.memcpy.dstKind, "")) for e in events],
    }
    return activity.copy_rows(_common(events), [enums.copy_display_name(kind) for kind in kinds], copy)


def _memsets(events: list[_Cuda]) -> pa.Table:
    size = np.array([e.memset.sizebytes for e in events], dtype=np.int64)
    memory = [enums.memory_kind(enums.MEMORY_KIND_NAMES.get(e.memset.memKind, "")) for e in events]
    return activity.memset_rows(_common(events), ["[CUDA memset]"] * len(events), size, memory)


def _syncs(events: list[_Cuda]) -> pa.Table:
    return activity.sync_rows(_common(events), ["[CUDA synchronization]"] * len(events))


def _calls(lines: list[_Line], strings: list[str]) -> pa.Table:
    calls = [
        line.TraceProcessEvent
        for line in lines
        if line.TraceProcessEvent is not None and line.TraceProcessEvent.eventClass in CUDA_API_CLASSES
    ]
    fields = ("startNs", "endNs", "globalTid", "correlationId")
    names = [_string(strings, call.name) for call in calls]
    return activity.api_rows(*(_ints(calls, field) for field in fields), names)


def _nvtx(lines: list[_Line]) -> pa.Table:
    ranges = [
        line.NvtxEvent
        for line in lines
        if line.NvtxEvent is not None
        and line.NvtxEvent.Type in NVTX_SPAN_TYPES
        and (line.NvtxEvent.EndTimestamp is not None or line.NvtxEvent.Type == NVTX_MARK)
    ]
    start = _ints(ranges, "Timestamp")
    end = np.array([NONE if r.EndTimestamp is None else r.EndTimestamp for r in ranges], dtype=np.int64)
    names = [r.Text or "[unnamed NVTX range]" for r in ranges]
    return activity.nvtx_rows(start, np.where(end == NONE, start, end), _ints(ranges, "GlobalTid"), names)


def _diagnostics(lines: list[_Line]) -> list[str]:
    diagnostics = (line.DiagnosticEvent for line in lines if line.DiagnosticEvent is not None)
    return activity.diagnostic_warnings((d.Level, d.Text) for d in diagnostics)


def _ints(events: list, field: str) -> np.ndarray:
    return np.array([getattr(e, field) for e in events], dtype=np.int64)


def _string(strings: list[str], *indices: int | None) -> str:
    for index in indices:
        if index is not None and 0 <= index < len(strings):
            return strings[index]
    return "[unnamed]"
