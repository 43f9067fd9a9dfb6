"""Checked conversions of fetched DB columns (`sqlite.Cells`): the scalar rules of `values` and
`checked`, applied to whole columns.

Each conversion takes the common cells (integers in range, string ids) with array operations and
hands every other cell (NULL, out of range, text, a real) to the scalar function once per distinct
value (`values.per_distinct`), so values and counted warnings are those of the scalar rules. The
warnings of one table come column by column (a row-by-row reading met them row by row).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from tracekit.model.schema import NONE
from tracekit.readers import checked
from tracekit.readers.ascend.sqlite import INTEGER, NULL, Cells
from tracekit.readers.ascend.values import per_distinct, to_int

_ABSENT_INTEGER = 2**32 - 1
"""msprof's 32-bit "no value" (values.is_null); 2^64-1 is no SQLite integer."""


class Texts(NamedTuple):
    """A string column as distinct texts and, per row, the index of its text."""

    distinct: np.ndarray
    codes: np.ndarray

    def decoded(self) -> np.ndarray:
        """The texts, one per row (an object array)."""
        return self.distinct[self.codes]


def times(cells: Cells, field: str) -> np.ndarray:
    """`checked.ns` of each cell: integer ns, INVALID_NS where unusable (noted)."""
    limit = checked.MAX_TIME_NS
    fast = (cells.kind == INTEGER) & (cells.ints >= -limit) & (cells.ints <= limit)
    return _converted(cells, fast, cells.ints, lambda value: checked.ns(value, field))


def span(start: Cells, end: Cells, table: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start ns, duration ns, usable) per row from its startNs / endNs cells (unusable noted)."""
    begin, finish = times(start, f"{table}.startNs"), times(end, f"{table}.endNs")
    usable = (begin != checked.INVALID_NS) & (finish != checked.INVALID_NS)
    return begin, finish - np.where(usable, begin, 0), usable


def ints(cells: Cells, field: str, low: int = checked.INT64_MIN, high: int = checked.INT64_MAX) -> np.ndarray:
    """`values.to_int` of each cell: NONE where absent, or unusable (noted)."""
    value = cells.ints
    fast = (cells.kind == INTEGER) & (value != _ABSENT_INTEGER) & (value >= low) & (value <= high)
    return _converted(cells, fast, value, lambda stored: to_int(stored, field, low, high))


def split_tid(cells: Cells, field: str) -> tuple[np.ndarray, np.ndarray]:
    """(process, thread) from msprof's globalTid = pid << 32 | tid; NONE for an unusable id."""
    value = ints(cells, field)
    known = value >= 0
    return np.where(known, value >> 32, NONE), np.where(known, value & 0xFFFFFFFF, NONE)


def texts(cells: Cells, field: str, strings: dict[object, object]) -> Texts:
    """A string column (`text_of` per cell): ids looked up in STRING_IDS once per distinct id, the
    other cells converted once per distinct value; what a text notes counted per row holding it."""
    integer, null = cells.kind == INTEGER, cells.kind == NULL
    ids, id_codes = distinct(cells.ints[integer])
    counts = np.bincount(id_codes, minlength=len(ids))
    by_id = [*_counted(ids.tolist(), counts, lambda key: text_of(key, field, strings)), ""]
    codes = np.full(len(cells.kind), len(by_id) - 1, dtype=np.int64)  # NULL: ""
    codes[integer] = id_codes
    other = ~integer & ~null
    found = cells.other[other].tolist() if other.any() else []
    others = per_distinct(found, lambda value: text_of(value, field, strings))
    codes[other] = len(by_id) + np.arange(len(others))
    return Texts(np.array([*by_id, *others], dtype=object), codes)


def text_of(value: object, field: str, strings: dict[object, object]) -> str:
    """A string cell: an id into STRING_IDS (as msprof writes them), or the text itself."""
    if value is None:
        return ""
    if isinstance(value, (str, bytes)) and not _is_id_text(value):
        return checked.text(value, field)
    key = checked.integer(value, field)
    return checked.text(strings.get(key), field, fallback=f"<string {key}>")


def per_distinct_code(
    codes: np.ndarray, convert: Callable[[int], object], dtype: type = object
) -> np.ndarray:
    """convert(code) per row, computed once per distinct code; what it notes counted per row."""
    values, index = distinct(codes)
    results = _counted(values.tolist(), np.bincount(index, minlength=len(values)), convert)
    return np.array(results, dtype=dtype)[index] if len(index) else np.empty(0, dtype=dtype)


_DENSE = 4
"""Integers spread over at most this many times their count (plus 1024) are counted, not sorted."""


def _span_of(values: np.ndarray) -> tuple[int, bool]:
    """The smallest value, and whether the values are dense enough to be counted."""
    if not len(values):
        return 0, False
    low, high = int(values.min()), int(values.max())
    return low, high - low <= _DENSE * len(values) + 1024


def distinct(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(values, return_inverse=True) of int64 values: by counting when they are dense (ids,
    codes), else by sorting."""
    low, dense = _span_of(values)
    if not dense:
        unique, inverse = np.unique(values, return_inverse=True)
        return unique, inverse.reshape(-1)
    used = np.bincount(values - low) > 0
    return np.flatnonzero(used) + low, (np.cumsum(used) - 1)[values - low]


def last_by_key(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct keys, sorted, and for each the last row holding it (a dict built row by row)."""
    low, dense = _span_of(keys)
    if not dense:
        unique, first_from_end = np.unique(keys[::-1], return_index=True)
        return unique, len(keys) - 1 - first_from_end
    last = np.full(int(keys.max()) - low + 1, -1, dtype=np.int64)
    np.maximum.at(last, keys - low, np.arange(len(keys)))
    held = last >= 0
    return np.flatnonzero(held) + low, last[held]


def look_up(keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Per wanted value: its index in the sorted `keys`, else -1."""
    if not len(keys):
        return np.full(len(wanted), -1, dtype=np.int64)
    at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
    return np.where(keys[at] == wanted, at, -1)


def _converted(
    cells: Cells, fast: np.ndarray, value: np.ndarray, scalar: Callable[[object], int]
) -> np.ndarray:
    """`value` where `fast`; elsewhere scalar(stored value), once per distinct value (NULL: None)."""
    result = np.array(value, dtype=np.int64)
    null = cells.kind == NULL
    slow_integer = ~fast & (cells.kind == INTEGER)
    other = ~fast & ~null & ~slow_integer
    if null.any():
        result[null] = _counted([None], np.array([null.sum()]), scalar)[0]
    if slow_integer.any():
        result[slow_integer] = per_distinct_code(value[slow_integer], scalar, np.int64)
    if other.any():
        result[other] = per_distinct(cells.other[other].tolist(), scalar)
    return result


def _counted(values: list, counts: np.ndarray, convert: Callable[[object], object]) -> list:
    """convert(value) for each distinct value; what it notes counted `counts[i]` times."""
    results = []
    for value, count in zip(values, counts.tolist(), strict=True):
        with checked.collecting() as problems:
            results.append(convert(value))
        for (name, reason), noted in problems.counts.items():
            checked.note(name, reason, noted * count)
    return results


def _is_id_text(value: str | bytes) -> bool:
    text = value.decode("ascii", "replace") if isinstance(value, bytes) else value
    digits = text.strip().removeprefix("-")
    return digits.isascii() and digits.isdecimal()
