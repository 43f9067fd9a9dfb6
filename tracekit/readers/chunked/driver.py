"""The streaming driver: a large JSON array of events (bare, or the `traceEvents` of an object) cut
into chunks between events, each decoded by the reader's function, in worker processes when there
are cores and the file is large, and given in file order to the reader's collector.

The content is read as a stream (a .gz is inflated block by block, never whole), so memory holds a
few chunks, not the file. Most chunks are cut by the quick rule (split.quick_cut), which the decode
itself checks; when one such chunk does not decode, the file is read again with every cut exact
(split.exact_cut), into a new collector.

`read_chunked` raises `Unstreamable` where only a whole-file read says exactly what is wrong (the
array is not found in the head, a chunk cut exactly does not decode...); the caller then reads the
file whole, as for small files.
"""

from __future__ import annotations

import multiprocessing
import os
import re
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from tracekit import resident
from tracekit.parallel import available_cores, waiting
from tracekit.readers.chunked import split
from tracekit.readers.chunked.split import element_ends, exact_cut, find_events, quick_cut
from tracekit.readers.chunked.window import BLOCK_BYTES, Content, Window
from tracekit.readers.memory_budget import memory_budget
from tracekit.readers.source import MAX_REPAIR_TRIES, content_size_hint

CHUNK_BYTES = 16 << 20
"""Bytes of events text per chunk; a file whose content is no larger is read whole."""
HEAD_SCAN_BYTES = 1 << 20
PARALLEL_MIN_BYTES = 64 << 20
"""Smaller files are decoded in this process: workers would cost more than they save."""
JOBS_ENV = "TRACEKIT_READ_JOBS"
TAIL_WINDOWS = 3
"""The last chunk is scanned exactly over at most this many quick-cut windows (split.QUICK_WINDOW)."""


class Unstreamable(Exception):
    """The file must be read whole to say exactly what is wrong with it (or to read it at all)."""


class _Misfit(Exception):
    """A chunk cut by the quick rule does not decode: read again, cutting every chunk exactly."""


@dataclass
class Failure:
    """A chunk that does not decode: what the decoder said (located in the chunk: `$[i]`, byte b)."""

    message: str


@dataclass(frozen=True)
class Around:
    """What lies around the array of events."""

    head: bytes
    """The content before the array's first element (up to and including `[`)."""
    tail: bytes
    """The content after the array's closing `]` (b"" when unterminated)."""
    form: str
    """The content's form: "array" (a bare array) or "object" ({"traceEvents": [...]})."""
    unterminated: bool
    """The content ended inside the array; the events up to the last complete one were read."""


class Collector(Protocol):
    """Takes the decoded pieces of one pass."""

    def add(self, piece) -> None:
        """Called in the main process, pieces in file order."""


Decode = Callable[[bytes | memoryview], object]
"""A chunk's events between brackets -> a piece (with an int attribute `decoded`) or a Failure."""


def read_chunked(
    path: Path,
    decode: Callable[[bytes | memoryview], object],
    collector: Callable[[], Collector],
) -> tuple[Around, Collector] | bytes:
    """The content as bytes when it fits one chunk (no decode); otherwise every chunk decoded by
    `decode` (a module-level function: it runs in worker processes when the file is large) and given,
    in file order, to one collector made by `collector()`; a quick-cut chunk that fails to decode makes
    a second pass with exact cuts and a new collector; an exact chunk that fails raises Unstreamable
    with the failure's message located in the whole file (event index and byte)."""
    try:
        return _Reader(path, decode, collector, False).run()
    except _Misfit:
        return _Reader(path, decode, collector, True).run()


