"""Communication of one device (docs/metrics.md, "Communication"): an exclusive split of the device
window into compute, communication, copies and idle; how much communication compute hides; and the
collectives by type, with bytes and NCCL's bus bandwidth where the trace gives sizes."""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa

from tracekit.analysis.columns import Columns
from tracekit.analysis.stats import ratio
from tracekit.model.arrays import arrow
from tracekit.model.intervals import Intervals, intersection, subtract, total_length, union
from tracekit.model.schema import NONE, Kind

SPLIT_PRIORITY = ("compute", "communication", "copies", "idle")
"""A time point of the window belongs to the first of these that runs then (HTA/TraceLens order)."""
COLLECTIVE_TYPES = (
    "all_reduce", "all_gather", "reduce_scatter", "all_to_all", "broadcast", "send_recv", "other",
)  # fmt: skip
MAX_INSTANCES = 2000
"""Collective instances kept per device, first by start (enough to match a few steps across ranks)."""

_TYPE_PATTERNS = (
    ("all_reduce", re.compile(r"allreduce")),
    ("all_gather", re.compile(r"allgather")),
    ("reduce_scatter", re.compile(r"reducescatter")),
    ("all_to_all", re.compile(r"alltoall")),
    ("broadcast", re.compile(r"broadcast|bcast")),
    ("send_recv", re.compile(r"send|recv|receive")),
)
_NOT_ALNUM = re.compile(r"[^a-z0-9]")
_COLLECTIVE_OPERATOR = re.compile(r"^(c10d::|nccl:)")
_NCCL_RANGE = re.compile(r"^nccl[A-Z]")  # NCCL's NVTX ranges: ncclAllReduce, ncclSend, ncclGroupEnd, ...


def collective_type(name: str, collective: str = "") -> str:
    """The collective's type from its `Collective name` arg, else from the kernel or op name."""
    for text in (collective, name):
        flat = _NOT_ALNUM.sub("", text.lower())
        for kind, pattern in _TYPE_PATTERNS:
            if pattern.search(flat):
                return kind
    return "other"


def bus_factor(kind: str, ranks: int) -> float | None:
    """nccl-tests' busbw / algbw for a collective over `ranks` ranks (None when unknown):
    all-reduce 2(n-1)/n; all-gather, reduce-scatter, all-to-all (n-1)/n; broadcast, send/recv 1."""
    if ranks < 1 or kind == "other":
        return None
    if kind == "all_reduce":
        return 2 * (ranks - 1) / ranks
    if kind in ("all_gather", "reduce_scatter", "all_to_all"):
        return (ranks - 1) / ranks
    return 1.0


def communication_block(
    table: pa.Table, cols: Columns, ops: np.ndarray, lo: int, hi: int
) -> dict[str, object]:
    """The device's split, overlap, exposed communication and collectives (ops: its operations,
    [lo, hi) its window)."""
    sets = _time_sets(cols, ops)
    comm_rows = ops[cols.kind[ops] == Kind.COMMUNICATION]
    window_ns = hi - lo
    overlap_ns = total_length(intersection(sets["communication"], sets["compute"]))
    communication_ns = total_length(sets["communication"])
    exposed_ns = communication_ns - overlap_ns
    return {
        "split": exclusive_split(sets, lo, hi),
        "communication_ns": communication_ns,
        "overlap_ns": overlap_ns,
        "overlap_ratio": ratio(overlap_ns, communication_ns),
        "exposed_ns": exposed_ns,
        "exposed_share": ratio(exposed_ns, window_ns),
        "collectives": collectives_by_type(table, cols, comm_rows),
        "instances": collective_instances(table, cols, comm_rows),
    }


def _time_sets(cols: Columns, ops: np.ndarray) -> dict[str, Intervals]:
    kind = cols.kind[ops]
    groups = {
        "compute": ops[kind == Kind.KERNEL],
        "communication": ops[kind == Kind.COMMUNICATION],
        "copies": ops[(kind == Kind.MEMCPY) | (kind == Kind.MEMSET)],
    }
    return {name: union(cols.start[rows], cols.end[rows]) for name, rows in groups.items()}


