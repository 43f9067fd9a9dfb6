"""Memory copies of one device, per direction (docs/metrics.md, "Copies")."""

from __future__ import annotations

import numpy as np

from tracekit.analysis.columns import Columns
from tracekit.analysis.stats import ratio, summary
from tracekit.model.intervals import Intervals, subtract, total_length, union
from tracekit.model.schema import NONE, CopyDirection, Kind, MemoryKind

REPORTED_DIRECTIONS = {"h2d": CopyDirection.H2D, "d2h": CopyDirection.D2H, "d2d": CopyDirection.D2D}


def copy_rows(cols: Columns, ops: np.ndarray, direction: CopyDirection) -> np.ndarray:
    """The device's copies in one direction."""
    return ops[(cols.kind[ops] == Kind.MEMCPY) & (cols.copy_direction[ops] == direction)]


def host_memory(cols: Columns, rows: np.ndarray) -> np.ndarray:
    """Memory kind of the host end of each copy (source of H2D, destination of D2H)."""
    to_host = cols.copy_direction[rows] == CopyDirection.D2H
    return np.where(to_host, cols.dst_memory[rows], cols.src_memory[rows])


def copy_summary(
    cols: Columns,
    rows: np.ndarray,
    device_busy_ns: int,
    kernel_busy: Intervals,
    window_ns: int,
    step_count: int,
) -> dict[str, object]:
    """Count, bytes, time and shares of one direction's copies."""
    known_bytes = cols.bytes[rows] >= 0
    copy_set = union(cols.start[rows], cols.end[rows])
    busy_ns = total_length(copy_set)
    exposed_ns = total_length(subtract(copy_set, kernel_busy))
    timed = rows[known_bytes & (cols.dur[rows] > 0)]
    memory = host_memory(cols, rows)
    in_steps = int((cols.step[rows] != NONE).sum())
    return {
        "count": len(rows),
        "per_step": ratio(in_steps, step_count),
        "total_ns": int(cols.dur[rows].sum()),
        "bytes": int(cols.bytes[rows][known_bytes].sum()),
        "bytes_unknown_count": int((~known_bytes).sum()),
        "busy_ns": busy_ns,
        "share_of_busy": ratio(busy_ns, device_busy_ns),
        "exposed_ns": exposed_ns,
        "exposed_share": ratio(exposed_ns, window_ns),
        "pageable_count": int((memory == MemoryKind.PAGEABLE).sum()),
        "pageable_bytes": _bytes_where(cols, rows, memory == MemoryKind.PAGEABLE),
        "pinned_count": int((memory == MemoryKind.PINNED).sum()),
        "pinned_bytes": _bytes_where(cols, rows, memory == MemoryKind.PINNED),
        "bandwidth_gbps": ratio(int(cols.bytes[timed].sum()), int(cols.dur[timed].sum())),
        "durations": summary(cols.dur[rows]),
        "sizes": summary(cols.bytes[rows][known_bytes]),
    }


def memset_summary(cols: Columns, ops: np.ndarray) -> dict[str, object]:
    """Count, bytes, summed and union time of the device's memsets, with duration and size statistics."""
    rows = ops[cols.kind[ops] == Kind.MEMSET]
    known_bytes = cols.bytes[rows] >= 0
    return {
        "count": len(rows),
        "bytes": int(cols.bytes[rows][known_bytes].sum()),
        "total_ns": int(cols.dur[rows].sum()),
        "busy_ns": total_length(union(cols.start[rows], cols.end[rows])),
        "durations": summary(cols.dur[rows]),
        "sizes": summary(cols.bytes[rows][known_bytes]),
    }


def _bytes_where(cols: Columns, rows: np.ndarray, selected: np.ndarray) -> int:
    values = cols.bytes[rows][selected]
    return int(values[values >= 0].sum())
