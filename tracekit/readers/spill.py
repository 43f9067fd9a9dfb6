"""Where a reader keeps the rows of a large trace: in memory, or on temporary files when the table
would not fit the memory budget (`--memory-budget`, `TRACEKIT_MEMORY_BUDGET`, e.g. `2GB`).

A spilled table is appended piece by piece to one raw file per column, memory-mapped whole at the
end, then written once as an Arrow IPC file that is memory-mapped (`pa.memory_map`): its pages are
the page cache's, which the kernel can drop and re-read under memory pressure instead of the
process growing. The files live in a private folder under the system temporary directory
(`TMPDIR`), never beside the input; each file is unlinked as soon as it is mapped, and the folder
is removed at exit whatever happens.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa

from tracekit.errors import TraceError
from tracekit.readers.source import parse_size

MEMORY_BUDGET_ENV = "TRACEKIT_MEMORY_BUDGET"
TABLE_SHARE = 0.5
"""Share of the budget the event table may take in memory; decoding and the analyses use the rest."""
_folders: list[Path] = []


def memory_budget(path: Path) -> int | None:
    """The memory budget in bytes (TRACEKIT_MEMORY_BUDGET, e.g. `2GB`); None when unset."""
    setting = os.environ.get(MEMORY_BUDGET_ENV, "").strip()
    if not setting:
        return None
    budget = parse_size(setting)
    if budget is None or budget <= 0:
        raise TraceError(path, f"{MEMORY_BUDGET_ENV}={setting[:40]!r} is not a size such as 2GB")
    return budget


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

    def keep(self, table: pa.Table) -> pa.Table:
        """The finished table, as it stays (in memory)."""
        return table


class SpillStore(Store):
    """Rows appended to one temporary raw file per column, memory-mapped at the end."""

    def __init__(self, default_of: Callable[[str], int], capacity: int = 0) -> None:
        super().__init__(default_of, capacity)
        self.folder = spill_folder()
        self.files: dict[str, object] = {}

    def _write(self, name: str, values: np.ndarray, start: int) -> None:  # appended: start is the end
        if name not in self.files:
            self.files[name] = (self.folder / f"{name}.bin").open("wb")
        values.tofile(self.files[name])

    def _whole(self, name: str) -> np.ndarray:
        self.files.pop(name).close()
        path = self.folder / f"{name}.bin"
        if self.rows == 0:
            return np.empty(0, self.dtypes[name])
        mapped = np.memmap(path, dtype=self.dtypes[name], mode="r+", shape=(self.rows,))
        path.unlink()  # the mapping keeps the data; nothing is left behind
        return mapped

    def keep(self, table: pa.Table) -> pa.Table:
        """The table rewritten as an Arrow IPC file and read back memory-mapped."""
        return mapped_table(table, self.folder)


def mapped_table(table: pa.Table, folder: Path) -> pa.Table:
    """`table` written to an Arrow IPC file in `folder` and read back memory-mapped (zero copy)."""
    path = folder / "events.arrow"
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table, max_chunksize=max(table.num_rows, 1))
    source = pa.memory_map(str(path), "r")
    mapped = pa.ipc.open_file(source).read_all()
    path.unlink()
    return mapped


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
