"""Summary CSVs: op_summary / kernel_details, step_trace_time, op_statistic, api_statistic.

Columns are looked up by header name through one alias table (CANN and torch_npu versions rename
and reorder them). Cells are cleaned of the TABs and literal quotes msprof adds; `N/A` and the
4294967295 sentinel are null. Values go through `checked` (via `values`): a row whose start or
duration is unusable is dropped, other unusable cells are read as unknown; both are counted.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv as pa_csv

from tracekit.errors import TraceError
from tracekit.model.arrays import arrow, numeric, strings
from tracekit.readers import checked
from tracekit.readers.ascend.headers import (
    ALIASES,
    API_STATISTIC_REQUIRED,
    KERNEL_REQUIRED,
    OP_STATISTIC_REQUIRED,
    STEP_TRACE_REQUIRED,
    clean,
)
from tracekit.readers.ascend.rows import ATTRIBUTE_COLUMNS, INT_COLUMNS
from tracekit.readers.ascend.scalars import Codes, taken
from tracekit.readers.ascend.values import (
    blank_cells,
    distinct_cells,
    event_us_to_ns,
    optional_us_column_to_ns,
    text_ints,
    to_int,
    us_column_to_ns,
    us_to_ns,
)
from tracekit.readers.source import read_buffer

STEP_TRACE_FIELDS = (
    "computing", "communication_not_overlapped", "overlapped", "communication", "free",
    "stage", "bubble", "preparing",
)  # fmt: skip


@dataclass
class Kernels:
    """The rows of op_summary / kernel_details, as columns: each row a device task of an operator.
    `attributes` holds the rows.ATTRIBUTE_COLUMNS (texts as Codes)."""

    name: np.ndarray
    start_ns: np.ndarray
    dur_ns: np.ndarray
    step: np.ndarray
    stream: np.ndarray
    task_id: np.ndarray
    device: np.ndarray
    attributes: dict[str, np.ndarray | Codes]

    def __len__(self) -> int:
        return len(self.name)

    @classmethod
    def joined(cls, parts: list[Kernels]) -> Kernels:
        """The rows of several files, in file order."""
        if len(parts) == 1:
            return parts[0]
        names = ("name", "start_ns", "dur_ns", "step", "stream", "task_id", "device")
        columns = {
            n: np.concatenate([getattr(p, n) for p in parts] or [np.empty(0, np.int64)]) for n in names
        }
        attributes = {c: _joined([p.attributes[c] for p in parts] or [_EMPTY[c]]) for c in ATTRIBUTE_COLUMNS}
        return cls(**columns, attributes=attributes)

    def selected(self, keep: np.ndarray) -> Kernels:
        names = ("name", "start_ns", "dur_ns", "step", "stream", "task_id", "device")
        return Kernels(**{n: getattr(self, n)[keep] for n in names}, attributes=self.attributes_at(keep))

    def attributes_at(self, rows: np.ndarray) -> dict[str, np.ndarray | Codes]:
        """The attributes of `rows` (indices or a mask)."""
        return {column: taken(values, rows) for column, values in self.attributes.items()}


def _joined(parts: list[np.ndarray | Codes]) -> np.ndarray | Codes:
    return Codes.joined(parts) if isinstance(parts[0], Codes) else np.concatenate(parts)


_EMPTY = {
    c: np.empty(0, dtype=np.int64) if c in INT_COLUMNS else Codes([], np.empty(0, dtype=np.int64))
    for c in ATTRIBUTE_COLUMNS
}


@dataclass
class Summaries:
    """Everything the summary files of one rank say."""

    kernels: Kernels | None = None
    step_trace_time: list[dict[str, int | str | None]] = field(default_factory=list)
    op_statistic: list[dict[str, object]] = field(default_factory=list)
    api_statistic: list[dict[str, object]] = field(default_factory=list)


def read_csv(path: Path, required: tuple[str, ...], what: str) -> tuple[dict[str, pa.Array], int]:
    """(alias key -> its column of cleaned cells, row count), blank rows left out; a missing
    required column is an input error."""
    data = bytes(read_buffer(path))
    header, table = _arrow_csv(data)
    if table is None:
        header, table = _python_csv(path, data)
    index: dict[str, int] = {}
    for key, names in ALIASES.items():
        for name in names:
            if name in header:
                index[key] = header.index(name)
                break
    missing = [ALIASES[key][0] for key in required if key not in index]
    if missing:
        raise TraceError(path, f"not a {what} CSV: missing column(s) {', '.join(missing)}")
    blank = _blank_rows(table)
    table = table.filter(arrow(~blank)) if blank.any() else table
    width, n = table.num_columns, table.num_rows
    columns = {key: _cleaned(table.column(i)) if i < width else blank_cells(n) for key, i in index.items()}
    return columns, table.num_rows


def _arrow_csv(data: bytes) -> tuple[list[str], pa.Table | None]:
    """The header and the cells (all text) by pyarrow's CSV reader; None where the file needs the
    line-by-line reader (not UTF-8, a BOM, rows of another width than the header)."""
    first = data[: data.find(b"\n") + 1 or len(data)]
    if not data.strip() or data.startswith(b"\xef\xbb\xbf") or b'"' in first:
        return [], None
    try:
        header = [clean(h) for h in next(csv.reader([first.decode("utf-8")]))]
        names = [f"c{i}" for i in range(len(header))]
        table = pa_csv.read_csv(
            io.BytesIO(data),
            read_options=pa_csv.ReadOptions(column_names=names, skip_rows=1),
            parse_options=pa_csv.ParseOptions(newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )  # fmt: skip
    except (pa.ArrowInvalid, UnicodeDecodeError, csv.Error, StopIteration):
        return [], None
    return header, table


def _python_csv(path: Path, data: bytes) -> tuple[list[str], pa.Table]:
    """The header and the cells by Python's csv module (short rows padded with empty cells)."""
    try:
        rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise TraceError(path, f"unreadable CSV ({exc})") from None
    if not rows:
        raise TraceError(path, "empty file")
    header = [clean(h) for h in rows[0]]
    width = max(len(header), *(len(row) for row in rows))
    cells = [[row[i] if i < len(row) else "" for row in rows[1:]] for i in range(width)]
    return header, pa.table({f"c{i}": strings(c) for i, c in enumerate(cells)})


