"""Columns of one JSON field of many events, as a chunk decoder sends them to the reader.

A timeline chunk (often decoded in a worker process) turns its events into columns once; the
reader then picks rows and converts them with the same functions as a list of values would go
through (values.py), so values and counted warnings do not depend on how the file was cut:
- `Scalars`: numbers, texts or nulls: int64 with a null mask when every value is an int (or null)
  within int64, else the values themselves;
- `Codes`: values looked up or classified once per distinct value (names, task types);
- `Times`: decimal µs cells decoded by layout (decimal_cells.layout_ns), the rare other cells kept raw
  for the scalar conversion.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter

import numpy as np
import pyarrow as pa

from tracekit.model.arrays import arrow, binary, numeric, strings
from tracekit.model.schema import NONE
from tracekit.readers import checked
from tracekit.readers.ascend.values import (
    _in_range,
    converted_cells,
    converted_once,
    distinct_codes,
    to_ints,
)
from tracekit.readers.decimal_cells import layout_ns


@dataclass(frozen=True)
class Scalars:
    """One field's values: `ints` with `absent` (null) when all are ints or null within int64, else
    `objects`, the values themselves."""

    ints: np.ndarray | None = None
    absent: np.ndarray | None = None
    objects: list | None = None

    @staticmethod
    def of(values: list) -> Scalars:
        """The column of these values."""
        types = set(map(type, values))
        if not types <= {int, type(None)}:  # floats, bools, texts: as they are
            return Scalars(objects=values)
        try:
            if type(None) not in types:
                return Scalars(np.fromiter(values, np.int64, len(values)), np.zeros(len(values), dtype=bool))
            cells = np.array(values, dtype=object)
            absent = cells == None  # noqa: E711  (element by element)
            cells[absent] = 0
            return Scalars(cells.astype(np.int64), absent)
        except OverflowError:  # beyond int64 (the 2^64-1 sentinel): as they are
            return Scalars(objects=values)

    def __len__(self) -> int:
        return len(self.ints) if self.objects is None else len(self.objects)

    def values(self) -> list:
        """The values as decoded (ints and None)."""
        if self.objects is not None:
            return self.objects
        values = self.ints.tolist()
        for row in np.flatnonzero(self.absent).tolist():
            values[row] = None
        return values

    def take(self, rows: np.ndarray) -> Scalars:
        """The values of `rows`, in that order."""
        if self.objects is None:
            return Scalars(self.ints[rows], self.absent[rows])
        return Scalars(objects=picked(self.objects, rows))

    def or_else(self, other: Scalars) -> Scalars:
        """Per row this value, or `other`'s where this one is null."""
        if self.objects is None and other.objects is None:
            return Scalars(np.where(self.absent, other.ints, self.ints), self.absent & other.absent)
        values = self.values()
        if None not in values:
            return self
        return Scalars.of([v if v is not None else o for v, o in zip(values, other.values(), strict=True)])

    def to_ints(self, field: str, low: int = checked.INT64_MIN, high: int = checked.INT64_MAX) -> np.ndarray:
        """values.to_ints of the values: int64, NONE where absent or unusable (counted)."""
        if self.objects is not None:
            return to_ints(self.objects, field, low, high)
        return np.where(self.absent, NONE, _in_range(self.ints, field, low, high, self.absent))

    def codes(self) -> Codes:
        """The values as codes of their distinct values (equal as dict keys are)."""
        if self.objects is not None:
            return Codes.of(self.objects)
        distinct, codes = np.unique(np.where(self.absent, 0, self.ints), return_inverse=True)
        values = distinct.tolist()
        if self.absent.any():
            codes[self.absent] = len(values)
            values.append(None)
        return Codes(values, codes.astype(np.int64))

    @staticmethod
    def joined(parts: Sequence[Scalars]) -> Scalars:
        """The parts one after another."""
        if all(part.objects is None for part in parts):
            return Scalars(
                *(np.concatenate([getattr(p, name) for p in parts]) for name in ("ints", "absent"))
            )
        return Scalars.of([value for part in parts for value in part.values()])


