"""Reader for PyTorch-profiler (Kineto) traces and generic Chrome trace JSON.

Handles every Kineto schema era: the current lower-case categories (kernel, gpu_memcpy, cpu_op, ...),
the 2021 capitalised ones (Kernel, Memcpy, Runtime, Operator), ROCm traces, and plain Chrome traces
(array form or {"traceEvents": [...]}, e.g. VizTracer) for CPU-side analysis. Only the fields tracekit
needs are decoded, with a typed msgspec decoder.

A file whose content fits one chunk (chunked/driver.py, CHUNK_BYTES) is decoded whole; a larger one is
streamed: its events are decoded chunk by chunk, in worker processes when it is large (stream.py, on
the driver of readers/chunked), and the table spills to a memory-mapped temporary file when it would
not fit the memory budget (spill.py). Both give the same table.
"""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path

from tracekit.errors import TraceError
from tracekit.gcpause import gc_paused
from tracekit.model.trace import Trace
from tracekit.readers.kineto.assemble import Assembly, default_of
from tracekit.readers.kineto.columns import INPUT_COLUMNS, _parse_copy_name, to_piece
from tracekit.readers.kineto.events import (
    FAST,
    KNOWN_SCHEMA_VERSIONS,
    _Args,
    _Document,
    _Event,
    header,
)
from tracekit.readers.kineto.stream import Streamed, Unstreamable, read_streamed
from tracekit.readers.memory_budget import memory_budget
from tracekit.readers.source import content_size_hint, decode_json, decode_json_array, read_buffer
from tracekit.readers.spill import Store

__all__ = [
    "INPUT_COLUMNS",
    "KNOWN_SCHEMA_VERSIONS",
    "_Args",
    "_Document",
    "_Event",
    "_parse_copy_name",
    "looks_like_chrome",
    "read_chrome",
    "read_kineto",
    "sniff_kineto",
]

_KINETO_MARKS = re.compile(
    rb'"(schemaVersion|deviceProperties|distributedInfo)"|ProfilerStep#|'
    rb'"cat"\s*:\s*"(kernel|Kernel|cpu_op|Operator|cuda_runtime|Runtime|gpu_memcpy|Memcpy|'
    rb'cuda_driver|gpu_memset|Memset|user_annotation)"'
)
_CHROME_ARRAY = re.compile(rb"^\s*\[\s*(\]|\{|$)")
_JSON_OBJECT = re.compile(rb"^\s*\{")
_TRACE_EVENTS_KEY = re.compile(rb'"traceEvents"\s*:')
WHOLE_READ_LIMIT = 1 << 30
"""A large file the streaming read cannot take (it is malformed, or its array is not in the head)
is read whole, to say exactly what is wrong, up to this size or a third of the memory budget."""


def sniff_kineto(head: bytes) -> bool:
    """True when the first bytes look like a PyTorch-profiler trace."""
    return looks_like_chrome(head) and _KINETO_MARKS.search(head) is not None


def looks_like_chrome(head: bytes) -> bool:
    """True when the first bytes look like Chrome trace JSON: an array of events, or an object whose
    `traceEvents` key (or a Kineto header key before it) appears in the head."""
    if _CHROME_ARRAY.match(head):
        return True
    header_key = _TRACE_EVENTS_KEY.search(head) or _KINETO_MARKS.search(head)
    return bool(_JSON_OBJECT.match(head)) and header_key is not None


def read_kineto(path: Path) -> Trace:
    """Read a PyTorch-profiler trace (host events alone are read too: the reader policy warns)."""
    return _read(path, "kineto")


def read_chrome(path: Path) -> Trace:
    """Read generic Chrome trace JSON (CPU-side analysis; device events are kept if present)."""
    return _read(path, "chrome")


def _read(path: Path, format_name: str) -> Trace:
    try:
        result = read_streamed(path)
    except Unstreamable as exc:
        if content_size_hint(path) > _whole_read_limit(path):
            raise TraceError(path, str(exc)) from None
        result = read_buffer(path)
    streamed = result if isinstance(result, Streamed) else _read_whole(path, result)
    metadata = streamed.metadata
    if streamed.warnings:
        metadata["warnings"] = [*metadata.get("warnings", []), *streamed.warnings]
    return Trace(events=streamed.table, format=format_name, source=str(path), metadata=metadata)


def _whole_read_limit(path: Path) -> int:
    budget = memory_budget(path)
    return WHOLE_READ_LIMIT if budget is None else min(WHOLE_READ_LIMIT, budget // 3)


def _read_whole(path: Path, data) -> Streamed:
    """Decode the whole content at once (small files, and large ones the streaming read refuses)."""
    if not (_CHROME_ARRAY.match(data) or _JSON_OBJECT.match(data)):
        raise TraceError(path, "not Chrome trace JSON (expected a JSON array or an object with traceEvents)")
    metadata: dict[str, object] = {}
    with gc_paused():  # millions of new objects and no cycles: collections would only rescan them
        decoded = _decode(path, data, FAST, metadata)
        piece = to_piece(decoded, partial(_decode, path, data, found={}), pair_here=True)
        del data, decoded
        assembly = Assembly(Store(default_of))
        assembly.add(piece)
        table, warnings = assembly.table()
    return Streamed(table, metadata, warnings)


def _decode(path: Path, data, types: tuple[type, type], found: dict) -> list:
    """The events of the array or object form; the object's header (version, devices) goes into
    `found`. An unterminated array is read up to its last complete event (source.decode_json_array)."""
    event_type, document_type = types
    if _CHROME_ARRAY.match(data):
        return decode_json_array(path, data, event_type, "trace JSON")
    document = decode_json(path, data, document_type, "trace JSON")
    if document.traceEvents is None:
        raise TraceError(path, "a JSON object without a traceEvents array: not a Chrome trace")
    if isinstance(document, _Document):
        found.update(header(document))
    return document.traceEvents
