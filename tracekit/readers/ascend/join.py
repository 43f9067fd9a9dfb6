"""op_summary / kernel_details rows joined to the timeline's device tasks, or read as the only events.

Both work on whole columns: the join is three look-ups of sorted keys, not a scan per row.
"""

from __future__ import annotations

import numpy as np

from tracekit.model.schema import NONE, Kind
from tracekit.readers.ascend.rows import EventRows
from tracekit.readers.ascend.scalars import Codes
from tracekit.readers.ascend.summaries import Kernels
from tracekit.readers.ascend.timeline import COMMUNICATION_LAYERS, HARDWARE

JOIN_TOLERANCE_NS = 1000
_COMMUNICATION_CORES = ("HCCL", "COMMUNICATION")


def join_kernels(rows: EventRows, kernels: Kernels) -> int:
    """Attach each op_summary / kernel_details row to its device task; returns how many matched.

    A row matches the device task with the same start (exact ns) and name (the first such task);
    failing that, the only compute or communication task starting at that instant; failing that,
    the compute or communication task of that name starting nearest, within JOIN_TOLERANCE_NS
    (torch_npu writes collectives' starts 1 ns apart; at equal distance, the earlier row). A task
    matched by several rows takes the attributes of the last.
    """
    columns = rows.columns()
    tasks = np.flatnonzero(columns["layer"].among((HARDWARE, *COMMUNICATION_LAYERS)))
    task_code, kernel_code = _name_codes(columns["name"].take(tasks), kernels.name)
    starts = columns["start_ns"]
    row = _first_with(tasks, starts[tasks], task_code, kernels.start_ns, kernel_code)
    is_busy = np.isin(columns["kind"][tasks], [Kind.KERNEL, Kind.COMMUNICATION])
    busy, busy_code = tasks[is_busy], task_code[is_busy]
    open_ = row < 0
    row[open_] = _only_at(busy, starts[busy], kernels.start_ns[open_])
    open_ = row < 0
    row[open_] = _nearest(busy, starts[busy], busy_code, kernels.start_ns[open_], kernel_code[open_])
    matched = np.flatnonzero(row >= 0)
    last = len(matched) - 1 - np.unique(row[matched][::-1], return_index=True)[1]
    chosen = matched[last]
    rows.set_attributes(row[chosen], kernels.attributes_at(chosen))
    return len(matched)