@dataclass(frozen=True)
class Codes:
    """One field's values as `codes` into the list of its distinct `values`."""

    values: list
    codes: np.ndarray

    @staticmethod
    def of(values: list) -> Codes:
        """The codes of these values (distinct as dict keys are, in order of first occurrence: for
        texts, the codes of Arrow's dictionary_encode; a dict codes a million texts faster than
        building their Arrow array without pyarrow's conversion, which imports pandas)."""
        return Codes(*distinct_codes(values))

    @staticmethod
    def of_cells(cells: pa.Array, convert: Callable[[str], object]) -> Codes:
        """convert(text) per text cell, once per distinct text, its warnings counted once per cell
        holding it (values.distinct_cells, as codes)."""
        results, codes = converted_cells(cells, convert)
        return Codes.merged(results, codes.astype(np.int64))

    @staticmethod
    def constant(value: object, n: int) -> Codes:
        """`value` in each of n rows."""
        return Codes([value], np.zeros(n, dtype=np.int64))

    @staticmethod
    def merged(values: list, codes: np.ndarray) -> Codes:
        """Codes into `values` where some values may repeat: each distinct value once."""
        index: dict = {}
        remap = np.array([index.setdefault(value, len(index)) for value in values], dtype=np.int64)
        return Codes(list(index), remap[codes] if len(codes) else np.empty(0, dtype=np.int64))

    def __len__(self) -> int:
        return len(self.codes)

    def take(self, rows: np.ndarray) -> Codes:
        """The values of `rows`, in that order (the same distinct values)."""
        return Codes(self.values, self.codes[rows])

    def relabeled(self, convert: Callable[[object], object]) -> Codes:
        """convert(value) per row, as codes (computed once per distinct value)."""
        return Codes.merged([convert(value) for value in self.values], self.codes)

    def among(self, wanted: Sequence) -> np.ndarray:
        """Per row, whether its value is one of `wanted`."""
        hit = np.array([value in wanted for value in self.values], dtype=bool)
        return hit[self.codes] if len(self.values) else np.zeros(len(self.codes), dtype=bool)

    def assigned(self, rows: np.ndarray, other: Codes) -> Codes:
        """These values with other's in `rows` (distinct rows, one per value of other)."""
        values, codes = [*self.values, *other.values], self.codes.copy()
        codes[rows] = other.codes + len(self.values)
        return Codes.merged(values, codes)

    def dictionary_array(self) -> pa.DictionaryArray:
        """The values as Arrow's dictionary_encode of the texts gives them: int32 indices into the
        values used, in order of first occurrence."""
        encoded = arrow(self.codes.astype(np.int64)).dictionary_encode()
        used = [self.values[code] for code in numeric(encoded.dictionary).tolist()]
        if None in used:  # null cells, not a null text
            return strings(self.array().tolist()).dictionary_encode()
        return pa.DictionaryArray.from_arrays(encoded.indices, strings(used))

    def array(self) -> np.ndarray:
        """The values as an object array."""
        distinct = np.empty(len(self.values), dtype=object)
        distinct[:] = self.values
        return distinct[self.codes]

    def mapped(self, convert: Callable[[object], object], dtype: type = np.int64) -> np.ndarray:
        """convert(value) per row, computed once per distinct value used (no warnings recorded)."""
        used = np.unique(self.codes)
        results = np.zeros(len(self.values), dtype=dtype)
        results[used] = [convert(self.values[code]) for code in used.tolist()]
        return results[self.codes]

    def per_distinct(self, convert: Callable[[object], int]) -> np.ndarray:
        """convert(value) per row as int64, once per distinct value in order of first occurrence, its
        warnings counted once per row holding it (values.per_distinct)."""
        used, first, counts = np.unique(self.codes, return_index=True, return_counts=True)
        order = np.argsort(first, kind="stable")
        distinct = [self.values[code] for code in used[order].tolist()]
        results = np.zeros(len(self.values), dtype=np.int64)
        results[used[order]] = converted_once(distinct, counts[order].tolist(), convert)
        return results[self.codes]

    @staticmethod
    def joined(parts: Sequence[Codes]) -> Codes:
        """The parts one after another, their distinct values merged."""
        if len(parts) == 1:
            return parts[0]
        starts = np.cumsum([0, *(len(part.values) for part in parts[:-1])])
        codes = np.concatenate([part.codes + start for part, start in zip(parts, starts, strict=True)])
        return Codes.merged([value for part in parts for value in part.values], codes)


@dataclass(frozen=True)
class Times:
    """Decimal µs cells: `ns` where decoded by layout, `beyond` where a number is out of range; the
    cells no layout decodes (`pending`, sorted rows) kept as `raw` bytes."""

    ns: np.ndarray
    beyond: np.ndarray
    pending: np.ndarray
    raw: list[bytes]

    @staticmethod
    def of(cells: list) -> Times:
        """The times of these raw JSON cells (msgspec.Raw or bytes)."""
        ns, done, beyond = layout_ns(binary(cells))
        pending = np.flatnonzero(~done)
        return Times(ns, beyond, pending, [bytes(cells[row]) for row in pending.tolist()])

    def take(self, rows: np.ndarray) -> Times:
        """The times of `rows` (ascending)."""
        at = np.searchsorted(rows, self.pending)
        kept = (
            (at < len(rows)) & (rows[np.minimum(at, len(rows) - 1)] == self.pending) if len(rows) else at < 0
        )
        raw = [self.raw[i] for i in np.flatnonzero(kept).tolist()]
        return Times(self.ns[rows], self.beyond[rows], at[kept], raw)

    def to_ns(self, field: str, scalar: Callable[[bytes], int], out_of_range: str) -> np.ndarray:
        """int64 ns as values.us_column_to_ns gives them: the out-of-range numbers counted under
        `out_of_range`, then `scalar(raw)` for each pending cell."""
        checked.note(field, out_of_range, int(self.beyond.sum()))
        ns = self.ns.copy()
        for row, raw in zip(self.pending.tolist(), self.raw, strict=True):
            ns[row] = scalar(raw)
        return ns

    @staticmethod
    def joined(parts: Sequence[Times]) -> Times:
        """The parts one after another."""
        starts = np.cumsum([0, *(len(part.ns) for part in parts[:-1])])
        return Times(
            np.concatenate([part.ns for part in parts]),
            np.concatenate([part.beyond for part in parts]),
            np.concatenate([part.pending + start for part, start in zip(parts, starts, strict=True)]),
            [raw for part in parts for raw in part.raw],
        )


def taken(values: np.ndarray | Codes, rows: np.ndarray | slice) -> np.ndarray | Codes:
    """The values of `rows` (indices, a mask or a slice) of an array or of Codes."""
    return values.take(rows) if isinstance(values, Codes) else values[rows]


def picked(items: list, rows: np.ndarray) -> list:
    """items[i] for each of `rows` (ascending and distinct: all of them when there are as many), by
    one C-level look-up."""
    if len(rows) == len(items):
        return items
    if len(rows) < 2:
        return [items[i] for i in rows.tolist()]
    return list(itemgetter(*rows.tolist())(items))
