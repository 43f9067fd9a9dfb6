"""The streaming read of a large trace: `traceEvents` in chunks cut between events, each decoded
(typed msgspec) and converted to columns on its own, in worker processes when there are cores and
the file is large, then merged in file order (assemble.py).

The content is read as a stream (a .gz is inflated block by block, never whole), so memory holds a
few chunks, not the file. The document around the array (the Kineto header before it, the keys
after it) is decoded at the end with the array replaced by `null`.

`read_streamed` raises `Unstreamable` where only a whole-file read says exactly what is wrong (the
array is not found in the head, a chunk does not decode, a second `traceEvents` key...); the
caller then reads the file whole, as for small files.
"""

from __future__ import annotations

import multiprocessing
import os
import re
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import msgspec
import pyarrow as pa

from tracekit.gcpause import gc_paused
from tracekit.model.schema import EVENT_SCHEMA
from tracekit.readers import checked
from tracekit.readers.kineto import events as kinds
from tracekit.readers.kineto import split
from tracekit.readers.kineto.assemble import Assembly, default_of
from tracekit.readers.kineto.columns import Piece, to_piece
from tracekit.readers.kineto.split import element_ends, exact_cut, find_events, quick_cut
from tracekit.readers.kineto.window import BLOCK_BYTES, Content, Window
from tracekit.readers.source import MAX_REPAIR_TRIES, content_size_hint, first_line
from tracekit.readers.spill import SpillStore, Store, fits, memory_budget

