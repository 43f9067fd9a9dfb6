"""Where a reader keeps the rows of a large trace: in memory, or on temporary files when the table
would not fit the memory budget (tracekit/readers/memory_budget.py: `--memory-budget`, else a share
of the memory available).

A spilled table is appended piece by piece to one raw file per column, memory-mapped at the end,
then written column by column as Arrow IPC files that are memory-mapped, each column's pages
released once written, so the table is never resident whole: its pages are the page cache's, which
the kernel can drop and re-read under memory pressure instead of the process growing. The
analysis gives back the pages it has read between its phases (tracekit/resident.py). The files
live in a private folder under the system temporary directory (`TMPDIR`), never beside the input;
each file is unlinked as soon as it is mapped, and the folder is removed at exit whatever happens.
"""

from __future__ import annotations

import atexit
import mmap
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa

from tracekit import resident
from tracekit.model.trace import whole_column

TABLE_SHARE = 0.5
"""Share of the budget the event table may take in memory; decoding and the analyses use the rest."""
_folders: list[Path] = []


def fits(table_bytes: float, budget: int | None) -> bool:
    """True when a table of this size may stay in memory under the budget."""
    return budget is None or table_bytes <= budget * TABLE_SHARE


class Store:
    """Rows kept in memory: one array per column, allocated for the rows foreseen (`capacity`; pages
    never written cost nothing) and grown when more come, so the pieces are not joined at the end."""

    def __init__(self, default_of: Callable[[str], int], capacity: int = 0) -> None:
        self.default_of = default_of
        self.capacity = capacity
        self.rows = 0
        self.dtypes: dict[str, np.dtype] = {}
        self.arrays: dict[str, np.ndarray] = {}

    def append(self, columns: dict[str, np.ndarray], n: int) -> None:
        """Add n rows; a column the store has not seen yet is filled with its default before them,
        and a column these rows lack gets its default."""
        for name, values in columns.items():
            if name not in self.dtypes:
                self.dtypes[name] = np.asarray(values).dtype
                self._write(name, np.full(self.rows, self.default_of(name), self.dtypes[name]), 0)
        for name, dtype in self.dtypes.items():
            values = columns.get(name)
            values = np.full(n, self.default_of(name), dtype) if values is None else values
            self._write(name, np.ascontiguousarray(values, dtype=dtype), self.rows)
        self.rows += n

    def finish(self) -> dict[str, np.ndarray]:
        """Every column as one array."""
        return {name: self._whole(name) for name in list(self.dtypes)}

    def _write(self, name: str, values: np.ndarray, start: int) -> None:
        array, end = self.arrays.get(name), start + len(values)
        if array is None or end > len(array):
            size = max(end, self.capacity, 2 * len(array) if array is not None else 0)
            grown = np.empty(size, values.dtype)
            if array is not None:
                grown[:start] = array[:start]
            self.arrays[name] = array = grown
        array[start:end] = values

    def _whole(self, name: str) -> np.ndarray:
        array = self.arrays.pop(name, None)
        return array[: self.rows] if array is not None else np.empty(0, self.dtypes[name])

    def release(self) -> None:
        """Nothing to release: the rows are in memory."""

    def keep(self, table: pa.Table) -> pa.Table:
        """The finished table, as it stays (in memory)."""
        return table


class SpillStore(Store):
    """Rows appended to one temporary raw file per column, memory-mapped at the end."""

    def __init__(self, default_of: Callable[[str], int], capacity: int = 0) -> None:
        super().__init__(default_of, capacity)
        self.folder = spill_folder()
        self.files: dict[str, object] = {}
        self.maps: list[mmap.mmap] = []

    def _write(self, name: str, values: np.ndarray, start: int) -> None:  # appended: start is the end
        if name not in self.files:
            self.files[name] = (self.folder / f"{name}.bin").open("wb")
        values.tofile(self.files[name])

    def _whole(self, name: str) -> np.ndarray:
        file = self.files.pop(name)
        file.close()
        path = self.folder / f"{name}.bin"
        if self.rows == 0:
            return np.empty(0, self.dtypes[name])
        with path.open("rb") as source:
            mapped = mmap.mmap(source.fileno(), 0, access=mmap.ACCESS_READ)
        path.unlink()  # the mapping keeps the data; nothing is left behind
        self.maps.append(mapped)
        resident.hold(mapped)
        return np.frombuffer(mapped, dtype=self.dtypes[name], count=self.rows)

    def release(self) -> None:
        """Drop the mapped pages read so far from this process (the page cache keeps them)."""
        for mapped in self.maps if hasattr(mmap, "MADV_DONTNEED") else ():
            mapped.madvise(mmap.MADV_DONTNEED)

    def keep(self, table: pa.Table) -> pa.Table:
        """The table rewritten as Arrow IPC files, one per column, and read back memory-mapped; each
        column's pages are released once it is written, so the table is never resident whole."""
        columns = []
        for i, field in enumerate(table.schema):
            whole = whole_column(table, field.name)
            columns.append(mapped_column(whole, field, self.folder / f"{i}.arrow"))
            self.release()
        return pa.Table.from_arrays(columns, schema=table.schema)


def mapped_column(array: pa.Array, field: pa.Field, path: Path) -> pa.Array:
    """`array` written to an Arrow IPC file at `path` and read back memory-mapped (zero copy), the
    mapping held by tracekit/resident.py."""
    schema = pa.schema([field])
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, schema) as writer:
        writer.write_batch(pa.record_batch([array], schema=schema))
    with path.open("rb") as source:
        mapped = mmap.mmap(source.fileno(), 0, access=mmap.ACCESS_READ)
    path.unlink()
    resident.hold(mapped)  # its pages can be given back between the analysis' phases
    return pa.ipc.open_file(pa.py_buffer(mapped)).get_batch(0).column(0)


def spill_folder() -> Path:
    """A new private folder under the temporary directory, removed at exit."""
    folder = Path(tempfile.mkdtemp(prefix="tracekit-spill-"))
    if not _folders:
        atexit.register(_remove_folders)
    _folders.append(folder)
    return folder


def _remove_folders() -> None:
    while _folders:
        shutil.rmtree(_folders.pop(), ignore_errors=True)
