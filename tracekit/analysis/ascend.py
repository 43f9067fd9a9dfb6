"""Ascend-only findings (issue 3, item 5), each with the numbers that support it.

Pure functions of the event table (with the optional Ascend columns, docs/model.md) and of
`Trace.metadata["ascend"]`; they return plain data for the `ascend` block of the JSON document.
Every finding says whether it was `evaluated` (the data allows it) and `detected` (it fires).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from tracekit.analysis.ascend_breakdown import group_rows, segment_lengths, step_bounds, time_breakdown
from tracekit.analysis.columns import Columns
from tracekit.analysis.stats import nearest_rank, ratio
from tracekit.model.arrays import numeric
from tracekit.model.intervals import total_length, union
from tracekit.model.schema import DEVICE_KINDS, NONE, CopyDirection, Kind
from tracekit.model.trace import row_texts

H2D_SEPARATE_COPIES_MIN = 2  # more than one H2D copy in a step: the copies could be one batched copy
GLOBAL_LIMIT_SHARE_MIN = 0.5  # share of a core class's ops sitting at the same, below-core-count block dim
TOP = 10
AI_CPU = "AI_CPU"
CUBE_CORES = frozenset({"AI_CORE", "MIX_AIC"})
VECTOR_CORES = frozenset({"AI_VECTOR_CORE", "MIX_AIV"})
_STRING_COLUMNS = ("layer", "task_type", "core_type", "op_type", "op_state", "input_dtypes", "input_shapes")
_INT_COLUMNS = ("block_dim", "wait_ns")

DEFINITIONS = {
    "h2d": "MEMCPY tasks with direction H2D (MEMCPY_ASYNC of type PCIE_DMA_SQE unless the trace gives "
    "another direction), per step: count, bytes, sum of durations, |union| and "
    "share = |union| / step device span "
    f"(first to last device operation of the step); detected when a step has >= {H2D_SEPARATE_COPIES_MIN}",
    "ai_cpu": "operators whose core type (op_summary Task Type / kernel_details Accelerator Core) is AI_CPU",
    "dynamic_shape": "operators with OP State dynamic; task_wait_ns = sum of op_summary Task Wait Time "
    "(device idle before the task), idle_before_ns = the same gap measured on the timeline",
    "int64": "operators with an INT64 input (Input Data Types)",
    "block_dim": "AI Core / vector operators whose Block Dim is below the core count "
    "(info.json.N ai_core_num, "
    "aiv_num for vector ops) or not a multiple of it; a global limit (ge.aicoreNum) is likely when "
    f">= {GLOBAL_LIMIT_SHARE_MIN:.0%} of a core class's operators share one block dim below the core count",
    "time_breakdown": "per step and device: compute = |union of compute tasks|, "
    "communication = |union of collectives|, "
    "communication_not_overlapped = |collectives minus compute|, free = span - |union of both|, "
    "span = first to last "
    "compute or communication task; compared with the Overlap Analysis layer and step_trace_time.csv",
}


@dataclass(frozen=True)
class _View:
    """The columns the findings read, as numpy arrays; Ascend string columns as object arrays."""

    start: np.ndarray
    dur: np.ndarray
    kind: np.ndarray
    device: np.ndarray
    step: np.ndarray
    direction: np.ndarray
    bytes: np.ndarray
    name: np.ndarray
    text: dict[str, np.ndarray]
    ints: dict[str, np.ndarray]
    launch: np.ndarray
    end: np.ndarray

    @classmethod
    def of(cls, table: pa.Table, cols: Columns) -> _View:
        """The Ascend columns of `table`; the canonical ones come from the analysis' `cols`."""
        n = table.num_rows
        text = {c: row_texts(table, c) for c in _STRING_COLUMNS}
        ints = {c: numeric(table.column(c)) if c in table.column_names else np.full(n, NONE, dtype=np.int64)
                for c in _INT_COLUMNS}  # fmt: skip
        return cls(
            start=cols.start,
            dur=cols.dur,
            kind=cols.kind,
            device=cols.device,
            step=cols.step,
            direction=cols.copy_direction,
            bytes=cols.bytes,
            name=np.array(cols.names or [""], dtype=object)[cols.name_code],
            text=text,
            ints=ints,
            launch=cols.launch,
            end=cols.end,
        )

    def operators(self) -> np.ndarray:
        """Rows of compute tasks on a device (the rows op_summary / kernel_details describe)."""
        return np.flatnonzero((self.kind == Kind.KERNEL) & (self.device != NONE))

    def op_label(self, rows: np.ndarray) -> np.ndarray:
        """OP Type where known, else the task name."""
        op_type = self.text["op_type"][rows]
        return np.where(op_type != "", op_type, self.name[rows])

    def core_type(self, rows: np.ndarray) -> np.ndarray:
        """Core type from op_summary, else the timeline's Task Type."""
        core = self.text["core_type"][rows]
        return np.where(core != "", core, self.text["task_type"][rows])


