"""Memory this process holds but can give back, for the analysis of a table spilled under a memory
budget (tracekit/readers/spill.py).

Such a table lives in memory-mapped files: every page the analysis reads stays counted in the
process' resident size until it is given back, although the page cache keeps it (a later read maps
it again without touching the disk). `give_back` drops the mapped pages read so far, returns the C
heap's freed blocks to the system (glibc's `malloc_trim`) and pyarrow's pool's unused memory; the
analysis calls it between its phases (tracekit/analysis/analyze.py), so its resident size follows
one phase's working set instead of every page it ever read. Without a spilled table it does nothing.
"""

from __future__ import annotations

import mmap
import weakref
from typing import TypeVar

T = TypeVar("T")
_held: weakref.WeakSet[mmap.mmap] = weakref.WeakSet()


def hold(mapped: mmap.mmap) -> None:
    """Note a mapping that holds a spilled table (kept only as long as something else keeps it)."""
    _held.add(mapped)


def holding() -> bool:
    """True while a spilled table's mapping is open in this process."""
    return any(not mapped.closed for mapped in list(_held))


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


def _trim_c_heap() -> None:
    """Return the C heap's free blocks to the system where the C library can (glibc)."""
    import ctypes

    try:
        trim = getattr(ctypes.CDLL(None), "malloc_trim", None)
    except (OSError, TypeError):  # no C library to open by that name (Windows)
        return
    if trim is not None:
        trim(0)