def _blank_rows(table: pa.Table) -> np.ndarray:
    """Rows whose every cell is blank (looked for among the rows with a blank first cell)."""
    blank = np.zeros(table.num_rows, dtype=bool)
    if not table.num_columns:
        return blank
    candidates = np.flatnonzero(_blank(table.column(0)))
    if len(candidates):
        rest = table.take(arrow(candidates))
        blank[candidates] = np.logical_and.reduce([_blank(column) for column in rest.columns])
    return blank


def _blank(column: pa.ChunkedArray) -> np.ndarray:
    # compute functions on a ChunkedArray, or with a Python scalar, import pandas (0.5 s): one Array
    # each, compared in numpy
    trimmed = pc.utf8_trim_whitespace(column.combine_chunks())
    return numeric(pc.utf8_length(trimmed), null=-1) == 0


def _cleaned(column: pa.ChunkedArray) -> pa.Array:
    """Cells without the TABs, spaces and literal quotes msprof wraps values in (as `headers.clean`)."""
    return pc.utf8_trim_whitespace(pc.utf8_trim(pc.utf8_trim_whitespace(column.combine_chunks()), '"'))


def read_kernel_details(path: Path) -> Kernels:
    """op_summary_*.csv or kernel_details.csv: one row per operator task; a row whose start or
    duration is unusable is left out (counted)."""
    cells, n = read_csv(path, KERNEL_REQUIRED, "op_summary / kernel_details")
    column = _columns(path, cells, n)
    start, dur = column.times("start_us"), column.times("duration_us")
    keep = (start != checked.INVALID_NS) & (dur != checked.INVALID_NS)
    cells = {key: values.filter(arrow(keep)) for key, values in cells.items()}
    column = _columns(path, cells, int(keep.sum()))
    attributes = {key: column.texts(key) for key in ("core_type", "op_type", "op_state", "input_dtypes")}
    attributes["input_shapes"] = column.texts("input_shapes")
    attributes.update(
        block_dim=column.ints("block_dim", 0), mix_block_dim=column.ints("mix_block_dim", 0),
        wait_ns=column.optional_times("wait_us"),
    )  # fmt: skip
    return Kernels(
        name=column.names("name"), start_ns=start[keep], dur_ns=dur[keep], step=column.ints("step"),
        stream=column.ints("stream"), task_id=column.ints("task_id"),
        device=column.ints("device", 0, checked.INT32_MAX), attributes=attributes,
    )  # fmt: skip


