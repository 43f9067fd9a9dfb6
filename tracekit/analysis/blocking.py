"""Host-blocking CUDA calls, the findings of nsys analyze's default rules (docs/metrics.md, "Blocking calls").

- pageable async copies: `cudaMemcpy*Async` on pageable memory, which the driver runs synchronously;
- synchronous copies and memsets: issued by `cudaMemcpy*` / `cudaMemset*` without `Async` (memsets only
  on pinned or managed memory, as nsys' cuda_memset_sync);
- synchronize calls: `cudaDeviceSynchronize` and `cudaStreamSynchronize` (nsys' cuda_api_sync), and
  on Ascend `aclrtSynchronizeDevice` / `aclrtSynchronizeStream[WithTimeout]` (`AscendCL@` prefix; the
  `Runtime@...Synchronize` calls they make are not counted again).
Version suffixes such as `_v3020` do not matter: the patterns match the start of the name.
"""

from __future__ import annotations

import re

import numpy as np

from tracekit.analysis.columns import Columns
from tracekit.model.schema import NONE, Kind, MemoryKind

ASYNC_COPY = re.compile(r"^cudaMemcpy\w*Async")
SYNC_COPY = re.compile(r"^cudaMemcpy(?!\w*Async)")
SYNC_MEMSET = re.compile(r"^cudaMemset(?!\w*Async)")
SYNC_CALL = re.compile(r"^cuda(Device|Stream)Synchronize|^(\w+@)?aclrtSynchronize(Device|Stream)")
HOST_VISIBLE = (MemoryKind.PINNED, MemoryKind.MANAGED)


def blocking_copies(cols: Columns, ops: np.ndarray, top: int) -> dict[str, dict[str, object]]:
    """The device's copies and memsets that block the host, by the call that issued them."""
    copies = ops[cols.kind[ops] == Kind.MEMCPY]
    memsets = ops[cols.kind[ops] == Kind.MEMSET]
    pageable = (cols.src_memory[copies] == MemoryKind.PAGEABLE) | (
        cols.dst_memory[copies] == MemoryKind.PAGEABLE
    )
    host_visible = np.isin(cols.dst_memory[memsets], HOST_VISIBLE)
    return {
        "pageable_async_copies": listing(cols, copies[pageable & _issued_by(cols, copies, ASYNC_COPY)], top),
        "sync_copies": listing(cols, copies[_issued_by(cols, copies, SYNC_COPY)], top),
        "sync_memsets": listing(cols, memsets[host_visible & _issued_by(cols, memsets, SYNC_MEMSET)], top),
    }


def sync_calls(cols: Columns, top: int) -> dict[str, object]:
    """Host calls that wait for the whole device or a whole stream."""
    host_calls = np.flatnonzero(np.isin(cols.kind, [Kind.RUNTIME, Kind.SYNC]) & (cols.device == NONE))
    return listing(cols, host_calls[_names_match(cols, cols.name_code[host_calls], SYNC_CALL)], top)


def listing(cols: Columns, rows: np.ndarray, top: int) -> dict[str, object]:
    """Count, summed time and bytes of the rows, and the `top` longest with their issuing call."""
    longest = rows[np.argsort(-cols.dur[rows], kind="stable")][:top]
    return {
        "count": len(rows),
        "total_ns": int(cols.dur[rows].sum()),
        "bytes": int(np.maximum(cols.bytes[rows], 0).sum()),
        "largest": [_row(cols, row) for row in longest],
    }


def _row(cols: Columns, row: int) -> dict[str, object]:
    call = int(cols.launch[row])
    return {
        "start_ns": int(cols.start[row]),
        "dur_ns": int(cols.dur[row]),
        "name": cols.names[cols.name_code[row]],
        "bytes": int(cols.bytes[row]) if cols.bytes[row] >= 0 else None,
        "call": cols.names[cols.name_code[call]] if call != NONE else None,
    }


def _issued_by(cols: Columns, rows: np.ndarray, pattern: re.Pattern[str]) -> np.ndarray:
    """Rows whose launching call's name matches the pattern (False when the call is unknown)."""
    calls = cols.launch[rows]
    matched = _names_match(cols, cols.name_code[np.maximum(calls, 0)], pattern)
    return matched & (calls != NONE)


def _names_match(cols: Columns, codes: np.ndarray, pattern: re.Pattern[str]) -> np.ndarray:
    per_name = np.array([pattern.match(name) is not None for name in cols.names] or [False], dtype=bool)
    return per_name[codes] if len(codes) else np.zeros(0, dtype=bool)
