"""Row builder for the Ascend readers: canonical columns plus the optional Ascend operator columns.

The Ascend columns (docs/model.md, "Optional Ascend columns") are appended after the EVENT_SCHEMA
columns, so they travel with every row through filters such as `--steps`. Strings are "" and integers
NONE (-1) when unknown. Rows arrive as whole columns (`add_block`, one block per table or file);
`columns()` joins them once, in the order they were added. Text columns are held as codes of their
distinct texts (scalars.Codes) from the reader to the table, never as one Python string per row.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from tracekit.model.arrays import arrow
from tracekit.model.schema import NONE
from tracekit.readers import checked
from tracekit.readers.ascend.scalars import Codes

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

Texts = np.ndarray | Codes | str
"""A text column as given to add_block: texts, their codes, or one text for every row."""


class EventRows:
    """Events appended by columns, turned into the canonical table plus the Ascend columns."""

    def __init__(self) -> None:
        self._blocks: list[dict[str, np.ndarray | Codes]] = []

    def __len__(self) -> int:
        return sum(len(block["name"]) for block in self._blocks)

    def add_block(self, name: np.ndarray | Codes, **fields: np.ndarray | Codes | int | str) -> None:
        """Append len(name) events at once: each field an array of that length (texts also as
        Codes) or one value for all."""
        n = len(name)
        block: dict[str, np.ndarray | Codes] = {"name": _coded(name, n)}
        for column in _INTS:
            value = fields.get(column, _DEFAULTS.get(column, NONE))
            block[column] = np.broadcast_to(np.asarray(value, dtype=np.int64), (n,))
        for column in STRING_COLUMNS:
            block[column] = _coded(fields.get(column, ""), n)
        self._blocks.append(block)

    def columns(self) -> dict[str, np.ndarray | Codes]:
        """Every column so far, rows in the order added (int64 arrays; texts as Codes)."""
        if not self._blocks:
            self._blocks = [{c: np.empty(0, dtype=np.int64) for c in _INTS}]
            self._blocks[0].update({c: Codes([], np.empty(0, dtype=np.int64)) for c in _STRINGS})
        if len(self._blocks) > 1:
            blocks = self._blocks
            self._blocks = [{c: np.concatenate([b[c] for b in blocks]) for c in _INTS}]
            self._blocks[0].update({c: Codes.joined([b[c] for b in blocks]) for c in _STRINGS})
        block = self._blocks[0]
        for column in _INTS:
            if not block[column].flags.writeable:
                block[column] = block[column].copy()
        return block

    def set_attributes(self, rows: np.ndarray, attributes: dict[str, np.ndarray | Codes]) -> None:
        """Attach operator attributes (ATTRIBUTE_COLUMNS, one value per row of `rows`) to rows."""
        columns = self.columns()
        for column, values in attributes.items():
            if column in STRING_COLUMNS:
                columns[column] = columns[column].assigned(rows, _coded(values, len(rows)))
            else:
                columns[column][rows] = values

    def table(self) -> pa.Table:
        """The canonical table, after the boundary checks of `checked.event_table` (rows with a
        negative duration or an out-of-range time are dropped, counted), with the Ascend columns
        appended and filtered with the rows."""
        columns = self.columns()
        canonical: dict[str, object] = {name: columns[name] for name in _CANONICAL_INTS}
        canonical["name"] = columns["name"].dictionary_array()
        ascend = {field.name: _ascend_column(columns[field.name]) for field in ASCEND_FIELDS}
        return checked.event_table(canonical, len(columns["name"]), ascend)


def _coded(texts: Texts, n: int) -> Codes:
    """A text column of n rows as codes."""
    if isinstance(texts, Codes):
        return texts
    if isinstance(texts, str):
        return Codes.constant(texts, n)
    return Codes.of(np.asarray(texts, dtype=object).tolist())


def _ascend_column(values: np.ndarray | Codes) -> pa.Array:
    if isinstance(values, Codes):
        return values.dictionary_array()
    return arrow(np.asarray(values, dtype=np.int64))
