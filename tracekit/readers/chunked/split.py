"""Event boundaries in the bytes of a trace, found without decoding it.

`structure` is the exact scan: the brackets outside strings (quotes escaped by an odd run of
backslashes do not end a string) and the nesting depth after each, vectorised with numpy. It finds
the `traceEvents` array, the end of the array and, where needed, the element boundaries of a
chunk. Most chunks are cut by `quick_cut` instead, which looks back from the cut point for
`}, {"` and is checked by the decode itself: a cut inside a string or a nested value leaves a
chunk that is not valid JSON once put in brackets, so a chunk that decodes was cut between
events (a reader that sees one fail reads the file again cutting every chunk by `structure`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

_QUOTE, _BACKSLASH = 0x22, 0x5C
_DELTA = np.zeros(256, dtype=np.int8)
_DELTA[[ord("{"), ord("[")]] = 1
_DELTA[[ord("}"), ord("]")]] = -1
_QUICK_CUT = re.compile(rb'\}\s*,\s*(?=\{\s*")')
_TRACE_EVENTS_KEY = re.compile(rb'"traceEvents"\s*:\s*')
_WHITESPACE = b" \t\r\n"
QUICK_WINDOW = 1 << 16
"""How far back from the cut point `quick_cut` looks for an event boundary."""


@dataclass(frozen=True)
class Structure:
    """The brackets of a text outside strings, the depth after each, and whether it ends in a string."""

    positions: np.ndarray
    depths: np.ndarray
    in_string: bool

    def depth_at(self, offset: int) -> int:
        """The depth just before `offset`."""
        index = int(np.searchsorted(self.positions, offset)) - 1
        return int(self.depths[index]) if index >= 0 else 0


def structure(data: bytes | bytearray | memoryview) -> Structure:
    """Scan `data` (which starts outside any string, at depth 0)."""
    codes = np.frombuffer(data, dtype=np.uint8)
    quotes = _unescaped_quotes(codes)
    delta = _DELTA[codes]
    positions = np.flatnonzero(delta)
    positions = positions[(np.searchsorted(quotes, positions) & 1) == 0]
    return Structure(positions, np.cumsum(delta[positions], dtype=np.int64), len(quotes) % 2 == 1)


def _unescaped_quotes(codes: np.ndarray) -> np.ndarray:
    quotes = np.flatnonzero(codes == _QUOTE)
    after_backslash = quotes[(quotes > 0) & (codes[np.maximum(quotes - 1, 0)] == _BACKSLASH)]
    escaped = [q for q in after_backslash.tolist() if _backslashes_before(codes, q) % 2]
    return np.setdiff1d(quotes, escaped, assume_unique=True) if escaped else quotes


def _backslashes_before(codes: np.ndarray, index: int) -> int:
    run = 0
    while index - run - 1 >= 0 and codes[index - run - 1] == _BACKSLASH:
        run += 1
    return run


def find_events(head: bytes) -> tuple[str, int] | None:
    """("array", offset) for an array of events, ("object", offset) for an object whose top-level
    `traceEvents` is an array: the offset just after the array's `[`. None when `head` shows neither
    (another shape, or the key is not in it)."""
    start = len(head) - len(head.lstrip(_WHITESPACE))
    if head[start : start + 1] == b"[":
        return "array", start + 1
    if head[start : start + 1] != b"{":
        return None
    scanned = structure(head)
    quotes = _unescaped_quotes(np.frombuffer(head, dtype=np.uint8))
    for match in _TRACE_EVENTS_KEY.finditer(head):
        outside = int(np.searchsorted(quotes, match.start())) % 2 == 0
        if outside and scanned.depth_at(match.start()) == 1:
            return ("object", match.end() + 1) if head[match.end() : match.end() + 1] == b"[" else None
    return None


def quick_cut(data: bytes | bytearray, limit: int) -> tuple[int, int] | None:
    """(end of a chunk, start of the next) at the last `}, {"` before `limit`; None when none is near."""
    window_start = max(0, limit - QUICK_WINDOW)
    last = None
    for last in _QUICK_CUT.finditer(data, window_start, limit):  # noqa: B007  (the last one counts)
        pass
    return (last.start() + 1, last.end()) if last else None


@dataclass(frozen=True)
class Ends:
    """What the exact scan of a chunk of events found: the offset after each complete element, where
    the array closes (its `]`), or neither (the text ends inside an element)."""

    element_ends: np.ndarray
    close: int | None


def element_ends(data: bytes | bytearray | memoryview) -> Ends:
    """Scan events text that starts at an element boundary (just after `[` or a separator)."""
    scanned = structure(data)
    closed = np.flatnonzero(scanned.depths < 0)
    close = int(scanned.positions[closed[0]]) if len(closed) else None
    limit = closed[0] if len(closed) else len(scanned.depths)
    depths, positions = scanned.depths[:limit], scanned.positions[:limit]
    ends = positions[depths == 0] + 1  # a closing bracket back at the array's level ends an element
    return Ends(ends, close)


def exact_cut(data: bytes | bytearray, limit: int) -> tuple[int, int] | None:
    """(end of a chunk, start of the next) at the last element end before `limit` (the first after it
    when one element is longer); None when the array closes or no element ends in `data`."""
    found = element_ends(memoryview(data))
    if found.close is not None or not len(found.element_ends):
        return None
    ends = found.element_ends[found.element_ends < len(data) - QUICK_WINDOW]  # its separator is in data
    if not len(ends):
        return None
    before = ends[ends <= limit]
    end = int(before[-1]) if len(before) else int(ends[0])
    start = next_element(data, end)
    return None if start >= len(data) else (end, start)


def next_element(data: bytes | bytearray, end: int) -> int:
    """The offset of the element after the one ending at `end`, past the comma and whitespace; -1 when
    what follows is not a comma (the text is not valid JSON), len(data) when data ends first."""
    position = _skip_whitespace(data, end)
    if position >= len(data):
        return position
    if data[position : position + 1] != b",":
        return -1
    return _skip_whitespace(data, position + 1)


def _skip_whitespace(data: bytes | bytearray, position: int) -> int:
    while position < len(data) and data[position] in _WHITESPACE:
        position += 1
    return position
