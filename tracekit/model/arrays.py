"""numpy arrays from Arrow columns and back, through their buffers.

pyarrow's own conversions (`to_numpy`, `pa.array`) go through its pandas bridge, whose first use
imports pandas: 0.15 to 0.27 s of every run that never needs pandas (a small Kineto trace's whole
analysis is 0.6 s). Fixed-width numeric columns without nulls, the event table's own, are read and
made here from their buffers instead (zero copy for a column of one chunk), and text arrays from
their UTF-8 bytes; anything else falls back to pyarrow's conversion.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

_FIXED_WIDTH = (pa.types.is_integer, pa.types.is_floating)


def numeric(values: pa.Array | pa.ChunkedArray, null: int | None = None) -> np.ndarray:
    """The values as a numpy array (as `to_numpy()` gives them: read-only where not copied); nulls as
    `null` when given."""
    if isinstance(values, pa.ChunkedArray):
        if values.num_chunks == 1:
            return numeric(values.chunk(0), null)
        if values.num_chunks == 0 and _buffered(values.type):
            return np.empty(0, dtype=values.type.to_pandas_dtype())
        if _buffered(values.type) and (values.null_count == 0 or null is not None):
            return np.concatenate([numeric(chunk, null) for chunk in values.chunks])
        return values.to_numpy()
    if not _buffered(values.type) or (values.null_count and null is None):
        return values.to_numpy(zero_copy_only=False)
    dtype = np.dtype(values.type.to_pandas_dtype())
    data = values.buffers()[1]
    if data is None:  # an empty array may have no buffer
        return np.empty(0, dtype=dtype)
    array = np.frombuffer(data, dtype=dtype, count=len(values), offset=values.offset * dtype.itemsize)
    return np.where(_valid(values), array, null) if values.null_count else array


def arrow(values: np.ndarray, type: pa.DataType | None = None) -> pa.Array:
    """A 1-D numpy array of numbers or booleans as an Arrow array (of `type`, which must match the
    values' own dtype when given)."""
    values = np.ascontiguousarray(values)
    if values.dtype == np.bool_:
        bits = np.packbits(values, bitorder="little")
        return pa.Array.from_buffers(pa.bool_(), len(values), [None, pa.py_buffer(bits)])
    own = pa.from_numpy_dtype(values.dtype)
    if values.ndim != 1 or (type is not None and type != own) or not _buffered(own):
        return pa.array(values, type=type)
    return pa.Array.from_buffers(own, len(values), [None, pa.py_buffer(values)])


def strings(values: Sequence[str]) -> pa.Array:
    """Python strings (no None) as an Arrow string array."""
    encoded = [value.encode() for value in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded)), out=offsets[1:])
    kind, width = (pa.string(), np.int32) if offsets[-1] < 2**31 else (pa.large_string(), np.int64)
    buffers = [None, pa.py_buffer(offsets.astype(width)), pa.py_buffer(b"".join(encoded))]
    return pa.Array.from_buffers(kind, len(encoded), buffers)


def _valid(values: pa.Array) -> np.ndarray:
    """Each value's validity, from the array's bitmap."""
    bits = np.frombuffer(values.buffers()[0], dtype=np.uint8)
    valid = np.unpackbits(bits, count=values.offset + len(values), bitorder="little")
    return valid[values.offset :].astype(bool)


def _buffered(kind: pa.DataType) -> bool:
    return any(test(kind) for test in _FIXED_WIDTH)
