"""A numpy view of the event table, built once per analysis."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pyarrow as pa

from tracekit.model.correlation import launch_rows
from tracekit.model.schema import DEVICE_KINDS, NONE, Kind


@dataclass(frozen=True)
class Columns:
    """Event columns as numpy arrays; `names[name_code[i]]` is row i's name."""

    start: np.ndarray
    dur: np.ndarray
    kind: np.ndarray
    device: np.ndarray
    stream: np.ndarray
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
    def end(self) -> np.ndarray:
        """start + dur, computed once."""
        return self.start + self.dur

    @classmethod
    def from_table(cls, table: pa.Table) -> Columns:
        names = table.column("name").combine_chunks()
        plain = {
            field: table.column(field).to_numpy()
            for field in [
                "start_ns",
                "dur_ns",
                "kind",
                "device",
                "stream",
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
            name_code=names.indices.to_numpy(zero_copy_only=False),
            names=names.dictionary.to_pylist(),
            launch=launch_rows(table),
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