def ascend_findings(table: pa.Table, cols: Columns, metadata: dict) -> dict[str, object]:
    """Every Ascend finding of one rank; `cols` is the analysis' numpy view of the same table."""
    view = _View.of(table, cols)
    return {
        "source": {
            key: metadata.get(key)
            for key in ("producer", "rank", "events_from", "profiler_level", "kernel_details", "core_counts")
        },
        "h2d": h2d_copies(view),
        "ai_cpu": ai_cpu_operators(view, metadata.get("op_statistic_ai_cpu") or []),
        "dynamic_shape": dynamic_shape_operators(view, metadata.get("api_statistic") or []),
        "int64": int64_operators(view),
        "block_dim": block_dim_issues(view, metadata.get("core_counts")),
        "time_breakdown": time_breakdown(view, metadata.get("step_trace_time") or []),
        "definitions": DEFINITIONS,
    }


# --- H2D copies -------------------------------------------------------------------------------------


def h2d_copies(view: _View) -> dict[str, object]:
    """Host-to-device copies per step: count, sizes, time, share of the step, who issued them."""
    rows = np.flatnonzero(
        (view.kind == Kind.MEMCPY) & (view.direction == CopyDirection.H2D) & (view.device != NONE)
    )
    device_ops = np.flatnonzero(np.isin(view.kind, DEVICE_KINDS) & (view.device != NONE))
    steps, copies = group_rows(view.step, rows)
    first_op, last_end = step_bounds(view, device_ops, steps)  # every copy step has device ops
    first_compute, _ = step_bounds(view, device_ops[view.kind[device_ops] == Kind.KERNEL], steps)
    owner = np.repeat(np.arange(len(steps)), [len(c) for c in copies])
    flat = np.concatenate(copies) if copies else rows
    busy = segment_lengths(owner, view.start[flat], view.end[flat], len(steps))
    per_step = [
        _h2d_step(view, int(step), in_step, int(busy[i]), int(last_end[i] - first_op[i]), first_compute[i])
        for i, (step, in_step) in enumerate(zip(steps, copies, strict=True))
    ]
    counts = [s["count"] for s in per_step]
    return {
        "evaluated": True,
        "detected": bool(counts) and max(counts) >= H2D_SEPARATE_COPIES_MIN,
        "count": len(rows),
        "total_ns": int(view.dur[rows].sum()),
        "busy_ns": total_length(union(view.start[rows], view.end[rows])),
        **_sizes(view.bytes[rows]),
        "max_per_step": max(counts, default=0),
        "launched_by": _launchers(view, rows),
        "largest": [
            {"start_ns": int(view.start[r]), "dur_ns": int(view.dur[r]), "bytes": _known(view.bytes[r])}
            for r in rows[np.argsort(-view.dur[rows], kind="stable")][:5]
        ],
        "per_step": per_step,
    }


def _h2d_step(
    view: _View, step: int, in_step: np.ndarray, busy: int, span: int, first_compute: int
) -> dict[str, object]:
    return {
        "step": None if step == NONE else int(step),
        "count": len(in_step),
        "before_first_compute": int((view.start[in_step] < first_compute).sum()),
        "total_ns": int(view.dur[in_step].sum()),
        "busy_ns": busy,
        "step_span_ns": span,
        "share": ratio(busy, span),
        **_sizes(view.bytes[in_step]),
    }


def _sizes(values: np.ndarray) -> dict[str, object]:
    known = np.sort(values[values >= 0])
    return {
        "bytes": int(known.sum()),
        "bytes_unknown_count": int((values < 0).sum()),
        "bytes_min": int(known[0]) if len(known) else None,
        "bytes_p50": nearest_rank(known, 50) if len(known) else None,
        "bytes_max": int(known[-1]) if len(known) else None,
    }


def _known(value: int) -> int | None:
    return int(value) if value >= 0 else None


def _launchers(view: _View, rows: np.ndarray) -> dict[str, int]:
    calls = view.launch[rows]
    names = Counter(str(view.name[c]) for c in calls[calls != NONE])
    if (calls == NONE).any():
        names["(no launch call in trace)"] = int((calls == NONE).sum())
    return dict(names.most_common())


# --- operators ----------------------------------------------------------------------------------------