CHUNK_BYTES = 16 << 20
"""Bytes of events text per chunk; a file whose content is no larger is read whole."""
HEAD_SCAN_BYTES = 1 << 20
PARALLEL_MIN_BYTES = 64 << 20
"""Smaller files are decoded in this process: workers would cost more than they save."""
JOBS_ENV = "TRACEKIT_READ_JOBS"
ROW_BYTES = sum(4 if pa.types.is_dictionary(f.type) else f.type.bit_width // 8 for f in EVENT_SCHEMA) + 12
"""Bytes of one table row (the name as its int32 code, plus the optional input-text codes)."""
UNTERMINATED = (
    "the JSON array of events is not terminated (the tracer stopped mid-write?); read up to the last "
    "complete event"
)


class Unstreamable(Exception):
    """The file must be read whole to say exactly what is wrong with it (or to read it at all)."""


class _Misfit(Exception):
    """A chunk cut by the quick rule does not decode: read again, cutting every chunk exactly."""


@dataclass
class _Failure:
    """A chunk that does not decode: what msgspec said, as decode_json words it."""

    message: str


@dataclass
class Streamed:
    """The result of a streamed read: the table, the header's metadata, the reader's warnings."""

    table: pa.Table
    metadata: dict[str, object]
    warnings: list[str] = field(default_factory=list)


def read_streamed(path: Path) -> Streamed | bytes:
    """Read a trace chunk by chunk; its content as bytes instead when it fits in one chunk."""
    try:
        return _Reader(path, exact=False).run()
    except _Misfit:
        return _Reader(path, exact=True).run()


class _Reader:
    """One pass over the content: cut, decode (here or in workers), assemble in file order."""

    def __init__(self, path: Path, exact: bool) -> None:
        self.path, self.exact = path, exact
        self.size_hint = content_size_hint(path)
        self.budget = memory_budget(path)
        self.content = Content(path)
        self.window = Window(self.content, CHUNK_BYTES + 4 * split.QUICK_WINDOW + BLOCK_BYTES)
        self.in_flight: deque[tuple[Future | Piece | _Failure, bool, int]] = deque()
        self.events_before = 0  # events decoded in the chunks taken so far
        self.form = "object"
        self.cuts = 0
        self.problems: list[tuple[dict, list[str]]] = []
        self.assembly: Assembly | None = None
        self.pool: ProcessPoolExecutor | None = None

    def run(self) -> Streamed | bytes:
        try:
            if not self.window.fill(CHUNK_BYTES + 1):
                return self.window.bytes()
            head = self._head()
            jobs = read_jobs(self.size_hint)
            self.pool = _pool(jobs) if jobs > 1 else None
            self._cut_all(jobs)
            tail, unterminated = self._last_chunk()
            self._drain(0)
        finally:
            self.content.close()
            if self.pool is not None:
                self.pool.shutdown(cancel_futures=True)
        return self._result(_document_header(head, tail, self.form), unterminated)

    def _result(self, metadata: dict[str, object], unterminated: bool) -> Streamed:
        for counts, messages in self.problems:
            _merge(counts, messages)
        if unterminated:
            checked.warn(f"{self.path.name}: {UNTERMINATED}")
        table, warnings = self._assembly().table()
        return Streamed(self._assembly().store.keep(table), metadata, warnings)

    def _head(self) -> bytes:
        found = find_events(self.window.bytes(0, HEAD_SCAN_BYTES)) or find_events(self.window.bytes())
        if found is None:
            raise Unstreamable("the traceEvents array is not in the head")
        self.form, start = found
        head = self.window.bytes(0, start)
        self.window.consume(start)
        return head

    def _cut_all(self, jobs: int) -> None:
        window = self.window
        while window.fill(CHUNK_BYTES + 2 * split.QUICK_WINDOW):
            with window.view() as unread:
                cut = None if self.exact else quick_cut(unread, CHUNK_BYTES)
                cut = cut or exact_cut(unread, CHUNK_BYTES)
            if cut is None:
                if not window.fill(2 * len(window)):  # an element longer than a chunk: look further
                    return
                continue
            end, start = cut
            if start < 0:
                raise Unstreamable("no comma between two events")
            self._submit(end, self.exact, jobs)
            window.consume(start)
            self.cuts += 1

    def _last_chunk(self) -> tuple[bytes, bool]:
        """Submit the events left at the end of the content; (the text after the array, whether the
        array was left unterminated)."""
        with self.window.view() as unread:
            found = element_ends(unread)
        if found.close is not None:
            if self.cuts and not self.window.bytes(0, found.close).strip():
                raise Unstreamable("a comma after the last event")
            tail = self.window.bytes(found.close + 1)
            self._submit(found.close, True, 1)
            return tail, False
        complete = int(found.element_ends[-1]) if len(found.element_ends) else 0
        left = self.window.bytes(complete)
        if self.form != "array" or not complete or left.count(b"}") >= MAX_REPAIR_TRIES:
            raise Unstreamable("the content ends inside the array of events")
        self._submit(complete, True, 1)
        return b"", True

    def _submit(self, end: int, exact: bool, jobs: int) -> None:
        """Decode the unread bytes [0, end): here, or in a worker that reads them from the file (a
        .gz: is sent them)."""
        offset = self.window.offset
        if self.pool is None:
            with self.window.chunk_text(end) as text:
                result = decode_chunk(text)
        elif self.content.gzipped:
            with self.window.chunk_text(end) as text:
                result = self.pool.submit(decode_chunk, bytes(text))
        else:
            first = self.content.skip + offset - 1
            result = self.pool.submit(decode_file_range, str(self.path), first, first + end + 2)
        self.in_flight.append((result, exact, offset))
        self._drain(2 * jobs if self.pool is not None else 0)

    def _drain(self, keep: int) -> None:
        """Take finished chunks in file order until at most `keep` are in flight."""
        while len(self.in_flight) > keep:
            result, exact, offset = self.in_flight.popleft()
            piece = result.result() if isinstance(result, Future) else result
            if isinstance(piece, _Failure):
                if not exact:
                    raise _Misfit
                raise Unstreamable(self._located(piece.message, offset))
            self.problems.append(piece.problems)
            self.events_before += piece.decoded
            self._assembly(piece).add(piece)

    def _located(self, message: str, offset: int) -> str:
        """A chunk's error message with its places in the whole file: the event's index, the byte."""
        array = "$" if self.form == "array" else "$.traceEvents"
        message = _EVENT_AT.sub(lambda m: f"`{array}[{self.events_before + int(m.group(1))}]", message)
        return _BYTE_AT.sub(lambda m: f"(byte {offset + int(m.group(1)) - 1})", message)

    def _assembly(self, first: Piece | None = None) -> Assembly:
        """The assembly, whose store is chosen from the first chunk: spilled when the table it
        foretells would not fit the memory budget."""
        if self.assembly is None:
            rows = first.rows * self.size_hint / max(first.text_bytes, 1) if first else 0
            store = Store if fits(rows * ROW_BYTES, self.budget) else SpillStore
            self.assembly = Assembly(store(default_of, int(rows * 1.25) + 1024))
        return self.assembly

def read_jobs(size: int) -> int:
    """Worker processes for a file of this size: every core for a large file (TRACEKIT_READ_JOBS
    caps it), none inside a worker of the rank pool, or for a small file."""
    setting = os.environ.get(JOBS_ENV, "")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    jobs = int(setting) if setting.isdigit() and int(setting) > 0 else cores
    if size < PARALLEL_MIN_BYTES or multiprocessing.parent_process() is not None:
        return 1
    return min(jobs, cores)


def _pool(jobs: int) -> ProcessPoolExecutor:
    pa.array([""])  # pyarrow imports pandas when first used: once here, not in every worker
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    return ProcessPoolExecutor(max_workers=jobs, mp_context=context)


def decode_chunk(text: bytes | memoryview) -> Piece | _Failure:
    """Decode a chunk of events (elements of the array, between brackets) into a piece, with the
    problems its conversion noted; a `_Failure` when it is not valid or not the expected types."""
    with checked.collecting() as problems, gc_paused():
        try:
            decoded = msgspec.json.decode(text, type=list[kinds._Event])
            piece = to_piece(decoded, partial(_exact, text), pair_here=False)
        except msgspec.ValidationError as exc:
            return _Failure(f"unexpected trace JSON content ({first_line(exc)})")
        except msgspec.DecodeError as exc:
            return _Failure(f"not valid trace JSON ({first_line(exc)})")
        except RecursionError:
            return _Failure("trace JSON nested too deeply")
        del decoded
    piece.text_bytes = len(text) - 2
    piece.problems = (dict(problems.counts), list(problems.messages))
    return piece


_scratch = bytearray()
"""A worker's buffer for the chunks it reads, reused from chunk to chunk."""


def decode_file_range(path: str, start: int, stop: int) -> Piece | _Failure:
    """Decode the chunk whose bytes, with one byte before and after, are [start, stop) of the file."""
    global _scratch
    if len(_scratch) < stop - start:
        _scratch = bytearray(stop - start)
    with open(path, "rb") as file, memoryview(_scratch)[: stop - start] as text:
        os.preadv(file.fileno(), [text], start)
        text[0], text[-1] = ord("["), ord("]")
        return decode_chunk(text)


def _exact(text: bytes) -> list:
    return msgspec.json.decode(text, type=list[kinds._ExactEvent])


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


def _merge(counts: dict, messages: list[str]) -> None:
    for message in messages:
        checked.warn(message)
    for (name, reason), count in counts.items():
        checked.note(name, reason, count)


_EVENT_AT = re.compile(r"`\$\[(\d+)\]")
_BYTE_AT = re.compile(r"\(byte (\d+)\)")
