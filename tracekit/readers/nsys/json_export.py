"""Reader for Nsight Systems JSON exports (`nsys export --type json`): one JSON object per line.

Line 1 holds the string table, each following line one event (`{"Type": N, "<Kind>": {...}}`); 64-bit
integers are written as strings (shared/docs/formats-nsys.md §B.1). Only CUDA activity, CUDA API
calls, NVTX ranges and diagnostics are decoded; every value through the checked conversions. The
export carries no schema version, so none is checked.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from tracekit.errors import TraceError
from tracekit.model.trace import Trace
from tracekit.readers import checked
from tracekit.readers.nsys import activity, enums
from tracekit.readers.nsys.sqlite import NVTX_SPAN_TYPES
from tracekit.readers.source import first_line, read_buffer

CUDA_API_CLASSES = (0, 1)  # ENUM_NSYS_EVENT_CLASS: CUDA runtime, CUDA driver
NVTX_MARK = 34


class _Kernel(msgspec.Struct):
    demangledName: Any = None
    shortName: Any = None


class _Memcpy(msgspec.Struct):
    sizebytes: Any = None
    copyKind: Any = 0
    srcKind: Any = 7
    dstKind: Any = 7


class _Memset(msgspec.Struct):
    sizebytes: Any = None
    memKind: Any = 7


class _Cuda(msgspec.Struct):
    startNs: Any = None
    endNs: Any = None
    correlationId: Any = 0
    deviceId: Any = None
    streamId: Any = None
    globalPid: Any = 0
    kernel: _Kernel | None = None
    memcpy: _Memcpy | None = None
    memset: _Memset | None = None
    sync: dict[str, Any] | None = None


class _Call(msgspec.Struct):
    startNs: Any = None
    endNs: Any = None
    correlationId: Any = 0
    eventClass: Any = None
    name: Any = None
    globalTid: Any = 0


class _Nvtx(msgspec.Struct):
    Type: Any = None
    Timestamp: Any = None
    EndTimestamp: Any = None
    Text: Any = None
    GlobalTid: Any = 0


class _Diagnostic(msgspec.Struct):
    Level: Any = ""
    Text: Any = ""


class _Line(msgspec.Struct):
    Type: Any = None
    CudaEvent: _Cuda | None = None
    TraceProcessEvent: _Call | None = None
    NvtxEvent: _Nvtx | None = None
    DiagnosticEvent: _Diagnostic | None = None
    data: list[Any] | None = None


_DECODER = msgspec.json.Decoder(_Line, strict=False, float_hook=Decimal)
"""Values are decoded as they are written (numbers, or strings for 64-bit ones) and converted by the
checked functions; number literals with a fraction or exponent become Decimals, so `1e99999999` is
refused by `checked.number` without being expanded."""


def read_nsys_json(path: Path) -> Trace:
    """CUDA kernels, copies, memsets, syncs, API calls and NVTX ranges of a JSON export."""
    lines = _decode(path)
    table = (lines[0].data or []) if lines else []
    strings = [s if isinstance(s, str) else "" for s in table]  # a stray value keeps the ids in place
    cuda = [line.CudaEvent for line in lines if line.CudaEvent is not None and _timed(line.CudaEvent)]
    events = activity.assemble([
        _kernels([e for e in cuda if e.kernel is not None], strings),
        _copies([e for e in cuda if e.memcpy is not None]),
        _memsets([e for e in cuda if e.memset is not None]),
        _syncs([e for e in cuda if e.sync is not None]),
        _calls(lines, strings),
        _nvtx(lines),
    ])  # fmt: skip
    metadata = {"nsys": {"export": "json"}, "warnings": _diagnostics(lines)}
    return Trace(events=events, format="nsys-json", source=str(path), metadata=metadata)


def _decode(path: Path) -> list[_Line]:
    """The export's lines; malformed, mistyped or too deeply nested JSON is a one-line TraceError."""
    try:
        return _DECODER.decode_lines(read_buffer(path))
    except msgspec.ValidationError as exc:
        raise TraceError(path, f"unexpected nsys JSON export content ({first_line(exc)})") from None
    except msgspec.DecodeError as exc:
        raise TraceError(path, f"not a readable nsys JSON export ({first_line(exc)})") from None
    except RecursionError:
        raise TraceError(path, "nsys JSON export nested too deeply") from None


def _timed(event: _Cuda) -> bool:
    """CUPTI writes start 0 for "no timestamp" (skipped, as nsys does); other values, a missing one
    too, are checked (and counted when dropped) by `activity.times`."""
    return event.startNs not in (0, "0")


