"""Memory this process holds but can give back, for the analysis of a table spilled under a memory
budget (tracekit/readers/spill.py).

Such a table lives in memory-mapped files: every page the analysis reads stays counted in the
process' resident size until it is given back, although the page cache keeps it (a later read maps
it again without touching the disk). `give_back` drops the mapped pages read so far, returns the C
heap's freed blocks to the system (glibc's `malloc_trim`) and pyarrow's pool's unused memory; the
analysis calls it between its phases (tracekit/analysis/analyze.py), so its resident size follows
one phase's working set instead of every page it ever read. The arrays the analysis derives per row
and keeps (ends, launch links, orders) are as large as the table's columns: while a spilled table is
held, `paged` moves them to memory-mapped temporary files too. Without a spilled table nothing
happens. Under a budget the worker processes are bounded too (`processes_within`): the reader's
decoding workers, and while a spilled table is held the analysis' helpers (`helpers_allowed`).
"""

from __future__ import annotations

import mmap
import tempfile
import weakref
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    import numpy as np

T = TypeVar("T")
PAGED_MIN_BYTES = 1 << 20
"""Smaller arrays stay in memory under a spilled table: a file and a mapping for each would cost more."""
PROCESS_BYTES = 64 << 20
"""A forked worker's working set under a memory budget: a reader's chunk with its decoded events and
columns (3.0x the chunk's bytes at most, in the densest trace measured: a tiling of
tests/data/gpu/operators_fp32), or a replay helper's (about 55 MB of PSS each: 15 helpers instead of
7 took the bench's 10 GB trace from 1.37 to 1.81 GB)."""
WORKERS_SHARE = 0.5
"""Share of a memory budget the worker processes may hold (the table or the analysis, the rest)."""
_held: weakref.WeakSet[mmap.mmap] = weakref.WeakSet()
_budget: list[int] = []  # the memory budget the spilled tables were read under


def hold(mapped: mmap.mmap) -> None:
    """Note a mapping that holds a spilled table (kept only as long as something else keeps it)."""
    _held.add(mapped)


def holding() -> bool:
    """True while a spilled table's mapping is open in this process."""
    return any(not mapped.closed for mapped in list(_held))


def spilled_under(budget: int) -> None:
    """Note the memory budget a table is spilled under (its analysis' helpers keep to it)."""
    _budget[:] = [budget]


def processes_within(jobs: int, budget: int | None) -> int:
    """`jobs` worker processes, or fewer: as many as WORKERS_SHARE of `budget` holds at PROCESS_BYTES
    each (at least one)."""
    if budget is None:
        return jobs
    return min(jobs, max(1, int(budget * WORKERS_SHARE) // PROCESS_BYTES))


def helpers_allowed(jobs: int) -> int:
    """`jobs` processes, or, while a spilled table is held, as many as its budget allows."""
    return processes_within(jobs, _budget[0]) if _budget and holding() else jobs


def give_back() -> None:
    """Drop the held mappings' read pages and the heaps' free memory; nothing without a mapping."""
    if not holding():
        return
    for mapped in list(_held) if hasattr(mmap, "MADV_DONTNEED") else ():
        if not mapped.closed:
            mapped.madvise(mmap.MADV_DONTNEED)
    _trim_c_heap()
    import pyarrow as pa  # loaded already: the table is an Arrow table

    pa.default_memory_pool().release_unused()


def after(value: T) -> T:
    """`value`, once `give_back` has run: `result = after(phase(...))` ends a phase."""
    give_back()
    return value


def paged(array: np.ndarray) -> np.ndarray:
    """`array`; while a spilled table is held, the same values read-only on an unlinked temporary file
    (TMPDIR), memory-mapped and held, so that `give_back` drops its pages like the table's. An array
    is paged once made, at the end of a step of the analysis: the pages read to make it are given back
    with it."""
    if not holding() or array.nbytes < max(PAGED_MIN_BYTES, 1):
        return array
    import numpy as np  # loaded already: the array is one

    with tempfile.TemporaryFile(prefix="tracekit-") as file:
        np.ascontiguousarray(array).tofile(file)
        file.flush()
        mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
    hold(mapped)
    give_back()
    return np.frombuffer(mapped, dtype=array.dtype).reshape(array.shape)


def _trim_c_heap() -> None:
    """Return the C heap's free blocks to the system where the C library can (glibc)."""
    import ctypes

    try:
        trim = getattr(ctypes.CDLL(None), "malloc_trim", None)
    except (OSError, TypeError):  # no C library to open by that name (Windows)
        return
    if trim is not None:
        trim(0)
