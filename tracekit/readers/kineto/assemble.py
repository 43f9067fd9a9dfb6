"""Merge the pieces of a trace, in file order, into the canonical event table.

Each piece's name (and input-text) codes are remapped onto one dictionary grown in file order, so
the merged dictionary is in first-seen order, as a whole-file read gives it. Rows go to a store:
in memory, or spilled to temporary column files (tracekit/readers/spill.py) when the table would
not fit the memory budget. B/E pairs are closed across pieces, memory samples are ordered by time
and appended after the spans, then the table-wide checks (checked.event_table) and the step
assignment run once, on the whole table.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from tracekit.model.arrays import arrow, strings
from tracekit.model.schema import NONE, Kind, column_default
from tracekit.model.steps import assign_steps
from tracekit.readers import checked
from tracekit.readers.kineto.columns import MEMORY_NAME, TEXT_COLUMNS, Piece, pair_rows
from tracekit.readers.spill import Store

_DEFAULTS = {"phase": 0, "pair": NONE, "name": 0} | dict.fromkeys(TEXT_COLUMNS, 0)


def default_of(column: str) -> int:
    """The value a store gives rows of pieces that lack `column` (store-only columns: `phase`, the
    B/E phase code, and `pair`, the (pid, tid) code of a row, while pairs are open)."""
    return _DEFAULTS[column] if column in _DEFAULTS else column_default(column)


class _Codes:
    """A dictionary grown in first-seen order; remaps a piece's local dictionary onto it."""

    def __init__(self, first: tuple[object, ...] = ()) -> None:
        self.code_of: dict[object, int] = {value: i for i, value in enumerate(first)}

    def remap(self, local: list) -> np.ndarray:
        setdefault, size = self.code_of.setdefault, len
        return np.array([setdefault(value, size(self.code_of)) for value in local] or [0], dtype=np.int32)

    def values(self) -> list:
        return list(self.code_of)


class Assembly:
    """Collects pieces in file order; `table` gives the canonical table and the reader's warnings."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.names = _Codes()
        self.inputs = {column: _Codes(("",)) for column in TEXT_COLUMNS}
        self.pairs = _Codes()
        self.has_inputs = False
        self.memory: list[dict[str, np.ndarray]] = []

    def add(self, piece: Piece) -> None:
        """Append a piece's rows (its codes remapped); its memory samples are kept for the end."""
        columns = dict(piece.columns)
        columns["name"] = self.names.remap(piece.names)[piece.name_codes]
        for column, (local, codes) in (piece.inputs or {}).items():
            columns[column] = self.inputs[column].remap(local)[codes]
            self.has_inputs = True
        if piece.phases is not None:
            columns["phase"] = piece.phases
            columns["pair"] = self.pairs.remap(piece.pairs)[piece.pair_keys].astype(np.int64)
        self.store.append(columns, piece.rows)
        if piece.memory is not None:
            self.memory.append(piece.memory)

    def table(self) -> tuple[pa.Table, list[str]]:
        """The event table (steps assigned) and the warnings the memory samples need."""
        samples, warnings = memory_samples(self.memory)
        if samples is not None:
            samples["name"] = np.full(len(samples["start_ns"]), self.names.remap([MEMORY_NAME])[0], np.int32)
            self.store.append(samples, len(samples["start_ns"]))
        columns, n = self.store.finish(), self.store.rows
        if "phase" in columns:
            columns, n = _paired(columns)
        names = pa.DictionaryArray.from_arrays(arrow(columns.pop("name")), strings(self.names.values()))
        extra = {c: self._text(c, columns.pop(c)) for c in TEXT_COLUMNS if c in columns}
        if "group_size" in columns:  # NCCL kernels' `Group size` (readers/collectives.py)
            extra["group_size"] = arrow(columns.pop("group_size"))
        table = checked.event_table({**columns, "name": names}, n, extra if self.has_inputs else None)
        self.store.release()  # a spilled table's pages the checks read
        return assign_steps(table), warnings

    def _text(self, column: str, codes: np.ndarray) -> pa.DictionaryArray:
        return pa.DictionaryArray.from_arrays(arrow(codes), strings(self.inputs[column].values()))


def _paired(columns: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], int]:
    """The rows left once B/E pairs are closed (B rows get the pair's duration); the pairing columns go."""
    phases, keys = columns.pop("phase"), columns.pop("pair")
    dur = np.array(columns["dur_ns"])
    keep = pair_rows(phases.tolist(), keys.tolist(), columns["start_ns"], dur)
    columns["dur_ns"] = dur
    index = np.flatnonzero(keep)
    return {name: values[index] for name, values in columns.items()}, len(index)


def memory_samples(parts: list[dict[str, np.ndarray]]) -> tuple[dict[str, np.ndarray] | None, list[str]]:
    """MEMORY rows (as columns) from the accelerator `[memory]` instants, in time order, and the
    warnings they need.

    `bytes` is the device's total allocated after the event: the trace's `Total Allocated`, or, when
    a device's samples lack it (older profilers), the running sum of their signed sizes raised by
    the least starting value that keeps it >= 0 (a lower bound: memory allocated before the capture
    and never freed in it is not seen).
    """
    if not parts:
        return None, []
    merged = {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}
    order = np.argsort(merged["start_ns"], kind="stable")
    device, size, total = merged["device"][order], merged["size"][order], merged["total"][order].copy()
    warnings = []
    for d in np.unique(device):
        on = np.flatnonzero(device == d)
        if (total[on] != NONE).all():
            continue
        running = np.cumsum(size[on])
        total[on] = running + max(0, -int(running.min()))
        warnings.append(
            f"device {d}: the memory samples give no Total Allocated (older PyTorch profiler); allocated "
            "bytes are the running sum of allocation sizes since the capture began, so memory allocated "
            "before it is not counted (peak and levels are lower bounds; growth per step is exact)"
        )
    m = len(order)
    columns = {
        "start_ns": merged["start_ns"][order],
        "dur_ns": np.zeros(m, dtype=np.int64),
        "kind": np.full(m, Kind.MEMORY, dtype=np.int8),
        "device": device,
        "process": merged["process"][order],
        "thread": merged["thread"][order],
        "bytes": total,
    }
    return columns, warnings
