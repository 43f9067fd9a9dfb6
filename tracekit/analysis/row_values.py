"""Values of some of a table's rows as two sorted arrays (16 bytes a row, where a dict of Python ints
costs about 100: half a gigabyte at 10 GB), read by the few rows of one step at a time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from tracekit import resident


@dataclass(frozen=True)
class RowValues:
    """Table rows (sorted, distinct) and one value each (float, or integer)."""

    rows: np.ndarray
    values: np.ndarray

    @staticmethod
    def of(rows: np.ndarray, values: np.ndarray) -> RowValues:
        """The rows (distinct, in any order) with their values (of their own dtype)."""
        order = np.argsort(rows, kind="stable")
        ordered = rows[order].astype(np.int64), np.asarray(values)[order]
        return RowValues(*(resident.paged(array) for array in ordered))

    @staticmethod
    def of_mapping(values: Mapping[int, float]) -> RowValues:
        """The rows of a mapping with their values."""
        rows = np.fromiter(values, dtype=np.int64, count=len(values))
        return RowValues.of(rows, np.fromiter(values.values(), dtype=np.float64, count=len(values)))

    def __len__(self) -> int:
        return len(self.rows)

    def at(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each of `rows`' value (0 where it has none), and whether it has one."""
        at, found = _positions(self.rows, rows)
        values = self.values[at] if len(self.values) else np.zeros(len(rows), self.values.dtype)
        return np.where(found, values, 0), found

    def among(self, rows: np.ndarray) -> dict[int, float]:
        """row -> value for those of `rows` that have one."""
        at, found = _positions(self.rows, rows)
        return dict(zip(rows[found].tolist(), self.values[at[found]].tolist(), strict=True))


def rows_among(sorted_rows: np.ndarray, rows: np.ndarray) -> frozenset[int]:
    """Those of `rows` that are in `sorted_rows` (sorted, distinct)."""
    return frozenset(rows[_positions(sorted_rows, rows)[1]].tolist())


def _positions(sorted_rows: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each of `rows`' place in `sorted_rows`, and whether it is there."""
    if len(sorted_rows) == 0:
        return np.zeros(len(rows), dtype=np.int64), np.zeros(len(rows), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_rows, rows), len(sorted_rows) - 1)
    return at, sorted_rows[at] == rows