class _columns:
    """The conversions of one file's cells by alias key: warnings name the file and the column."""

    def __init__(self, path: Path, cells: dict[str, pa.Array], n: int) -> None:
        self.path, self.cells, self.n = path, cells, n

    def field(self, key: str) -> str:
        return f"{self.path.name} {ALIASES[key][0]}"

    def cell(self, key: str) -> pa.Array:
        return self.cells[key] if key in self.cells else blank_cells(self.n)

    def times(self, key: str) -> np.ndarray:
        field = self.field(key)
        return us_column_to_ns(self.cell(key), field, lambda cell: event_us_to_ns(cell.decode(), field))

    def optional_times(self, key: str) -> np.ndarray:
        return optional_us_column_to_ns(self.cell(key), self.field(key))

    def ints(self, key: str, low: int = checked.INT64_MIN, high: int = checked.INT64_MAX) -> np.ndarray:
        return text_ints(self.cell(key), self.field(key), low, high)

    def texts(self, key: str) -> Codes:
        return Codes.of_cells(self.cell(key), lambda value: _text(value, self.field(key)))

    def names(self, key: str) -> np.ndarray:
        return distinct_cells(self.cell(key), lambda value: checked.text(value, self.field(key)))


def _rows(path: Path, required: tuple[str, ...], what: str) -> tuple[set[str], list[dict[str, str]]]:
    """The alias keys present and the rows (alias key -> cleaned cell) of a small summary CSV."""
    cells, n = read_csv(path, required, what)
    lists = {key: values.to_pylist() for key, values in cells.items()}
    return set(cells), [{key: values[i] for key, values in lists.items()} for i in range(n)]


def _cells(path: Path, row: dict[str, str]):
    """For one row: alias key -> (cleaned cell, field name for the warnings: file and column)."""
    return lambda key: (row.get(key, ""), f"{path.name} {ALIASES[key][0]}")


def read_step_trace_time(path: Path) -> list[dict[str, int | str | None]]:
    """step_trace_time.csv: per step Computing / Communication / Free / Stage ... in ns."""
    index, rows = _rows(path, STEP_TRACE_REQUIRED, "step_trace_time")
    result = []
    for row in rows:
        cell = _cells(path, row)
        entry: dict[str, int | str | None] = {"step": checked.text(*cell("step_name"))}
        if "device" in index:
            entry["device"] = to_int(*cell("device"), 0, checked.INT32_MAX)
        for key in STEP_TRACE_FIELDS:
            entry[f"{key}_ns"] = us_to_ns(*cell(key)) if key in index else None
        result.append(entry)
    return result


def read_op_statistic(path: Path) -> list[dict[str, object]]:
    """op_statistic*.csv: per OP Type and core type, count and total time."""
    labels = {"op_type": "stat_op_type", "core_type": "stat_core_type"}
    return _statistic(path, OP_STATISTIC_REQUIRED, "op_statistic", labels)


def read_api_statistic(path: Path) -> list[dict[str, object]]:
    """api_statistic*.csv: per CANN API (level, name), count and total time."""
    return _statistic(path, API_STATISTIC_REQUIRED, "api_statistic", {"level": "level", "api": "api_name"})


def _statistic(
    path: Path, required: tuple[str, ...], kind: str, labels: dict[str, str]
) -> list[dict[str, object]]:
    """Rows of a statistic CSV: the label cells, then count and total time (ns); blank rows skipped."""
    _, rows = _rows(path, required, kind)
    result = []
    for row in rows:
        cell = _cells(path, row)
        labelled = {key: checked.text(*cell(column)) for key, column in labels.items()}
        counts = {"count": to_int(*cell("count"), 0), "total_ns": us_to_ns(*cell("total_us"))}
        result.append(labelled | counts)
    return result


def _text(value: str, field: str) -> str:
    """A text cell with N/A as empty (cut when too long, counted); shapes keep their `;` and `,`."""
    return "" if value in ("N/A", "NA") else checked.text(value, field).replace('"', "")
