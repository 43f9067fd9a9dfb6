"""One msprof / torch_npu timeline file as columns: its metadata events and the fields of its X events.

A large file is cut into chunks between events and each chunk decoded (typed msgspec) and turned
into columns on its own, in worker processes when there are cores (readers/chunked/driver.py); a
small one, or one the chunked read refuses (malformed, not a bare array), is decoded whole, which
says exactly what is wrong with it. Both give the same columns. Nothing here depends on the other
events of the file: the layers, devices and threads are the reader's (timeline.py).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from operator import attrgetter
from pathlib import Path
from typing import NamedTuple

import msgspec
import numpy as np

from tracekit.gcpause import gc_paused
from tracekit.model.schema import NONE
from tracekit.readers import checked
from tracekit.readers.ascend.scalars import Codes, Scalars, Times, picked
from tracekit.readers.chunked.driver import Failure, Unstreamable, read_chunked
from tracekit.readers.source import UNTERMINATED, decode_json_array, first_line, read_buffer

Scalar = int | float | str | None


class _Args(msgspec.Struct, frozen=True, gc=False):
    name: Scalar = None
    labels: Scalar = None
    task_type: Scalar = msgspec.field(name="Task Type", default=None)
    physic_stream: Scalar = msgspec.field(name="Physic Stream Id", default=None)
    stream: Scalar = msgspec.field(name="Stream Id", default=None)
    task_id: Scalar = msgspec.field(name="Task Id", default=None)
    connection_id: Scalar = None
    size: Scalar = msgspec.field(name="size(B)", default=None)
    data_size: Scalar = msgspec.field(name="data size(Byte)", default=None)
    operation: Scalar = None
    memcpy_direction: Scalar = msgspec.field(name="memcpy direction", default=None)
    count: Scalar = None  # HCCL op: elements of its message, and their type
    data_type: Scalar = None


_NO_ARGS = _Args()
_NULL = msgspec.Raw(b"null")


class Event(msgspec.Struct, gc=False):
    """One trace event; `ts` and `dur` kept as their JSON text, decoded by columns."""

    ph: str = ""
    name: str = ""
    cat: str = ""
    pid: Scalar = NONE
    tid: Scalar = NONE
    ts: msgspec.Raw = _NULL
    dur: msgspec.Raw = _NULL
    args: _Args = _NO_ARGS


class MetaEvent(NamedTuple):
    """A metadata (M) event: what the layers, threads and devices are named from."""

    name: str
    pid: Scalar
    tid: Scalar
    args: _Args


@dataclass(frozen=True)
class XColumns:
    """The fields of X events (complete spans), one row per event in file order."""

    pid: Scalars
    tid: Scalars
    name: Codes
    ts: Times
    dur: Times
    connection: Scalars
    task_type: Codes
    physic_stream: Scalars
    stream: Scalars
    operation: Codes
    memcpy_direction: Codes
    size: Scalars
    data_size: Scalars
    count: Scalars
    data_type: Codes

    def __len__(self) -> int:
        return len(self.name)

    def take(self, rows: np.ndarray) -> XColumns:
        """The events of `rows` (ascending and distinct: all of them when there are as many)."""
        if len(rows) == len(self):
            return self
        return XColumns(*(getattr(self, f.name).take(rows) for f in fields(self)))

    @staticmethod
    def joined(parts: list[XColumns]) -> XColumns:
        """The parts one after another."""
        if len(parts) == 1:
            return parts[0]
        return XColumns(
            *(
                type(getattr(parts[0], f.name)).joined([getattr(p, f.name) for p in parts])
                for f in fields(XColumns)
            )
        )


_EVENT_FIELDS = ("pid", "tid", "name", "ts", "dur")
_ARG_FIELDS = ("connection_id", "task_type", "physic_stream", "stream", "operation", "memcpy_direction")
_ARG_FIELDS += ("size", "data_size", "count", "data_type")
_KINDS = (Scalars.of, Scalars.of, Codes.of, Times.of, Times.of, Scalars.of, Codes.of, Scalars.of)
_KINDS += (Scalars.of, Codes.of, Codes.of, Scalars.of, Scalars.of, Scalars.of, Codes.of)


@dataclass
class Piece:
    """The events of a chunk (or a whole file): `decoded` of them, the metadata (M) events, the X
    events' columns."""

    decoded: int
    meta: list[MetaEvent]
    x: XColumns


def to_piece(events: list[Event]) -> Piece:
    """The columns of decoded events."""
    phases = Codes.of(list(map(attrgetter("ph"), events)))
    meta, xs = (picked(events, _rows_of(phases, phase)) for phase in ("M", "X"))
    meta = [MetaEvent(e.name, e.pid, e.tid, e.args) for e in meta]  # no Raw: it would hold the chunk's buffer
    args = list(map(attrgetter("args"), xs))
    values = [list(map(attrgetter(name), xs)) for name in _EVENT_FIELDS]
    values += [list(map(attrgetter(name), args)) for name in _ARG_FIELDS]
    return Piece(len(events), meta, XColumns(*(kind(v) for kind, v in zip(_KINDS, values, strict=True))))


def _rows_of(codes: Codes, value: str) -> np.ndarray:
    """The rows holding `value`, ascending."""
    if value not in codes.values:
        return np.empty(0, dtype=np.int64)
    return np.flatnonzero(codes.codes == codes.values.index(value))


def decode_chunk(text: bytes | memoryview) -> Piece | Failure:
    """A chunk of events (between brackets) as a piece; a Failure when it does not decode."""
    with gc_paused():
        try:
            return to_piece(msgspec.json.decode(text, type=list[Event]))
        except (msgspec.DecodeError, RecursionError) as exc:
            return Failure(f"not valid msprof timeline JSON ({first_line(exc)})")


class _Pieces:
    """The pieces of one file in file order."""

    def __init__(self) -> None:
        self.pieces: list[Piece] = []

    def add(self, piece: Piece) -> None:
        self.pieces.append(piece)


def read_file(path: Path) -> tuple[list[MetaEvent], XColumns]:
    """The metadata events and the X events' columns of one timeline file (gzipped or not; an
    unterminated array is read up to its last complete event, with a warning); anything but a JSON
    array of events is an input error."""
    try:
        result = read_chunked(path, decode_chunk, _Pieces)
    except Unstreamable:
        result = read_buffer(path)
    if isinstance(result, tuple) and (result[0].form != "array" or result[0].tail.strip()):
        result = read_buffer(path)  # not a bare array: the whole read says what is wrong
    if not isinstance(result, tuple):
        with gc_paused():
            pieces = [to_piece(decode_json_array(path, result, Event, "msprof timeline"))]
    else:
        if result[0].unterminated:
            checked.warn(f"{path.name}: {UNTERMINATED}")
        pieces = result[1].pieces
    meta = [event for piece in pieces for event in piece.meta]
    return meta, XColumns.joined([piece.x for piece in pieces])