def _name_codes(tasks: Codes, kernels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes of the tasks' and the kernels' names, equal where the names are."""
    both = Codes.joined([tasks, Codes.of(kernels.tolist())]).codes
    return both[: len(tasks)], both[len(tasks) :]


def _first_with(
    rows: np.ndarray, starts: np.ndarray, codes: np.ndarray, want_start: np.ndarray, want_code: np.ndarray
) -> np.ndarray:
    """For each wanted (start, name code): the first of `rows` with both, else -1."""
    order = np.lexsort((rows, starts, codes))
    keys, wanted = _pair_keys(codes[order], starts[order], want_code, want_start)
    return _look_up(keys, rows[order], wanted)


def _only_at(rows: np.ndarray, starts: np.ndarray, want_start: np.ndarray) -> np.ndarray:
    """For each wanted start: the one row of `rows` starting then, else -1 (none or several)."""
    order = np.argsort(starts, kind="stable")
    sorted_starts = starts[order]
    first = np.searchsorted(sorted_starts, want_start, side="left")
    last = np.searchsorted(sorted_starts, want_start, side="right")
    return np.where(last - first == 1, rows[order][np.minimum(first, max(len(rows) - 1, 0))], -1)


def _nearest(
    rows: np.ndarray, starts: np.ndarray, codes: np.ndarray, want_start: np.ndarray, want_code: np.ndarray
) -> np.ndarray:
    """For each wanted (start, name code): the row of that name starting nearest, within the
    tolerance (at equal distance the earlier row), else -1."""
    result = np.full(len(want_start), -1, dtype=np.int64)
    order = np.lexsort((rows, starts, codes))
    rows, starts, codes = rows[order], starts[order], codes[order]
    for code in np.unique(want_code):
        lo, hi = np.searchsorted(codes, code, "left"), np.searchsorted(codes, code, "right")
        if lo == hi:
            continue
        mine = np.flatnonzero(want_code == code)
        result[mine] = _nearest_in(rows[lo:hi], starts[lo:hi], want_start[mine])
    return result


def _nearest_in(rows: np.ndarray, starts: np.ndarray, want: np.ndarray) -> np.ndarray:
    """Within one name (rows sorted by start, then row): the nearest start within the tolerance."""
    right = np.searchsorted(starts, want, side="left")  # first start >= want: its run's first row
    left_end = right - 1  # the last start < want; its run's first row:
    left = np.searchsorted(starts, starts[np.maximum(left_end, 0)], side="left")
    candidates = []
    for at, present in ((left, left_end >= 0), (right, right < len(starts))):
        at = np.minimum(at, len(starts) - 1)
        distance = np.abs(starts[at] - want)
        ok = present & (distance <= JOIN_TOLERANCE_NS)
        candidates.append((np.where(ok, distance, np.iinfo(np.int64).max), np.where(ok, rows[at], -1)))
    (d_left, r_left), (d_right, r_right) = candidates
    take_left = (d_left < d_right) | (
        (d_left == d_right) & (r_left >= 0) & ((r_left < r_right) | (r_right < 0))
    )
    return np.where(take_left, r_left, r_right)


def _pair_keys(
    codes: np.ndarray, starts: np.ndarray, want_code: np.ndarray, want_start: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The (code, start) pairs of the rows and of the wanted, as int64 keys ordered as the pairs are:
    code x (number of starts) + the start's rank among all starts (equal starts, equal ranks; codes
    are below the number of rows)."""
    every = np.sort(np.concatenate([starts, want_start]))
    rank = lambda values: np.searchsorted(every, values)  # noqa: E731
    width = max(len(every), 1)
    return codes * width + rank(starts), want_code * width + rank(want_start)


def _look_up(keys: np.ndarray, values: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """values[i] for the first keys[i] == each wanted key (keys sorted), else -1."""
    if not len(keys):
        return np.full(len(wanted), -1, dtype=np.int64)
    at = np.minimum(np.searchsorted(keys, wanted, side="left"), len(keys) - 1)
    return np.where(keys[at] == wanted, values[at], -1)


def kernels_as_events(rows: EventRows, kernels: Kernels, device: int) -> list[int]:
    """op_summary / kernel_details as the only source: each row a device task, each Step Id a span."""
    hcom = np.fromiter((name.startswith("hcom_") for name in kernels.name), dtype=bool, count=len(kernels))
    communication = kernels.attributes["core_type"].among(_COMMUNICATION_CORES) | hcom
    on = np.where(kernels.device != NONE, kernels.device, device)
    rows.add_block(
        kernels.name, start_ns=kernels.start_ns, dur_ns=kernels.dur_ns,
        kind=np.where(communication, Kind.COMMUNICATION, Kind.KERNEL), device=on, stream=kernels.stream,
        thread=kernels.stream, step=kernels.step, layer="kernel_details", **kernels.attributes,
    )  # fmt: skip
    _step_spans(rows, on, kernels)
    return sorted(set(on.tolist()))


def _step_spans(rows: EventRows, on: np.ndarray, kernels: Kernels) -> None:
    """One ProfilerStep#N span per (device, Step Id): first start to last end of its rows."""
    stepped = np.flatnonzero(kernels.step != NONE)
    if not len(stepped):
        return
    order = stepped[np.lexsort((kernels.step[stepped], on[stepped]))]
    device, step = on[order], kernels.step[order]
    heads = np.flatnonzero(np.r_[True, (device[1:] != device[:-1]) | (step[1:] != step[:-1])])
    start = np.minimum.reduceat(kernels.start_ns[order], heads)
    end = np.maximum.reduceat(kernels.start_ns[order] + kernels.dur_ns[order], heads)
    names = np.array([f"ProfilerStep#{s}" for s in step[heads].tolist()], dtype=object)
    rows.add_block(
        names, start_ns=start, dur_ns=end - start, kind=Kind.STEP, device=device[heads], step=step[heads],
        layer="kernel_details",
    )  # fmt: skip
