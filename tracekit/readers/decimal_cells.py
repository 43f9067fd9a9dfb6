"""Whole columns of decimal µs text (`12.5`, `"1795219200000115.132"`, `-0.0025`) as exact int64 ns.

Cells arrive as one Arrow binary array (the raw JSON values of a timeline, the cells of a CSV
column); those of the common layouts (length, quoted, signed, dot position) are decoded with array
arithmetic over byte columns, rounded half to even below the ns as a Decimal would
(tracekit/readers/checked.py `us_to_ns`), so a reader converting the rest one by one gets the same
values either way. Used by the Ascend readers and by the Kineto reader for times past float
precision.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa

from tracekit.readers import checked

_POW10 = 10 ** np.arange(19, dtype=np.int64)
_FAST_CHARS = 32
"""Longest cell decoded as an array: a quote, a sign, 16 integer digits, a dot, 9 decimals, a quote."""
_INT_DIGITS, _FRACTION_DIGITS = 16, 9
_CHUNK_ROWS = 1 << 18
"""Cells decoded per pass (bounds the temporary index and digit columns)."""


def layout_ns(cells: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The cells of the common layouts (length, quoted, signed, dot position) decoded by byte columns,
    without a warning: (ns, whether decoded, whether beyond checked.MAX_US µs). A cell left undecoded
    and a number beyond range are INVALID_NS."""
    data, offsets = cell_buffers(cells.cast(pa.large_binary()))
    starts, lengths = offsets[:-1], np.diff(offsets)
    result = np.full(len(starts), checked.INVALID_NS, dtype=np.int64)
    done, beyond = np.zeros(len(starts), dtype=bool), np.zeros(len(starts), dtype=bool)
    layout = _layouts(data, starts, lengths)
    order = np.argsort(layout, kind="stable")
    keys, first = np.unique(layout[order], return_index=True)
    for key, rows in zip(keys.tolist(), np.split(order, first[1:]) if len(order) else [], strict=True):
        for chunk in range(0, len(rows) if key >= 0 else 0, _CHUNK_ROWS):
            part = rows[chunk : chunk + _CHUNK_ROWS]
            _decode_layout(key, data, starts[part], part, result, done, beyond)
    return result, done, beyond


def cell_buffers(cells: pa.LargeBinaryArray) -> tuple[np.ndarray, np.ndarray]:
    """The bytes of large-binary cells and their offsets (one more than cells)."""
    data = np.frombuffer(cells.buffers()[2] or b"", dtype=np.uint8)
    offsets = np.frombuffer(cells.buffers()[1], dtype=np.int64)[cells.offset : cells.offset + len(cells) + 1]
    return data, offsets


def _layouts(data: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Per cell: length | quoted | signed | dot position packed in one int, -1 for a cell no column pass
    decodes (too long, empty, or holding several dots)."""
    n = len(starts)
    short = (lengths > 0) & (lengths <= _FAST_CHARS)
    first = np.where(short, data[np.minimum(starts, max(len(data) - 1, 0))] if len(data) else 0, 0)
    quoted = first == ord('"')
    sign_at = np.minimum(starts + quoted, max(len(data) - 1, 0))
    signed = (data[sign_at] == ord("-")) if len(data) else np.zeros(n, dtype=bool)
    dots = np.flatnonzero(data == ord("."))
    owner = np.searchsorted(starts, dots, side="right") - 1
    count = np.bincount(owner, minlength=n)[:n] if n else np.zeros(0, dtype=np.int64)
    dot = np.full(n, _FAST_CHARS, dtype=np.int64)
    dot[owner[::-1]] = (dots - starts[owner])[::-1]  # the first dot of each cell
    key = ((lengths * 2 + quoted) * 2 + signed) * 64 + dot
    return np.where(short & (count <= 1), key, -1)


def _decode_layout(
    key: int,
    data: np.ndarray,
    starts: np.ndarray,
    rows: np.ndarray,
    result: np.ndarray,
    done: np.ndarray,
    beyond: np.ndarray,
) -> None:
    """Decode the cells of one layout (marking those beyond range)."""
    dot, key = key % 64, key // 64
    signed, key = key % 2, key // 2
    quoted, length = key % 2, key // 2
    body = range(quoted + signed, length - quoted)
    int_end = min(dot, length - quoted)
    int_cols, frac_cols = list(range(body.start, int_end)), list(range(int_end + 1, body.stop))
    if not 1 <= len(int_cols) <= _INT_DIGITS or len(frac_cols) > _FRACTION_DIGITS:
        return
    if dot < length and not frac_cols:
        return
    column = _cell_columns(data, starts, length)
    digits = [column(c) - np.uint8(ord("0")) for c in int_cols + frac_cols]
    valid = np.logical_and.reduce([d < 10 for d in digits])
    if quoted:
        valid &= column(length - 1) == ord('"')
    digits = [d[valid] for d in digits]
    whole = _horner(digits[: len(int_cols)], int(valid.sum()))
    fraction = _horner(digits[len(int_cols) :], len(whole))
    ns, too_large = _scaled(whole, fraction, len(frac_cols))
    ns = -ns if signed else ns
    target = rows[valid]
    result[target] = np.where(too_large, checked.INVALID_NS, ns)
    done[target] = True
    beyond[target] = too_large


def _cell_columns(data: np.ndarray, starts: np.ndarray, length: int) -> Callable[[int], np.ndarray]:
    """column(c): the byte at position c of each cell of one length (a strided view of `data` when
    the cells lie back to back, else one gather)."""
    first, n = int(starts[0]), len(starts)
    if int(starts[-1]) - first == length * (n - 1):  # ascending cells of `length` bytes: contiguous
        return lambda c: data[first + c : first + c + length * n : length]
    return lambda c: data[starts + c]


def _horner(digits: list[np.ndarray], n: int) -> np.ndarray:
    """The numbers whose decimal digits (most significant first) are the given columns, as int64."""
    number = np.zeros(n, dtype=np.int64)
    for digit in digits:
        number = number * 10 + digit
    return number


def _scaled(whole: np.ndarray, fraction: np.ndarray, decimals: int) -> tuple[np.ndarray, np.ndarray]:
    """|value| in ns from its integer µs and `decimals` decimal digits, rounded half to even; and
    whether |value| exceeds checked.MAX_US µs."""
    beyond = (whole > checked.MAX_US) | ((whole == checked.MAX_US) & (fraction > 0))
    whole = np.where(beyond, 0, whole)
    if decimals <= 3:
        return whole * 1000 + fraction * _POW10[3 - decimals], beyond
    unit = _POW10[decimals - 3]
    kept, rest = np.divmod(fraction, unit)
    up = (rest * 2 > unit) | ((rest * 2 == unit) & (kept % 2 == 1))
    return whole * 1000 + kept + up, beyond
