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

from tracekit.errors import TraceError
from tracekit.model.schema import NONE
from tracekit.readers import checked
from tracekit.readers.ascend.rows import OpAttributes
from tracekit.readers.ascend.values import clean, event_us_to_ns, to_int, us_to_ns
from tracekit.readers.source import read_buffer

ALIASES: dict[str, tuple[str, ...]] = {
    # op_summary_*.csv (msprof) and kernel_details.csv (torch_npu)
    "name": ("Name", "Op Name"),
    "op_type": ("Type", "OP Type"),
    "core_type": ("Accelerator Core", "Task Type"),
    "op_state": ("OP State",),
    "start_us": ("Start Time(us)", "Task Start Time(us)", "Task Start Time"),
    "duration_us": ("Duration(us)", "Task Duration(us)"),
    "wait_us": ("Wait Time(us)", "Task Wait Time(us)"),
    "block_dim": ("Block Dim", "Block Num"),
    "mix_block_dim": ("Mix Block Dim", "Mix Block Num"),
    "input_dtypes": ("Input Data Types",),
    "input_shapes": ("Input Shapes",),
    "step": ("Step Id",),
    "stream": ("Stream ID", "Stream Id", "Physic Stream Id"),
    "task_id": ("Task ID", "Task Id"),
    "device": ("Device_id",),
    # step_trace_time.csv
    "step_name": ("Step",),
    "computing": ("Computing",),
    "communication_not_overlapped": ("Communication(Not Overlapped)",),
    "overlapped": ("Overlapped",),
    "communication": ("Communication",),
    "free": ("Free",),
    "stage": ("Stage",),
    "bubble": ("Bubble",),
    "preparing": ("Preparing",),
    # op_statistic / api_statistic
    "stat_op_type": ("OP Type",),
    "stat_core_type": ("Core Type",),
    "count": ("Count",),
    "total_us": ("Total Time(us)", "Time(us)"),
    "level": ("Level",),
    "api_name": ("API Name",),
}

KERNEL_REQUIRED = ("name", "start_us", "duration_us")
STEP_TRACE_REQUIRED = ("step_name", "computing", "communication_not_overlapped", "free")
OP_STATISTIC_REQUIRED = ("stat_op_type", "stat_core_type", "count", "total_us")
API_STATISTIC_REQUIRED = ("level", "api_name", "count", "total_us")
STEP_TRACE_FIELDS = (
    "computing", "communication_not_overlapped", "overlapped", "communication", "free",
    "stage", "bubble", "preparing",
)  # fmt: skip


@dataclass
class KernelRow:
    """One row of op_summary / kernel_details: a device task of an operator."""

    name: str
    start_ns: int
    dur_ns: int
    attributes: OpAttributes
    step: int = NONE
    stream: int = NONE
    task_id: int = NONE
    device: int = NONE


@dataclass
class Summaries:
    """Everything the summary files of one rank say."""

    kernels: list[KernelRow] = field(default_factory=list)
    step_trace_time: list[dict[str, int | str | None]] = field(default_factory=list)
    op_statistic: list[dict[str, object]] = field(default_factory=list)
    api_statistic: list[dict[str, object]] = field(default_factory=list)


def header_roles(header: list[str]) -> set[str]:
    """The alias keys a header provides."""
    present = {clean(h) for h in header}
    return {key for key, names in ALIASES.items() if any(n in present for n in names)}


def read_csv(path: Path, required: tuple[str, ...], what: str) -> tuple[dict[str, int], list[list[str]]]:
    """(alias key -> column index, rows); a missing required column is an input error."""
    try:
        rows = list(csv.reader(io.StringIO(bytes(read_buffer(path)).decode("utf-8"), newline="")))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise TraceError(path, f"unreadable CSV ({exc})") from None
    if not rows:
        raise TraceError(path, "empty file")
    header = [clean(h) for h in rows[0]]
    index: dict[str, int] = {}
    for key, names in ALIASES.items():
        for name in names:
            if name in header:
                index[key] = header.index(name)
                break
    missing = [ALIASES[key][0] for key in required if key not in index]
    if missing:
        raise TraceError(path, f"not a {what} CSV: missing column(s) {', '.join(missing)}")
    return index, rows[1:]


def _cell(row: list[str], index: dict[str, int], key: str) -> str:
    position = index.get(key)
    return clean(row[position]) if position is not None and position < len(row) else ""


def read_kernel_details(path: Path) -> list[KernelRow]:
    """op_summary_*.csv or kernel_details.csv: one row per operator task."""
    index, rows = read_csv(path, KERNEL_REQUIRED, "op_summary / kernel_details")
    result = []
    for row in rows:
        if not any(cell.strip() for cell in row):
            continue
        cell = _cells(path, row, index)
        start, dur = event_us_to_ns(*cell("start_us")), event_us_to_ns(*cell("duration_us"))
        if checked.INVALID_NS in (start, dur):
            continue  # counted by the conversion
        wait = us_to_ns(*cell("wait_us"))
        attributes = OpAttributes(
            core_type=_text(*cell("core_type")),
            op_type=_text(*cell("op_type")),
            op_state=_text(*cell("op_state")),
            input_dtypes=_text(*cell("input_dtypes")),
            input_shapes=_text(*cell("input_shapes")),
            block_dim=to_int(*cell("block_dim"), 0),
            mix_block_dim=to_int(*cell("mix_block_dim"), 0),
            wait_ns=NONE if wait is None else wait,
        )
        result.append(
            KernelRow(
                name=checked.text(*cell("name")),
                start_ns=start,
                dur_ns=dur,
                attributes=attributes,
                step=to_int(*cell("step")),
                stream=to_int(*cell("stream")),
                task_id=to_int(*cell("task_id")),
                device=to_int(*cell("device"), 0, checked.INT32_MAX),
            )
        )
    return result


def _cells(path: Path, row: list[str], index: dict[str, int]):
    """For one row: alias key -> (cleaned cell, field name for the warnings: file and column)."""
    return lambda key: (_cell(row, index, key), f"{path.name} {ALIASES[key][0]}")


def read_step_trace_time(path: Path) -> list[dict[str, int | str | None]]:
    """step_trace_time.csv: per step Computing / Communication / Free / Stage ... in ns."""
    index, rows = read_csv(path, STEP_TRACE_REQUIRED, "step_trace_time")
    result = []
    for row in rows:
        if not any(cell.strip() for cell in row):
            continue
        cell = _cells(path, row, index)
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
    index, rows = read_csv(path, required, kind)
    result = []
    for row in rows:
        if any(cell.strip() for cell in row):
            cell = _cells(path, row, index)
            labelled = {key: checked.text(*cell(column)) for key, column in labels.items()}
            counts = {"count": to_int(*cell("count"), 0), "total_ns": us_to_ns(*cell("total_us"))}
            result.append(labelled | counts)
    return result


def _text(value: str, field: str) -> str:
    """A text cell with N/A as empty (cut when too long, counted); shapes keep their `;` and `,`."""
    return "" if value in ("N/A", "NA") else checked.text(value, field).replace('"', "")