class _Reader:
    """One pass over the content: cut, decode (here or in workers), collect in file order."""

    def __init__(self, path: Path, decode: Decode, collector: Callable[[], Collector], exact: bool) -> None:
        self.path, self.decode, self.exact = path, decode, exact
        self.size_hint = content_size_hint(path)
        self.collector = collector()
        self.content = Content(path)
        self.window = Window(self.content, CHUNK_BYTES + 4 * split.QUICK_WINDOW + BLOCK_BYTES)
        self.in_flight: deque[tuple[object, bool, int]] = deque()  # (future or result, exact, offset)
        self.events_before = 0  # events decoded in the chunks taken so far
        self.form = "object"
        self.cuts = 0
        self.pool: ProcessPoolExecutor | None = None

    def run(self) -> tuple[Around, Collector] | bytes:
        try:
            if not self.window.fill(CHUNK_BYTES + 1):
                return self.window.bytes()
            head = self._head()
            jobs = read_jobs(self.size_hint, memory_budget(self.path))
            self.pool = _pool(jobs) if jobs > 1 else None
            self._cut_all(jobs)
            self._cut_before_tail(jobs)
            tail, unterminated = self._last_chunk()
            self._drain(0)
        finally:
            self.content.close()
            if self.pool is not None:
                self.pool.shutdown(cancel_futures=True)
        return Around(head, tail, self.form, unterminated), self.collector

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
        while True:
            if self._skips() and window.skip(CHUNK_BYTES - split.QUICK_WINDOW, 3 * split.QUICK_WINDOW):
                self._quick_cut_after_skip(jobs)
                continue
            if not window.fill(CHUNK_BYTES + 2 * split.QUICK_WINDOW):
                return
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
            self._cut(end, start, self.exact, jobs)

    def _skips(self) -> bool:
        """Whether chunks are cut without reading them here: quick cuts of a plain file that workers
        read themselves (only the bytes around each cut point are read)."""
        return self.pool is not None and not self.exact and not self.content.gzipped

    def _quick_cut_after_skip(self, jobs: int) -> None:
        """Cut at the last `}, {"` in the window's first QUICK_WINDOW bytes (the window starts
        CHUNK_BYTES - QUICK_WINDOW bytes into the chunk); no such cut: the exact pass."""
        skipped = CHUNK_BYTES - split.QUICK_WINDOW
        if not self.window.fill(3 * split.QUICK_WINDOW):
            raise _Misfit
        with self.window.view() as unread:
            cut = quick_cut(unread, split.QUICK_WINDOW)
        if cut is None:
            raise _Misfit
        end, start = cut
        began = self.window.offset - skipped  # where the skip began
        self._cut(skipped + end, start, False, jobs, began)

    def _cut_before_tail(self, jobs: int) -> None:
        """Quick-cut the content left after the last full chunk a few windows before its end, so that
        the exact scan for the array's end reads those windows, not up to a chunk. The text after the
        array is short in Kineto and Chrome traces (its header comes first); where it is longer than
        the windows, the cut chunk holds the array's end and fails to decode, and the exact pass reads
        the file."""
        if self.exact or len(self.window) <= TAIL_WINDOWS * split.QUICK_WINDOW:
            return
        with self.window.view() as unread:
            cut = quick_cut(unread, len(unread) - (TAIL_WINDOWS - 1) * split.QUICK_WINDOW)
        if cut is not None:
            end, start = cut
            self._cut(end, start, False, jobs)

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

    def _cut(self, end: int, start: int, exact: bool, jobs: int, offset: int | None = None) -> None:
        """Submit the chunk ending at `end` (`_submit`), then move the window to the next chunk's `start`."""
        self._submit(end, exact, jobs, offset)
        self.window.consume(start)
        self.cuts += 1

    def _submit(self, end: int, exact: bool, jobs: int, offset: int | None = None) -> None:
        """Decode the unread bytes [0, end): here, or in a worker that reads them from the file (a
        .gz: is sent them); the `end` bytes from content `offset` when given (skipped here)."""
        offset = self.window.offset if offset is None else offset
        if self.pool is None:
            with self.window.chunk_text(end) as text:
                result = self.decode(text)
        elif self.content.gzipped:
            with self.window.chunk_text(end) as text:
                result = self.pool.submit(self.decode, bytes(text))
        else:
            first = self.content.skip + offset - 1
            result = self.pool.submit(decode_file_range, self.decode, str(self.path), first, first + end + 2)
        self.in_flight.append((result, exact, offset))
        self._drain(2 * jobs if self.pool is not None else 0)

    def _drain(self, keep: int) -> None:
        """Take finished chunks in file order until at most `keep` are in flight."""
        while len(self.in_flight) > keep:
            result, exact, offset = self.in_flight.popleft()
            if isinstance(result, Future) and not result.done():
                waiting()
            piece = result.result() if isinstance(result, Future) else result
            if isinstance(piece, Failure):
                if not exact:
                    raise _Misfit
                raise Unstreamable(self._located(piece.message, offset))
            self.events_before += piece.decoded
            self.collector.add(piece)

    def _located(self, message: str, offset: int) -> str:
        """A chunk's error message with its places in the whole file: the event's index, the byte."""
        array = "$" if self.form == "array" else "$.traceEvents"
        message = _EVENT_AT.sub(lambda m: f"`{array}[{self.events_before + int(m.group(1))}]", message)
        return _BYTE_AT.sub(lambda m: f"(byte {offset + int(m.group(1)) - 1})", message)


def read_jobs(size: int, budget: int | None = None) -> int:
    """Worker processes for a file of this size: every core for a large file (TRACEKIT_READ_JOBS
    caps it) but no more than its chunks (a fork costs its parent's time and pages: 16 workers for a
    90 MB file's 6 chunks took 2 s more CPU), none inside a worker of the rank pool, or for a small
    file; under a memory budget, no more than it holds (resident.processes_within)."""
    setting = os.environ.get(JOBS_ENV, "")
    cores = available_cores()
    jobs = int(setting) if setting.isdigit() and int(setting) > 0 else cores
    if size < PARALLEL_MIN_BYTES or multiprocessing.parent_process() is not None:
        return 1
    chunks = -(-size // CHUNK_BYTES)
    return resident.processes_within(min(jobs, cores, chunks), budget)


def _pool(jobs: int) -> ProcessPoolExecutor:
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    return ProcessPoolExecutor(max_workers=jobs, mp_context=context)


_scratch = bytearray()
"""A worker's buffer for the chunks it reads, reused from chunk to chunk."""


def decode_file_range(decode: Decode, path: str, start: int, stop: int) -> object:
    """`decode` the chunk whose bytes, with one byte before and after, are [start, stop) of the file."""
    global _scratch
    if len(_scratch) < stop - start:
        _scratch = bytearray(stop - start)
    with open(path, "rb") as file, memoryview(_scratch)[: stop - start] as text:
        os.preadv(file.fileno(), [text], start)
        text[0], text[-1] = ord("["), ord("]")
        return decode(text)


_EVENT_AT = re.compile(r"`\$\[(\d+)\]")
_BYTE_AT = re.compile(r"\(byte (\d+)\)")
