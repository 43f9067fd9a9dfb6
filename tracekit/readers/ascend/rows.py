"""Row builder for the Ascend readers: canonical columns plus the optional Ascend operator columns.

The Ascend columns (docs/model.md, "Optional Ascend columns") are appended after the EVENT_SCHEMA
columns, so they travel with every row through filters such as `--steps`. Strings are "" and integers
NONE (-1) when unknown.
"""

from __future__ import annotations

from dataclasses import dataclass

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

_CANONICAL_INTS = (
    "start_ns", "dur_ns", "kind", "device", "stream", "process", "thread", "correlation",
    "step", "copy_direction", "src_memory", "dst_memory", "bytes",
)  # fmt: skip
_CANONICAL_DEFAULTS = {"copy_direction": 0, "src_memory": 0, "dst_memory": 0}


@dataclass
class OpAttributes:
    """What op_summary / kernel_details (or the DB's COMPUTE_TASK_INFO) say about one device task."""

    core_type: str = ""
    op_type: str = ""
    op_state: str = ""
    input_dtypes: str = ""
    input_shapes: str = ""
    block_dim: int = NONE
    mix_block_dim: int = NONE
    wait_ns: int = NONE


class EventRows:
    """Events appended one at a time, turned into the canonical table plus the Ascend columns."""

    def __init__(self) -> None:
        self.ints: dict[str, list[int]] = {name: [] for name in (*_CANONICAL_INTS, *INT_COLUMNS)}
        self.strings: dict[str, list[str]] = {name: [] for name in ("name", *STRING_COLUMNS)}

    def __len__(self) -> int:
        return len(self.strings["name"])

    def add(self, name: str, start_ns: int, dur_ns: int, kind: int, **fields: int | str) -> int:
        """Append one event; unnamed fields take their default. Returns the row index."""
        self.strings["name"].append(name)
        self.ints["start_ns"].append(start_ns)
        self.ints["dur_ns"].append(dur_ns)
        self.ints["kind"].append(int(kind))
        for column, values in self.ints.items():
            if column not in ("start_ns", "dur_ns", "kind"):
                values.append(int(fields.get(column, _CANONICAL_DEFAULTS.get(column, NONE))))
        for column in STRING_COLUMNS:
            self.strings[column].append(str(fields.get(column, "")))
        return len(self) - 1

    def set_attributes(self, row: int, attributes: OpAttributes) -> None:
        """Attach operator attributes to an existing row."""
        for column in STRING_COLUMNS:
            if column != "layer" and column != "task_type":
                self.strings[column][row] = getattr(attributes, column)
        for column in INT_COLUMNS:
            self.ints[column][row] = getattr(attributes, column)

    def table(self) -> pa.Table:
        """The canonical table, after the boundary checks of `checked.event_table` (rows with a
        negative duration or an out-of-range time are dropped, counted), with the Ascend columns
        appended and filtered with the rows."""
        n = len(self)
        columns: dict[str, object] = {name: self.ints[name] for name in _CANONICAL_INTS}
        columns["name"] = self.strings["name"]
        ascend = {field.name: self._ascend_column(field) for field in ASCEND_FIELDS}
        return checked.event_table(columns, n, ascend)

    def _ascend_column(self, field: pa.Field) -> pa.Array:
        if field.name in self.strings:
            return pa.array(self.strings[field.name], type=pa.string()).dictionary_encode().cast(field.type)
        return pa.array(np.array(self.ints[field.name], dtype=np.int64))
