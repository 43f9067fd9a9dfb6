"""The streaming read of a large Kineto trace: the format-independent driver
(tracekit/readers/chunked/driver.py) cuts the `traceEvents` array into chunks between events and
decodes each with `decode_chunk` (typed msgspec, then columns: columns.to_piece), in worker
processes when there are cores and the file is large; `_Collector` takes the pieces in file order
and assembles them (assemble.py) into a store chosen from the first piece (spill.py). Neither the
chunks' conversion nor the assembly uses pyarrow's conversions (tracekit/model/arrays.py), whose
first use imports pandas (0.15 s): no process of the read imports it.

The document around the array (the Kineto header before it, the keys after it) is decoded at the end
with the array replaced by `null`.

`read_streamed` raises `Unstreamable` where only a whole-file read says exactly what is wrong (the
array is not found in the head, a chunk does not decode, a second `traceEvents` key...); the
caller then reads the file whole, as for small files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import msgspec
import pyarrow as pa

from tracekit import resident
from tracekit.gcpause import gc_paused
from tracekit.model.schema import EVENT_SCHEMA
from tracekit.readers import checked, timeunits
from tracekit.readers.chunked.driver import Failure, Unstreamable, read_chunked
from tracekit.readers.kineto import events as kinds
from tracekit.readers.kineto.assemble import Assembly, default_of
from tracekit.readers.kineto.columns import Piece, to_piece
from tracekit.readers.memory_budget import memory_budget
from tracekit.readers.source import UNTERMINATED, content_size_hint, first_line
from tracekit.readers.spill import SpillStore, Store, fits

ROW_BYTES = sum(4 if pa.types.is_dictionary(f.type) else f.type.bit_width // 8 for f in EVENT_SCHEMA) + 12
"""Bytes of one table row (the name as its int32 code, plus the optional input-text codes)."""
CAPACITY_HEADROOM = 2.0
"""The in-memory store is allocated for this many times the rows the first piece foretells: pages never
written cost nothing, and chunks differ in rows per byte by a third and more (growing a column copies
it)."""


@dataclass
class Streamed:
    """The result of a streamed read: the table, the header's metadata, the reader's warnings."""

    table: pa.Table
    metadata: dict[str, object]
    warnings: list[str] = field(default_factory=list)


def read_streamed(path: Path) -> Streamed | bytes:
    """Read a trace chunk by chunk; its content as bytes instead when it fits in one chunk."""
    result = read_chunked(path, decode_chunk, lambda: _Collector(path))
    if isinstance(result, bytes):
        return result
    around, collector = result
    metadata = _document_header(around.head, around.tail, around.form)
    for problems in collector.problems:
        checked.replay(problems)
    if around.unterminated:
        checked.warn(f"{path.name}: {UNTERMINATED}")
    table, warnings = collector.table()
    return Streamed(table, metadata, warnings)


class _Collector:
    """The pieces of one pass, in file order: their conversion problems kept to be noted at the end,
    their rows added to one assembly."""

    def __init__(self, path: Path) -> None:
        self.size_hint = content_size_hint(path)
        self.budget = memory_budget(path)
        self.problems: list[checked.Problems] = []
        self.assembly: Assembly | None = None

    def add(self, piece: Piece) -> None:
        self.problems.append(piece.problems)
        self._assembly(piece).add(piece)

    def table(self) -> tuple[pa.Table, list[str]]:
        """The assembled table (kept by its store: in memory, or mapped from spill files) and the
        assembly's warnings."""
        table, warnings = self._assembly().table()
        return self._assembly().store.keep(table), warnings

    def _assembly(self, first: Piece | None = None) -> Assembly:
        """The assembly, whose store is chosen from the first piece: spilled when the table it
        foretells would not fit the memory budget."""
        if self.assembly is None:
            rows = first.rows * self.size_hint / max(first.text_bytes, 1) if first else 0
            store = Store if fits(rows * ROW_BYTES, self.budget) else SpillStore
            if store is SpillStore:
                resident.spilled_under(self.budget)
            self.assembly = Assembly(store(default_of, int(rows * CAPACITY_HEADROOM) + 1024))
        return self.assembly


def decode_chunk(text: bytes | memoryview) -> Piece | Failure:
    """Decode a chunk of events (elements of the array, between brackets) into a piece, with the
    problems its conversion noted; a `Failure` when it is not valid or not the expected types."""
    with checked.collecting() as problems, gc_paused():
        try:
            piece = _text_times_piece(text) if past_float_precision(text) else None
            redecode = partial(_redecoded, text)
            piece = piece or to_piece(redecode(kinds.FAST), redecode, pair_here=False)
        except msgspec.ValidationError as exc:
            return Failure(f"unexpected trace JSON content ({first_line(exc)})")
        except msgspec.DecodeError as exc:
            return Failure(f"not valid trace JSON ({first_line(exc)})")
        except RecursionError:
            return Failure("trace JSON nested too deeply")
    piece.text_bytes = len(text) - 2
    piece.problems = problems
    return piece


_FIRST_TIME = re.compile(rb'"ts"\s*:\s*"?(\d+)\.\d')
FIRST_TIME_BYTES = 4096
"""How far into a chunk its first time is looked for."""


def past_float_precision(text: bytes | memoryview) -> bool:
    """Whether the chunk's first time has a fraction and is past float precision (timeunits): its
    others then almost surely are too, and are decoded from their text at once rather than as floats
    first (either way the same exact ns)."""
    found = _FIRST_TIME.search(bytes(text[:FIRST_TIME_BYTES]))
    return found is not None and int(found.group(1)) >= timeunits.EXACT_FRACTION_LIMIT_US


def _text_times_piece(text: bytes | memoryview) -> Piece | None:
    """The piece of events decoded with their times' text; None where that fails (the float-first
    way then decodes the chunk again, so that a bad input is reported as it always is)."""
    try:
        decoded = _redecoded(text, kinds.TEXT_TIMES)
        return to_piece(decoded, partial(_redecoded, text), pair_here=False, text_times=True)
    except (msgspec.ValidationError, msgspec.DecodeError, RecursionError):
        return None


def _redecoded(text: bytes, types: tuple[type, type]) -> list:
    return msgspec.json.decode(text, type=list[types[0]])


def _document_header(head: bytes, tail: bytes, form: str) -> dict[str, object]:
    """The metadata of the document around the array (the array replaced by null)."""
    if form == "array":
        if tail.strip():
            raise Unstreamable("text after the array of events")
        return {}
    try:
        document = msgspec.json.decode(head[:-1] + b"null" + tail, type=kinds._Header)
    except (msgspec.DecodeError, RecursionError) as exc:
        raise Unstreamable(str(exc)) from None
    if bytes(document.traceEvents) not in (b"", b"null"):
        raise Unstreamable("a second traceEvents key")
    return kinds.header(document)