def _common(events: list[_Cuda]) -> dict[str, np.ndarray]:
    start, end = (
        activity.times(_values(events, field), f"CudaEvent.{field}") for field in ("startNs", "endNs")
    )
    fields = ("deviceId", "streamId", "globalPid", "correlationId")
    return activity.device_common(start, end, *(_ints(events, field, "CudaEvent") for field in fields))


def _kernels(events: list[_Cuda], strings: list[str]) -> checked.Block:
    names = [_string(strings, e.kernel.demangledName, e.kernel.shortName) for e in events]
    return activity.kernel_rows(_common(events), names)


def _copies(events: list[_Cuda]) -> checked.Block:
    copies = [e.memcpy for e in events]
    codes = {field: _ints(copies, field, "memcpy").tolist() for field in ("copyKind", "srcKind", "dstKind")}
    kinds = [enums.COPY_KIND_NAMES.get(code, "CUDA_MEMCPY_KIND_UNKNOWN") for code in codes["copyKind"]]
    copy = {
        "bytes": _ints(copies, "sizebytes", "memcpy"),
        "copy_direction": [enums.copy_direction(kind) for kind in kinds],
        "src_memory": _memory_kinds(codes["srcKind"]),
        "dst_memory": _memory_kinds(codes["dstKind"]),
    }
    return activity.copy_rows(_common(events), [enums.copy_display_name(kind) for kind in kinds], copy)


def _memsets(events: list[_Cuda]) -> checked.Block:
    memsets = [e.memset for e in events]
    size = _ints(memsets, "sizebytes", "memset")
    memory = _memory_kinds(_ints(memsets, "memKind", "memset").tolist())
    return activity.memset_rows(_common(events), ["[CUDA memset]"] * len(events), size, memory)


def _memory_kinds(codes: list[int]) -> list[int]:
    return [enums.memory_kind(enums.MEMORY_KIND_NAMES.get(code, "")) for code in codes]


def _syncs(events: list[_Cuda]) -> checked.Block:
    return activity.sync_rows(_common(events), ["[CUDA synchronization]"] * len(events))


def _calls(lines: list[_Line], strings: list[str]) -> checked.Block:
    calls = [line.TraceProcessEvent for line in lines if line.TraceProcessEvent is not None]
    classes = _ints(calls, "eventClass", "TraceProcessEvent")
    calls = [
        call for call, event_class in zip(calls, classes, strict=True) if event_class in CUDA_API_CLASSES
    ]
    span = (activity.times(_values(calls, f), f"TraceProcessEvent.{f}") for f in ("startNs", "endNs"))
    ids = (_ints(calls, field, "TraceProcessEvent") for field in ("globalTid", "correlationId"))
    names = [_string(strings, call.name) for call in calls]
    return activity.api_rows(*span, *ids, names)


def _nvtx(lines: list[_Line]) -> checked.Block:
    events = [line.NvtxEvent for line in lines if line.NvtxEvent is not None]
    types = _ints(events, "Type", "NvtxEvent")
    ranges = [
        event
        for event, kind in zip(events, types, strict=True)
        if kind in NVTX_SPAN_TYPES and (event.EndTimestamp is not None or kind == NVTX_MARK)
    ]
    ends = [r.Timestamp if r.EndTimestamp is None else r.EndTimestamp for r in ranges]  # a mark: its time
    start = activity.times(_values(ranges, "Timestamp"), "NvtxEvent.Timestamp")
    end = activity.times(ends, "NvtxEvent.EndTimestamp")
    names = [checked.text(r.Text, "NvtxEvent.Text") or "[unnamed NVTX range]" for r in ranges]
    return activity.nvtx_rows(start, end, _ints(ranges, "GlobalTid", "NvtxEvent"), names)


def _diagnostics(lines: list[_Line]) -> list[str]:
    diagnostics = [line.DiagnosticEvent for line in lines if line.DiagnosticEvent is not None]
    field = "DiagnosticEvent"
    return activity.diagnostic_warnings(
        (checked.text(d.Level, f"{field}.Level"), checked.text(d.Text, f"{field}.Text")) for d in diagnostics
    )


def _values(events: list, field: str) -> list[object]:
    return [getattr(e, field) for e in events]


def _ints(events: list, field: str, kind: str) -> np.ndarray:
    """One field of the events as checked int64 (absent or unusable values as NONE)."""
    return checked.integers(_values(events, field), f"{kind}.{field}")


def _string(strings: list[str], *indices: object) -> str:
    """The first of the string-table indices that names a string."""
    for index in indices:
        position = checked.integer(index, "string index")
        if 0 <= position < len(strings):
            return strings[position]
    return "[unnamed]"