def ai_cpu_operators(view: _View, op_statistic: list[dict]) -> dict[str, object]:
    """Operators that ran on the AI CPU, by operator type, with time and count."""
    ops = view.operators()
    cores = view.core_type(ops)
    evaluated = bool((cores != "").any())
    rows = ops[cores == AI_CPU]
    compute_ns = int(view.dur[ops].sum())
    return {
        "evaluated": evaluated,
        "detected": bool(len(rows)) if evaluated else None,
        "count": len(rows),
        "total_ns": int(view.dur[rows].sum()),
        "share_of_compute": ratio(int(view.dur[rows].sum()), compute_ns),
        "by_op_type": _groups(view, rows),
        "op_statistic": op_statistic,
    }


def dynamic_shape_operators(view: _View, api_statistic: list[dict]) -> dict[str, object]:
    """Dynamic-shape operators and the device idle time (host scheduling wait) before each."""
    ops = view.operators()
    states = view.text["op_state"][ops]
    lower = {s: s.lower() for s in set(states.tolist())}
    state = np.array([lower[s] for s in states], dtype=object)
    evaluated = bool(np.isin(state, ["dynamic", "static"]).any())
    rows = ops[state == "dynamic"]
    wait = view.ints["wait_ns"][rows]
    idle = _idle_before(view, rows)
    steps = np.unique(view.step[rows][view.step[rows] != NONE])
    order = rows[np.argsort(-np.maximum(wait, idle), kind="stable")][:TOP]
    return {
        "evaluated": evaluated,
        "detected": bool(len(rows)) if evaluated else None,
        "count": len(rows),
        "static_count": int((state == "static").sum()),
        "all_dynamic": bool(evaluated and len(rows) == int(np.isin(state, ["dynamic", "static"]).sum())),
        "total_ns": int(view.dur[rows].sum()),
        "task_wait_ns": int(wait[wait >= 0].sum()) if (wait >= 0).any() else None,
        "idle_before_ns": int(idle.sum()),
        "steps": len(steps),
        "task_wait_per_step_ns": ratio(int(wait[wait >= 0].sum()), len(steps)) if (wait >= 0).any() else None,
        "idle_before_per_step_ns": ratio(int(idle.sum()), len(steps)),
        "launch_delay_p50_ns": _launch_delay_p50(view, rows),
        "largest_waits": [
            {
                "name": str(view.name[r]),
                "op_type": str(view.text["op_type"][r]),
                "start_ns": int(view.start[r]),
                "task_wait_ns": _known(view.ints["wait_ns"][r]),
                "idle_before_ns": int(idle[np.flatnonzero(rows == r)[0]]),
            }
            for r in order
        ],
        "host_compile_apis": [row for row in api_statistic if "Compile" in str(row.get("api", ""))],
    }


def _idle_before(view: _View, rows: np.ndarray) -> np.ndarray:
    """Device idle gap just before each row: its start - the latest end of earlier device operations."""
    result = np.zeros(len(rows), dtype=np.int64)
    for device in np.unique(view.device[rows]):
        ops = np.flatnonzero(np.isin(view.kind, DEVICE_KINDS) & (view.device == device))
        ops = ops[np.argsort(view.start[ops], kind="stable")]
        running_end = np.maximum.accumulate(view.end[ops])
        mine = np.flatnonzero(view.device[rows] == device)
        slot = np.searchsorted(view.start[ops], view.start[rows[mine]], side="left") - 1
        previous = np.where(slot >= 0, running_end[np.maximum(slot, 0)], view.start[rows[mine]])
        result[mine] = np.maximum(view.start[rows[mine]] - previous, 0)
    return result


def _launch_delay_p50(view: _View, rows: np.ndarray) -> int | None:
    linked = rows[view.launch[rows] != NONE]
    if not len(linked):
        return None
    calls = view.launch[linked]
    delay = np.sort(np.maximum(view.start[linked] - (view.start[calls] + view.dur[calls]), 0))
    return nearest_rank(delay, 50)


def int64_operators(view: _View) -> dict[str, object]:
    """Operators with an INT64 input, whose int32 form is usually much cheaper on the vector units."""
    ops = view.operators()
    dtypes = view.text["input_dtypes"][ops]
    evaluated = bool((dtypes != "").any())
    has_int64 = {d: _has_int64(d) for d in set(dtypes.tolist())}  # once per distinct text
    flagged = np.fromiter((has_int64[d] for d in dtypes), dtype=bool, count=len(dtypes))
    rows = ops[flagged]
    return {
        "evaluated": evaluated,
        "detected": bool(len(rows)) if evaluated else None,
        "count": len(rows),
        "total_ns": int(view.dur[rows].sum()),
        "by_op_type": _groups(view, rows),
    }


