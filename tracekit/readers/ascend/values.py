"""Cell values as msprof and torch_npu write them: decimal µs strings, N/A, sentinel integers.

Every conversion delegates to `tracekit.readers.checked` (bounded number parsing, int64 ranges,
counted warnings); this module only adds what is Ascend-specific: the TABs and quotes around cells
and the `N/A` / 2^32-1 / 2^64-1 "no value" sentinels, which are absent, not unusable.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tracekit.model.arrays import arrow, booleans, numeric, strings
from tracekit.model.schema import NONE
from tracekit.readers import checked
from tracekit.readers.ascend.headers import clean
from tracekit.readers.decimal_cells import cell_buffers, layout_ns

NULL_TEXTS = frozenset({"", "N/A", "NA", "n/a", "None", "null", "4294967295", "18446744073709551615"})
_NULL_INTEGERS = frozenset({2**32 - 1, 2**64 - 1})


def is_null(value: object) -> bool:
    """True for an absent value: None, an empty or N/A cell, or a "no value" sentinel."""
    if value is None:
        return True
    if isinstance(value, int) and not isinstance(value, bool):
        return value in _NULL_INTEGERS
    return isinstance(value, str) and clean(value) in NULL_TEXTS


def to_int(value: object, field: str, low: int = checked.INT64_MIN, high: int = checked.INT64_MAX) -> int:
    """An integer cell in [low, high]; NONE when absent, or when unusable (counted by `checked`)."""
    if is_null(value):
        return NONE
    return checked.integer(clean(value) if isinstance(value, str) else value, field, low, high)


def event_us_to_ns(value: object, field: str) -> int:
    """An event time in µs as exact integer ns; checked.INVALID_NS when absent or unusable (counted:
    the event is dropped)."""
    return checked.us_to_ns(_exact(value), field)


def us_to_ns(value: object, field: str) -> int | None:
    """An optional µs value as exact integer ns; None when absent, or when unusable (counted)."""
    if is_null(value):
        return None
    us = checked.number(_exact(value))
    if us is None or abs(us) > checked.MAX_US:
        checked.note(field, "not a finite number of µs in range, read as unknown")
        return None
    return checked.us_to_ns(us, field)


def _exact(value: object) -> object:
    """A finite float as its shortest decimal text (what the file wrote), so ns round as written."""
    return repr(value) if isinstance(value, float) and math.isfinite(value) else value


# --- columns ---------------------------------------------------------------------------------------
# The same conversions for a whole column at once. Cells arrive as one Arrow binary array (the raw
# JSON values of a timeline, or the cells of a CSV column); the common layouts are decoded with
# array arithmetic, the rare others cell by cell through the scalar functions above, so the values
# and the counted warnings are the same either way.

DROPPED = "missing, not a finite number or out of range; event dropped"


def blank_cells(n: int) -> pa.StringArray:
    """n empty text cells (a missing column), without a Python string per cell."""
    offsets = pa.py_buffer(np.zeros(n + 1, dtype=np.int32))
    return pa.Array.from_buffers(pa.string(), n, [None, offsets, pa.py_buffer(b"")])


def us_column_to_ns(
    cells: pa.Array, field: str, scalar: Callable[[bytes], int], out_of_range: str = DROPPED
) -> np.ndarray:
    """Decimal µs cells (`12.5`, `"1795219200000115.132"`) as exact int64 ns, rounded half to even
    like the scalar conversion; a number beyond checked.MAX_US µs is INVALID_NS, counted under
    `out_of_range`. `scalar(cell)` converts a cell of any other layout (an exponent, null, text)."""
    cells = cells.cast(pa.large_binary())
    result, done, beyond = layout_ns(cells)
    checked.note(field, out_of_range, int(beyond.sum()))
    data, offsets = cell_buffers(cells)
    for row in np.flatnonzero(~done):
        result[row] = scalar(bytes(data[offsets[row] : offsets[row + 1]]))
    return result


def to_ints(
    values: list, field: str, low: int = checked.INT64_MIN, high: int = checked.INT64_MAX
) -> np.ndarray:
    """A column of integer cells (see `to_int`) as int64; each distinct value is converted once and
    its warnings counted once per cell that holds it."""
    types = set(map(type, values))
    if types <= {int, type(None)}:
        column, absent = _plain_ints(values, type(None) in types)
        if column is not None:
            return np.where(absent, NONE, _in_range(column, field, low, high, absent))
    return np.asarray(per_distinct(values, lambda v: to_int(v, field, low, high)), dtype=np.int64)


def _plain_ints(values: list, has_none: bool) -> tuple[np.ndarray | None, np.ndarray]:
    """Python ints and None (read as 0) as int64, and where None was; no column when an int is beyond
    int64 (2^64-1 and other sentinels: the general path)."""
    cells: list | np.ndarray = values
    absent = np.zeros(len(values), dtype=bool)
    if has_none:
        cells = np.array(values, dtype=object)
        absent = np.equal(cells, None)
        cells[absent] = 0
    try:
        return np.fromiter(cells, dtype=np.int64, count=len(values)), absent
    except OverflowError:
        return None, absent


def cached_map(values: list, convert: Callable[[object], object]) -> list:
    """convert(v) for each value, computed once per distinct value; for conversions that record no
    warnings (classifications, look-ups)."""
    results = {value: convert(value) for value in dict.fromkeys(values)}
    return list(map(results.__getitem__, values))


def distinct_codes(values: list) -> tuple[list, np.ndarray]:
    """The distinct values (as a dict tells them apart), in order of first occurrence, and per value
    the index of its own among them."""
    index = {value: code for code, value in enumerate(dict.fromkeys(values))}
    return list(index), np.fromiter(map(index.__getitem__, values), dtype=np.int64, count=len(values))


def _in_range(
    column: np.ndarray, field: str, low: int, high: int, absent: np.ndarray | None = None
) -> np.ndarray:
    """`to_int` on an int64 column: the 2^32-1 sentinel (and `absent` rows) are absent, values
    outside [low, high] unknown (counted)."""
    absent = (column == 2**32 - 1) | (False if absent is None else absent)
    outside = ~absent & ((column < low) | (column > high))
    checked.note(field, f"outside [{low}, {high}], read as unknown", int(outside.sum()))
    return np.where(absent | outside, NONE, column)


def per_distinct(values: list, convert: Callable[[object], object]) -> list:
    """convert(v) for each value, computed once per distinct value (by type and value); the warnings a
    conversion records are counted once per value converted."""
    keys = values if len(set(map(type, values))) <= 1 else list(zip(map(type, values), values, strict=True))
    seen = Counter(keys)
    distinct = [key if keys is values else key[1] for key in seen]
    results = dict(zip(seen, converted_once(distinct, list(seen.values()), convert), strict=True))
    return list(map(results.__getitem__, keys))


def converted_once(distinct: list, counts: list[int], convert: Callable[[object], object]) -> list:
    """convert(value) for each distinct value, in order, the warnings it records counted once per
    cell holding the value (`counts`)."""
    results = []
    for value, count in zip(distinct, counts, strict=True):
        with checked.collecting() as problems:
            results.append(convert(value))
        for (name, reason), noted in problems.counts.items():
            checked.note(name, reason, noted * count)
    return results


def optional_us_column_to_ns(cells: pa.Array, field: str) -> np.ndarray:
    """Optional µs cells (`us_to_ns`) as int64 ns, NONE where absent or unusable (counted)."""
    convert = lambda cell: _or_none(us_to_ns(cell.decode(), field))  # noqa: E731
    ns = us_column_to_ns(cells, field, convert, "not a finite number of µs in range, read as unknown")
    return np.where((ns == checked.INVALID_NS) | _null_cells(cells), NONE, ns)


def text_ints(
    cells: pa.Array, field: str, low: int = checked.INT64_MIN, high: int = checked.INT64_MAX
) -> np.ndarray:
    """Integer text cells (`to_int`) as int64: plain digits by one cast, the others once per
    distinct text."""
    plain = booleans(pc.ascii_is_decimal(cells)) & (numeric(pc.utf8_length(cells), null=19) <= 18)
    result = np.full(len(cells), NONE, dtype=np.int64)
    if plain.any():
        digits = numeric(cells.filter(arrow(plain)).cast(pa.int64()))
        result[plain] = _in_range(digits, field, low, high)
    if not plain.all():
        others = cells.filter(arrow(~plain))
        result[~plain] = distinct_cells(others, lambda text: to_int(text, field, low, high)).astype(np.int64)
    return result


def distinct_cells(cells: pa.Array, convert: Callable[[str], object]) -> np.ndarray:
    """convert(text) for each cell, computed once per distinct text (the warnings it records counted
    once per cell holding that text); an object array, or int64 when every result is an int."""
    results, codes = converted_cells(cells, convert)
    kind = np.int64 if results and all(type(r) is int for r in results) else object
    return np.array(results, dtype=kind)[codes] if len(codes) else np.empty(0, dtype=kind)


def converted_cells(cells: pa.Array, convert: Callable[[str], object]) -> tuple[list, np.ndarray]:
    """convert(text) for each distinct text of the cells (converted_once: its warnings counted once
    per cell holding it), and per cell the index of its text's result."""
    encoded = cells.dictionary_encode()
    texts, codes = encoded.dictionary.to_pylist(), numeric(encoded.indices)
    return converted_once(texts, np.bincount(codes, minlength=len(texts)).tolist(), convert), codes


def _null_cells(cells: pa.Array) -> np.ndarray:
    return booleans(pc.is_in(cells, strings(sorted(NULL_TEXTS))))


def _or_none(ns: int | None) -> int:
    return NONE if ns is None else ns