def exclusive_split(sets: dict[str, Intervals], lo: int, hi: int) -> dict[str, int]:
    """Each point of [lo, hi) counted once, by SPLIT_PRIORITY: the four parts sum to hi - lo."""
    covered = Intervals.empty()
    split: dict[str, int] = {"window_ns": hi - lo}
    for name in SPLIT_PRIORITY[:-1]:
        split[f"{name}_ns"] = total_length(subtract(sets[name], covered))
        covered = union(
            np.concatenate([covered.starts, sets[name].starts]),
            np.concatenate([covered.ends, sets[name].ends]),
        )
    split["idle_ns"] = hi - lo - total_length(covered)
    return split


def _optional(table: pa.Table, name: str, rows: np.ndarray, default: object) -> list:
    if name not in table.column_names:
        return [default] * len(rows)
    return table.column(name).take(arrow(np.asarray(rows, dtype=np.int64))).to_pylist()


def _types(table: pa.Table, cols: Columns, rows: np.ndarray) -> np.ndarray:
    """Each collective's type: its `Collective name` arg, else the name of the c10d / nccl operator
    its launch call ran in (older traces launch all-to-all and reduce-scatter as SendRecv kernels),
    else its own name."""
    collectives = _optional(table, "collective", rows, "")
    callers = _calling_operators(cols, rows)
    names = [cols.names[code] for code in cols.name_code[rows]]
    return np.array(
        [collective_type(caller or n, c) for n, c, caller in zip(names, collectives, callers, strict=True)],
        dtype=object,
    )


def _calling_operators(cols: Columns, rows: np.ndarray) -> list[str]:
    """The name of the latest-starting c10d / nccl CPU operator or NCCL NVTX range holding each row's
    launch call on its thread ("" when there is none)."""
    operators = _collective_holders(cols)
    launches = cols.launch[rows]
    if not len(operators) or not (launches >= 0).any():
        return [""] * len(rows)
    operators = operators[np.argsort(cols.start[operators], kind="stable")]
    calls = np.where(launches >= 0, launches, 0)
    at = np.searchsorted(cols.start[operators], cols.start[calls], side="right") - 1
    holder = operators[np.maximum(at, 0)]
    held = (launches >= 0) & (at >= 0) & (cols.end[holder] >= cols.end[calls])
    held &= cols.thread[holder] == cols.thread[calls]
    return [cols.names[cols.name_code[h]] if ok else "" for h, ok in zip(holder, held, strict=True)]


def _collective_holders(cols: Columns) -> np.ndarray:
    """Rows that name the collective their launch calls run in: c10d:: / nccl: CPU operators
    (Kineto), and NCCL's own NVTX ranges (`ncclAllReduce`, `ncclSend`, ... in nsys exports) whose name
    gives a type (`ncclGroupEnd`, which launches a whole group, does not)."""
    operator = np.array([bool(_COLLECTIVE_OPERATOR.match(n)) for n in cols.names] or [False])
    nccl_range = np.array(
        [bool(_NCCL_RANGE.match(n)) and collective_type(n) != "other" for n in cols.names] or [False]
    )
    code = cols.name_code
    return np.flatnonzero(
        ((cols.kind == Kind.CPU_OP) & operator[code]) | ((cols.kind == Kind.MARKER) & nccl_range[code])
    )


def collectives_by_type(table: pa.Table, cols: Columns, rows: np.ndarray) -> list[dict[str, object]]:
    """Count, summed and union time, bytes and achieved bandwidths of each collective type present."""
    types = _types(table, cols, rows)
    groups = np.array(_optional(table, "group_size", rows, NONE), dtype=np.int64)
    return [
        _type_row(cols, kind, rows[types == kind], groups[types == kind])
        for kind in COLLECTIVE_TYPES
        if (types == kind).any()
    ]


