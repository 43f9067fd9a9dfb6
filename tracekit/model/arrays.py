"""numpy arrays from Arrow columns and back, through their buffers.

pyarrow's own conversions (`to_numpy`, `pa.array`, `pa.scalar`) go through its pandas bridge, whose
first use imports pandas: 0.15 to 0.27 s of every run that never needs pandas (a small Kineto trace's
whole analysis is 0.6 s). Fixed-width numeric and boolean columns, the event table's own and the
compute functions' results, are read and made here from their buffers instead (zero copy for a
column of one chunk), and text or raw JSON arrays from their joined bytes (the readers' workers too);
anything else falls back to pyarrow's conversion. The Kineto, nsys and Ascend paths import no pandas
(tests/unit/test_arrays.py); the Python API's DataFrames do.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

# pyarrow imports its compute module on the first dictionary_encode or cast (26 ms): imported here,
# before the reader's worker processes fork, they inherit it instead of each importing it
import pyarrow.compute

_NUMPY_TYPES = {
    pa.int8(): np.dtype(np.int8), pa.int16(): np.dtype(np.int16), pa.int32(): np.dtype(np.int32),
    pa.int64(): np.dtype(np.int64), pa.uint8(): np.dtype(np.uint8), pa.uint16(): np.dtype(np.uint16),
    pa.uint32(): np.dtype(np.uint32), pa.uint64(): np.dtype(np.uint64),
    pa.float32(): np.dtype(np.float32), pa.float64(): np.dtype(np.float64),
}  # fmt: skip
"""The Arrow types read and made through their buffers, with their numpy types (spelled out:
pyarrow 25's `DataType.to_pandas_dtype` imports pandas)."""
_ARROW_TYPES = {dtype: kind for kind, dtype in _NUMPY_TYPES.items()}


def numeric(values: pa.Array | pa.ChunkedArray, null: int | None = None) -> np.ndarray:
    """The values as a numpy array (as `to_numpy()` gives them: read-only where not copied); nulls as
    `null` when given."""
    if isinstance(values, pa.ChunkedArray):
        if values.num_chunks == 1:
            return numeric(values.chunk(0), null)
        if values.num_chunks == 0 and _buffered(values.type):
            return np.empty(0, dtype=_NUMPY_TYPES[values.type])
        if _buffered(values.type) and (values.null_count == 0 or null is not None):
            return np.concatenate([numeric(chunk, null) for chunk in values.chunks])
        return values.to_numpy()
    if not _buffered(values.type) or (values.null_count and null is None):
        return values.to_numpy(zero_copy_only=False)
    dtype = _NUMPY_TYPES[values.type]
    data = values.buffers()[1]
    if data is None:  # an empty array may have no buffer
        return np.empty(0, dtype=dtype)
    array = np.frombuffer(data, dtype=dtype, count=len(values), offset=values.offset * dtype.itemsize)
    return np.where(_valid(values), array, null) if values.null_count else array


def arrow(values: np.ndarray) -> pa.Array:
    """A 1-D numpy array of numbers or booleans as an Arrow array of its own type."""
    values = np.ascontiguousarray(values)
    if values.dtype == np.bool_:
        return pa.Array.from_buffers(pa.bool_(), len(values), [None, _bitmap(values)])
    own = _ARROW_TYPES.get(values.dtype)
    if own is None or values.ndim != 1:
        return pa.array(values)
    return pa.Array.from_buffers(own, len(values), [None, pa.py_buffer(values)])


def booleans(values: pa.Array | pa.ChunkedArray, null: bool = False) -> np.ndarray:
    """A boolean Arrow array (a compute function's result) as a numpy bool array, nulls as `null`."""
    if isinstance(values, pa.ChunkedArray):
        return np.concatenate([booleans(chunk, null) for chunk in values.chunks] or [np.empty(0, bool)])
    if len(values) == 0:
        return np.empty(0, dtype=bool)
    bits = np.frombuffer(values.buffers()[1], dtype=np.uint8)
    result = np.unpackbits(bits, count=values.offset + len(values), bitorder="little")[values.offset :]
    result = result.astype(bool)
    return np.where(_valid(values), result, null) if values.null_count else result


def strings(values: Sequence[str | None]) -> pa.Array:
    """Python strings (None: a null) as an Arrow string array: their text joined and encoded at once,
    the offsets the strings' lengths where it is all ASCII (a byte a character), else each string
    encoded. A million short strings: 65 ms ASCII, 140 ms not (pa.array: 25 ms, and pandas imported)."""
    validity = None
    if None in values:
        present = np.fromiter((value is not None for value in values), dtype=bool, count=len(values))
        validity = _bitmap(present)
        values = ["" if value is None else value for value in values]
    text = "".join(values)
    data = text.encode()
    pieces = values if len(data) == len(text) else [value.encode() for value in values]
    offsets = _offsets(pieces)
    kind, width = (pa.string(), np.int32) if offsets[-1] < 2**31 else (pa.large_string(), np.int64)
    return pa.Array.from_buffers(
        kind, len(values), [validity, pa.py_buffer(offsets.astype(width)), pa.py_buffer(data)]
    )


def binary(values: Sequence[object]) -> pa.LargeBinaryArray:
    """Buffer-protocol values (msgspec.Raw, bytes) as one Arrow binary array, without a copy per value."""
    return pa.Array.from_buffers(
        pa.large_binary(), len(values), [None, pa.py_buffer(_offsets(values)), _joined(values)]
    )


def _offsets(values: Sequence[object]) -> np.ndarray:
    offsets = np.zeros(len(values) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, values), dtype=np.int64, count=len(values)), out=offsets[1:])
    return offsets


def _joined(values: Sequence[object]) -> pa.Buffer:
    return pa.py_buffer(b"".join(values))


def _bitmap(flags: np.ndarray) -> pa.Buffer:
    return pa.py_buffer(np.packbits(flags, bitorder="little"))


def _valid(values: pa.Array) -> np.ndarray:
    """Each value's validity, from the array's bitmap."""
    bits = np.frombuffer(values.buffers()[0], dtype=np.uint8)
    valid = np.unpackbits(bits, count=values.offset + len(values), bitorder="little")
    return valid[values.offset :].astype(bool)


def _buffered(kind: pa.DataType) -> bool:
    return kind in _NUMPY_TYPES
