"""A numpy view of the event table, built once per analysis."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pyarrow as pa

from tracekit import resident
from tracekit.model.arrays import numeric
from tracekit.model.correlation import launch_rows, row_index_dtype
from tracekit.model.schema import DEVICE_KINDS, NONE, CopyDirection, Kind
from tracekit.model.trace import whole_column


@dataclass(frozen=True)
class Columns:
    """Event columns as numpy arrays; `names[name_code[i]]` is row i's name."""

    start: np.ndarray
    dur: np.ndarray
    kind: np.ndarray
    device: np.ndarray
    stream: np.ndarray
    thread: np.ndarray
    external_id: np.ndarray
    step: np.ndarray
    copy_direction: np.ndarray
    src_memory: np.ndarray
    dst_memory: np.ndarray
    bytes: np.ndarray
    name_code: np.ndarray
    names: list[str]
    launch: np.ndarray

    @cached_property
    def derived(self) -> dict[object, object]:
        """What analyses derive from these columns and share, made once per analysis (keyed by the
        module that makes it: tracekit/analysis/operator_links.py)."""
        return {}

    @cached_property
    def end(self) -> np.ndarray:
        """start + dur, computed once."""
        return resident.paged(self.start + self.dur)

    @cached_property
    def kernel_like(self) -> np.ndarray:
        """Per row: a kernel or a memset, what a CUDA graph captures as kernels (computed once)."""
        return resident.paged((self.kind == Kind.KERNEL) | (self.kind == Kind.MEMSET))

    @cached_property
    def h2d_copy(self) -> np.ndarray:
        """Per row: is it a host-to-device copy (computed once: the replay changes ask per operation)."""
        return resident.paged((self.kind == Kind.MEMCPY) & (self.copy_direction == CopyDirection.H2D))

    @cached_property
    def _by_step(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Row indices sorted by step (table order within a step), the distinct steps, and where
        each one's rows begin in that order (one more: the end)."""
        order = np.argsort(self.step, kind="stable").astype(row_index_dtype(len(self.step)))
        steps = self.step[order]
        heads = np.flatnonzero(np.r_[True, steps[1:] != steps[:-1]]) if len(steps) else order
        return resident.paged(order), steps[heads], np.r_[heads, len(order)]

    def step_rows(self, step: int) -> np.ndarray:
        """Row indices of the events of `step`, in table order: one search among the distinct steps
        (the rows sorted by step once), so a step costs its own rows, not the table's."""
        order, steps, bounds = self._by_step
        i = int(np.searchsorted(steps, step))
        found = i < len(steps) and steps[i] == step
        return order[bounds[i] : bounds[i + 1]] if found else order[:0]

    @cached_property
    def _device_by_stream(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Device operations sorted by (stream, start): their streams, starts, and the running
        maximum of their ends within each stream."""
        rows = np.flatnonzero(np.isin(self.kind, DEVICE_KINDS))
        rows = rows[np.lexsort((self.start[rows], self.stream[rows]))]
        streams, starts, ends = self.stream[rows], self.start[rows], self.end[rows]
        heads = np.flatnonzero(np.r_[True, streams[1:] != streams[:-1]]) if len(rows) else rows
        for lo, hi in zip(heads, np.r_[heads[1:], len(rows)], strict=True):
            ends[lo:hi] = np.maximum.accumulate(ends[lo:hi])
        return resident.paged(streams), resident.paged(starts), resident.paged(ends)

    def stream_end_before(self, stream: int, time: int) -> int | None:
        """The latest end among the device operations on `stream` that started before `time`
        (None when there is none): three searches in the operations sorted by stream and start."""
        streams, starts, ends = self._device_by_stream
        lo, hi = np.searchsorted(streams, stream, side="left"), np.searchsorted(streams, stream, side="right")
        last = lo + int(np.searchsorted(starts[lo:hi], time, side="left")) - 1
        return int(ends[last]) if last >= lo else None

    @classmethod
    def from_table(cls, table: pa.Table) -> Columns:
        names = whole_column(table, "name")
        plain = {
            field: numeric(table.column(field))
            for field in [
                "start_ns",
                "dur_ns",
                "kind",
                "device",
                "stream",
                "thread",
                "external_id",
                "step",
                "copy_direction",
                "src_memory",
                "dst_memory",
                "bytes",
            ]
        }
        return cls(
            start=plain.pop("start_ns"),
            dur=plain.pop("dur_ns"),
            name_code=numeric(names.indices),
            names=names.dictionary.to_pylist(),
            launch=resident.paged(launch_rows(table)),
            **plain,
        )

    def device_ops(self, device: int) -> np.ndarray:
        """Row indices of the operations that occupy `device` (kernels, copies, memsets, comms)."""
        return np.flatnonzero((self.device == device) & np.isin(self.kind, DEVICE_KINDS))

    def devices(self) -> list[int]:
        """Ids of the devices that ran at least one operation."""
        on_device = np.isin(self.kind, DEVICE_KINDS) & (self.device != NONE)
        return sorted(int(d) for d in np.unique(self.device[on_device]))

    def kernels(self, rows: np.ndarray) -> np.ndarray:
        """The subset of `rows` that are kernels (compute or communication)."""
        return rows[np.isin(self.kind[rows], [Kind.KERNEL, Kind.COMMUNICATION])]
