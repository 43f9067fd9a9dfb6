"""A trace as readers hand it over: the event table plus where it came from; and its columns read
whole (`whole_column`, `row_texts`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from tracekit.model.arrays import numeric


@dataclass(frozen=True)
class Trace:
    """One trace in canonical form."""

    events: pa.Table
    format: str
    source: str
    metadata: dict[str, object] = field(default_factory=dict)


def whole_column(table: pa.Table, name: str) -> pa.Array:
    """The column as one array: its only chunk as it is (no copy: a spilled table's stays mapped),
    else its chunks joined."""
    column = table.column(name)
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def row_texts(table: pa.Table, name: str) -> np.ndarray:
    """Each row's text of a string or dictionary column as an object array (a dictionary column's
    nulls as ""; "" on every row when the table has no such column)."""
    if name not in table.column_names:
        return np.full(table.num_rows, "", dtype=object)
    array = whole_column(table, name)
    if pa.types.is_dictionary(array.type):
        dictionary = np.array([*array.dictionary.to_pylist(), ""], dtype=object)
        return dictionary[numeric(array.indices, null=len(dictionary) - 1)]
    return np.array(array.to_pylist(), dtype=object)
