"""A trace as readers hand it over: the event table plus where it came from."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa


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
