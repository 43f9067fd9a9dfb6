"""Row builder for the Ascend readers: canonical columns plus the optional Ascend operator columns.

The Ascend columns (docs/model.md, "Optional Ascend columns") are appended after the EVENT_SCHEMA
columns, so they travel with every row through filters such as `--steps`. Strings are "" and integers
NONE (-1) when unknown. Rows arrive as whole columns (`add_block`, one block per table or file);
`columns()` joins them once, in the order they were added.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from tracekit.model.schema import NONE
from tracekit.readers import checked

STRING_COLUMNS = ("layer", "task_type", "core_type", "op_type", "op_state", "input_dtypes", "input_shapes")
INT_COLUMNS = ("block_dim", "mix_block_dim", "wait_ns")
ASCEND_FIELDS = tuple(
    [pa.field(name, pa.dictionary(pa.int32(), pa.string()), nullable=False) for name in STRING_COLUMNS]
    + [pa.field(name, pa.int64(), nullable=False) for name in INT_COLUMNS]
)
ATTRIBUTE_COLUMNS = ("core_type", "op_type", "op_state", "input_dtypes", "input_shapes", *INT_COLUMNS)

_CANONICAL_INTS = (
    "start_ns", "dur_ns", "kind", "device", "stream", "process", "thread", "correlation",
    "step", "copy_direction", "src_memory", "dst_memory", "bytes",
)  # fmt: skip
_INTS = (*_CANONICAL_INTS, *INT_COLUMNS)
_STRINGS = ("name", *STRING_COLUMNS)
_DEFAULTS = {"copy_direction": 0, "src_memory": 0, "dst_memory": 0}


class EventRows:
    """Events appended by columns, turned into the canonical table plus the Ascend columns."""

    def __init__(self) -> None:
        self._blocks: list[dict[str, np.ndarray]] = []

    def __len__(self) -> int:
        return sum(len(block["name"]) for block in self._blocks)

    def add_block(self, name: np.ndarray, **fields: np.ndarray | int | str) -> None:
        """Append len(name) events at once: each field an array of that length or one value for all."""
        n = len(name)
        block = {"name": np.asarray(name, dtype=object)}
        for column in _INTS:
            value = fields.get(column, _DEFAULTS.get(column, NONE))
            block[column] = np.broadcast_to(np.asarray(value, dtype=np.int64), (n,))
        for column in STRING_COLUMNS:
            block[column] = np.broadcast_to(np.asarray(fields.get(column, ""), dtype=object), (n,))
        self._blocks.append(block)

    def columns(self) -> dict[str, np.ndarray]:
        """Every column so far, rows in the order added (int64 arrays; strings as object arrays)."""
        if len(self._blocks) > 1:
            self._blocks = [{c: np.concatenate([b[c] for b in self._blocks]) for c in (*_INTS, *_STRINGS)}]
        if not self._blocks:
            return {c: np.empty(0, dtype=np.int64 if c in _INTS else object) for c in (*_INTS, *_STRINGS)}
        block = self._blocks[0]
        for column, values in block.items():
            if not values.flags.writeable:
                block[column] = values.copy()
        return block

    def set_attributes(self, rows: np.ndarray, attributes: dict[str, np.ndarray]) -> None:
        """Attach operator attributes (ATTRIBUTE_COLUMNS, one value per row of `rows`) to rows."""
        columns = self.columns()
        for column, values in attributes.items():
            columns[column][rows] = values

    def table(self) -> pa.Table:
        """The canonical table, after the boundary checks of `checked.event_table` (rows with a
        negative duration or an out-of-range time are dropped, counted), with the Ascend columns
        appended and filtered with the rows."""
        columns = self.columns()
        canonical: dict[str, object] = {name: columns[name] for name in _CANONICAL_INTS}
        canonical["name"] = _strings(columns["name"])
        ascend = {field.name: _ascend_column(columns[field.name]) for field in ASCEND_FIELDS}
        return checked.event_table(canonical, len(columns["name"]), ascend)


def _strings(values: np.ndarray) -> pa.Array:
    # from a list: pyarrow converts an object ndarray through pandas (0.5 s to import)
    return pa.array(values.tolist(), type=pa.string()).dictionary_encode()


def _ascend_column(values: np.ndarray) -> pa.Array:
    if values.dtype == object:
        return _strings(values).cast(pa.dictionary(pa.int32(), pa.string()))
    return pa.array(values, type=pa.int64())