def _has_int64(dtypes: str) -> bool:
    return any(t.strip().upper().removeprefix("DT_") == "INT64" for t in dtypes.replace(",", ";").split(";"))


def block_dim_issues(view: _View, core_counts: dict | None) -> dict[str, object]:
    """Operators that leave AI Cores idle: block dim below, or not a multiple of, the core count."""
    ops = view.operators()
    cores = view.core_type(ops)
    block = view.ints["block_dim"][ops]
    usable = (block > 0) & np.isin(cores, list(CUBE_CORES | VECTOR_CORES))
    ops, cores, block = ops[usable], cores[usable], block[usable]
    classes = {"cube": np.isin(cores, list(CUBE_CORES)), "vector": np.isin(cores, list(VECTOR_CORES))}
    observed = {name: _block_dims(block[mask]) for name, mask in classes.items()}
    if not core_counts:
        return {"evaluated": False, "detected": None, "core_counts": None, "observed": observed}
    ai_core = int(core_counts.get("ai_core") or 0)
    vector = int(core_counts.get("vector_core") or 0) or ai_core
    core_num = np.where(classes["vector"], vector, ai_core)
    valid = core_num > 0
    below = valid & (block < core_num)
    uneven = valid & (block > core_num) & (block % np.maximum(core_num, 1) != 0)
    flagged = below | uneven
    limits = {
        name: _global_limit(block[mask], vector if name == "vector" else ai_core)
        for name, mask in classes.items()
    }
    capped = np.zeros(len(ops), dtype=bool)
    for name, mask in classes.items():
        cap = limits[name]["likely_limit"]
        if cap is not None:
            capped |= mask & (block == cap)
    order = np.flatnonzero(flagged)[np.argsort(-view.dur[ops[flagged]], kind="stable")][:TOP]
    return {
        "evaluated": True,
        "detected": bool(flagged.any()),
        "core_counts": {"ai_core": ai_core, "vector_core": vector},
        "observed": observed,
        "count": int(flagged.sum()),
        "below_core_count": int(below.sum()),
        "not_a_multiple": int(uneven.sum()),
        "total_ns": int(view.dur[ops[flagged]].sum()),
        "share_of_compute": ratio(int(view.dur[ops[flagged]].sum()), int(view.dur[view.operators()].sum())),
        "global_limit": limits,
        "explained_by_global_limit": int((flagged & capped).sum()),
        "largest": [
            {
                "name": str(view.name[ops[i]]),
                "op_type": str(view.text["op_type"][ops[i]]),
                "core_type": str(cores[i]),
                "block_dim": int(block[i]),
                "core_count": int(core_num[i]),
                "dur_ns": int(view.dur[ops[i]]),
            }
            for i in order
        ],
    }


def _block_dims(values: np.ndarray) -> dict[str, object]:
    common = Counter(int(v) for v in values).most_common(1)
    return {
        "operators": len(values),
        "max": int(values.max()) if len(values) else None,
        "most_common": common[0][0] if common else None,
    }


def _global_limit(values: np.ndarray, core_count: int) -> dict[str, object]:
    """A cap like ge.aicoreNum shows as the largest block dim, below the core count, shared by most ops."""
    if not len(values) or core_count <= 0:
        return {"max_block_dim": None, "share_at_max": None, "likely_limit": None}
    top = int(values.max())
    share = float((values == top).mean())
    likely = top < core_count and share >= GLOBAL_LIMIT_SHARE_MIN
    return {"max_block_dim": top, "share_at_max": share, "likely_limit": top if likely else None}


def _groups(view: _View, rows: np.ndarray) -> list[dict[str, object]]:
    labels = view.op_label(rows)
    groups = []
    distinct, first, code = (
        np.unique(labels, return_index=True, return_inverse=True) if len(rows) else ([], [], [])
    )
    by_label = dict(zip(*group_rows(np.asarray(code), np.arange(len(rows))), strict=True))
    for label_code in np.argsort(first, kind="stable"):  # labels in order of first appearance
        label, mine = distinct[label_code], rows[by_label[label_code]]
        groups.append(
            {
                "op_type": str(label),
                "count": len(mine),
                "total_ns": int(view.dur[mine].sum()),
                "max_ns": int(view.dur[mine].max()),
                "core_types": sorted(set(view.core_type(mine)) - {""}),
                "input_dtypes": sorted(set(view.text["input_dtypes"][mine]) - {""})[:3],
                "input_shapes": sorted(set(view.text["input_shapes"][mine]) - {""})[:3],
            }
        )
    return sorted(groups, key=lambda g: -g["total_ns"])[:TOP]
