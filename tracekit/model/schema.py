"""The canonical event table: the one schema every reader produces and every analysis reads.

Columns, units and enum codes are documented in docs/model.md; keep the two in step.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np
import pyarrow as pa

from tracekit.model.arrays import arrow, strings

NONE = -1  # value of an integer column when the trace does not say


class Kind(IntEnum):
    """What an event is."""

    KERNEL = 0
    MEMCPY = 1
    MEMSET = 2
    COMMUNICATION = 3
    CPU_OP = 4
    RUNTIME = 5
    SYNC = 6
    MARKER = 7
    STEP = 8  # a marker that delimits one step (iteration); its `step` column holds the number
    MEMORY = 9  # a memory sample: an allocation or free on a device; `bytes` holds the total allocated
    # on that device after it


class CopyDirection(IntEnum):
    """Direction of a memory copy; NA for events that are not copies."""

    NA = 0
    H2D = 1
    D2H = 2
    D2D = 3
    P2P = 4
    H2H = 5
    OTHER = 6


class MemoryKind(IntEnum):
    """Kind of memory at one end of a copy. HOST: host memory whose pinning the trace does not give."""

    UNKNOWN = 0
    PAGEABLE = 1
    PINNED = 2
    DEVICE = 3
    MANAGED = 4
    HOST = 5


DEVICE_KINDS = (Kind.KERNEL, Kind.MEMCPY, Kind.MEMSET, Kind.COMMUNICATION)
"""Kinds that occupy a device: the operations whose union is device busy time (MEMORY samples,
which carry a device id, are not operations)."""

EVENT_SCHEMA = pa.schema(
    [
        pa.field("start_ns", pa.int64(), nullable=False),
        pa.field("dur_ns", pa.int64(), nullable=False),
        pa.field("kind", pa.int8(), nullable=False),
        pa.field("name", pa.dictionary(pa.int32(), pa.string()), nullable=False),
        pa.field("device", pa.int32(), nullable=False),
        pa.field("stream", pa.int64(), nullable=False),
        pa.field("process", pa.int64(), nullable=False),
        pa.field("thread", pa.int64(), nullable=False),
        pa.field("correlation", pa.int64(), nullable=False),
        pa.field("external_id", pa.int64(), nullable=False),
        pa.field("step", pa.int64(), nullable=False),
        pa.field("copy_direction", pa.int8(), nullable=False),
        pa.field("src_memory", pa.int8(), nullable=False),
        pa.field("dst_memory", pa.int8(), nullable=False),
        pa.field("bytes", pa.int64(), nullable=False),
    ],
    metadata={"schema": "tracekit.events/1"},
)

_NUMPY_OF_ARROW = {pa.int8(): np.int8, pa.int32(): np.int32, pa.int64(): np.int64}
_NUMPY_TYPES = {
    field.name: _NUMPY_OF_ARROW[field.type]
    for field in EVENT_SCHEMA
    if not pa.types.is_dictionary(field.type)
}


def build_table(columns: dict[str, object], n: int) -> pa.Table:
    """Assemble an event table from column arrays; missing columns are filled with their default.

    Integer columns default to NONE (-1), except the enums, whose default is their 0 member.
    `name` must be given (a sequence of str, or a pyarrow array).
    """
    arrays = []
    for field in EVENT_SCHEMA:
        if field.name == "name":
            arrays.append(name_array(columns["name"]))
            continue
        values = columns.get(field.name)
        if values is None:
            values = np.full(n, column_default(field.name), dtype=_NUMPY_TYPES[field.name])
        arrays.append(arrow(np.asarray(values, dtype=_NUMPY_TYPES[field.name])))
    return pa.Table.from_arrays(arrays, schema=EVENT_SCHEMA)


def numpy_type(column: str) -> np.dtype:
    """The numpy type of an integer column of the event table."""
    return _NUMPY_TYPES[column]


def column_default(column: str) -> int:
    """The value of an integer column when the trace does not say: NONE, or 0 for the enums."""
    return 0 if column in ("kind", "copy_direction", "src_memory", "dst_memory") else NONE


def name_array(names: object) -> pa.Array:
    """Names (a sequence of str or an Arrow string or dictionary array) as the table's dictionary column
    (a sequence is encoded as UTF-8: an object ndarray would go through pandas)."""
    array = names if isinstance(names, pa.Array) else strings(list(names))
    if pa.types.is_dictionary(array.type):
        return array.cast(pa.dictionary(pa.int32(), pa.string()))
    return array.dictionary_encode().cast(pa.dictionary(pa.int32(), pa.string()))