def _type_row(cols: Columns, kind: str, rows: np.ndarray, groups: np.ndarray) -> dict[str, object]:
    sizes, durations = cols.bytes[rows], cols.dur[rows]
    timed = (sizes >= 0) & (durations > 0)
    factors = np.array([bus_factor(kind, int(n)) or np.nan for n in groups], dtype=np.float64)
    bus = timed & ~np.isnan(factors)
    return {
        "type": kind,
        "count": len(rows),
        "total_ns": int(durations.sum()),
        "busy_ns": total_length(union(cols.start[rows], cols.end[rows])),
        "bytes": int(sizes[sizes >= 0].sum()),
        "bytes_unknown_count": int((sizes < 0).sum()),
        "algbw_gbps": ratio(int(sizes[timed].sum()), int(durations[timed].sum())),
        "busbw_gbps": ratio(float((sizes[bus] * factors[bus]).sum()), int(durations[bus].sum())),
    }


def collective_instances(table: pa.Table, cols: Columns, rows: np.ndarray) -> dict[str, object]:
    """The first MAX_INSTANCES collectives by start, each with its type, bytes, step and sequence
    number among the step's collectives of that type (how ranks are matched, analysis/cluster.py)."""
    rows = rows[np.argsort(cols.start[rows], kind="stable")]
    types = _types(table, cols, rows)
    sequence = _sequence_numbers(cols.step[rows], types)
    kept = slice(0, MAX_INSTANCES)
    return {
        "total": len(rows),
        "type": types[kept].tolist(),
        "step": cols.step[rows][kept].tolist(),
        "sequence": sequence[kept].tolist(),
        "start_ns": cols.start[rows][kept].tolist(),
        "end_ns": cols.end[rows][kept].tolist(),
        "bytes": cols.bytes[rows][kept].tolist(),
    }


def _sequence_numbers(steps: np.ndarray, types: np.ndarray) -> np.ndarray:
    """0, 1, 2, ... over the collectives of each (step, type), in start order."""
    seen: dict[tuple[int, str], int] = {}
    numbers = np.empty(len(steps), dtype=np.int64)
    for i, key in enumerate(zip(steps.tolist(), types.tolist(), strict=True)):
        numbers[i] = seen.get(key, 0)
        seen[key] = numbers[i] + 1
    return numbers


PROFILER_TIMES = ("elapse_ns", "transit_ns", "wait_ns", "synchronization_ns", "idle_ns")
"""msprof's time split of a communication operator (communication.json): elapse = transit + wait +
idle, synchronization the part of the wait msprof counts as synchronizing with the peers."""


def profiler_communication(summary: dict | None) -> dict[str, object] | None:
    """communication.json's operators (the Ascend reader's sums by operator name) by collective type:
    count, msprof's times, wait and synchronization ratios, bytes and bandwidth per link type."""
    if not summary or not summary.get("by_name"):
        return None
    types: dict[str, dict] = {}
    for name, entry in summary["by_name"].items():
        row = types.setdefault(
            collective_type(name), {"count": 0, **dict.fromkeys(PROFILER_TIMES, 0), "links": {}}
        )
        row["count"] += entry["count"]
        for key in PROFILER_TIMES:
            row[key] += entry[key]
        for link, values in entry["links"].items():
            into = row["links"].setdefault(link, {"bytes": 0, "transit_ns": 0})
            into["bytes"] += values["bytes"]
            into["transit_ns"] += values["transit_ns"]
    return {
        "source": "communication.json",
        "operations": summary["operations"],
        "steps": summary["steps"],
        "by_type": [_profiler_type_row(kind, types[kind]) for kind in COLLECTIVE_TYPES if kind in types],
        "total_op_info": summary["total_op_info"],
    }


def _profiler_type_row(kind: str, row: dict) -> dict[str, object]:
    """msprof's ratios: wait / (wait + transit), synchronization / (synchronization + transit)."""
    links = [
        {"link": link, **values, "bandwidth_gbps": ratio(values["bytes"], values["transit_ns"])}
        for link, values in sorted(row["links"].items())
    ]
    return {
        "type": kind,
        "count": row["count"],
        **{key: row[key] for key in PROFILER_TIMES},
        "wait_ratio": ratio(row["wait_ns"], row["wait_ns"] + row["transit_ns"]),
        "synchronization_ratio": ratio(
            row["synchronization_ns"], row["synchronization_ns"] + row["transit_ns"]
        ),
        "links": links,
    }
