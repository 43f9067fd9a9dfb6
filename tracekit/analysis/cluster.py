"""The cross-rank view of a multi-rank run (docs/metrics.md, "Cluster"): a per-rank table, the slow
rank, the arrival skew of each collective matched across ranks, and the pipeline stage balance.

It reads only the per-rank analysis documents (`analyze`), so ranks can be analysed anywhere and
only their small documents brought together.
"""

from __future__ import annotations

import numpy as np

from tracekit.analysis.document import Document
from tracekit.analysis.document.communication import Communication, Instances
from tracekit.analysis.document.device import Device
from tracekit.analysis.stats import distribution, ratio

SLOW_RANK_THRESHOLD = 0.05
"""A rank is slow when its compute (or step) time exceeds the median of the other ranks by this share
(msprof-analyze's slow-rank check uses (max - min) / mean > 5 %)."""
Z_SCORE_MIN_RANKS = 3
"""z-scores are reported from this many ranks on; with 2 ranks they are always -1 and +1."""
MAX_SKEW_ROWS = 10
PROFILER_FIELDS = ("computing", "communication", "communication_not_overlapped", "free")

CLUSTER_DEFINITIONS: dict[str, str] = {
    "cluster.rank": "distributedInfo.rank (Kineto), the rank of the Ascend rank folder, else the position "
    "of the trace in the input order",
    "cluster.per_rank": "each rank's busiest device: step p50 (host step spans), and its communication split "
    "over the device window (devices[].communication): compute, communication (union), exposed "
    "communication, copies, idle",
    "cluster.slow_rank": "the rank with the most compute time, slow when it exceeds the median of the other "
    "ranks by >= 5 % (else the same on step p50); z = (x - mean) / population std over ranks, given from "
    "3 ranks on; every rank waits for it at the collectives, so its excess over the median, per step, is "
    "what the step would lose: predicted step = slowest step p50 - excess / steps",
    "cluster.collectives": "collectives matched across ranks by (step, type, sequence within the step); "
    "arrival skew = latest start - earliest start (the earliest rank waits that long; needs one clock "
    "for all ranks); duration spread = longest - shortest duration (clock-free: the early rank's kernel "
    "includes its wait)",
    "cluster.pipeline": "stage time per rank = (compute + copies + transfer) / steps, transfer = sum over "
    "the collectives matched on every rank of the shortest duration among the ranks (the pure transfer, "
    "without waiting); throughput = 1 / slowest stage (steps/s); balance = mean stage / slowest stage; "
    "balanced throughput = 1 / mean stage; applicable when send/recv is the ranks' main collective "
    "(pipeline parallelism)",
    "cluster.profiler": "Ascend: the profiler's own step_trace_time.csv, summed over steps (msprof-analyze "
    "cluster_step_trace_time.csv has the same rows)",
}


def cluster_block(documents: list[Document]) -> dict[str, object]:
    """The cross-rank analysis of per-rank analysis documents (one per rank)."""
    ranks, source = rank_ids(documents)
    rows = [_rank_row(rank, document) for rank, document in zip(ranks, documents, strict=True)]
    instances = [_instances(d) for d in documents]
    return {
        "ranks": len(rows),
        "rank_source": source,
        "per_rank": rows,
        "slow_rank": slow_rank(rows),
        "collectives": arrival_skew(ranks, instances),
        "pipeline": stage_balance(rows, transfer_ns(instances)),
        "definitions": CLUSTER_DEFINITIONS,
    }


def rank_ids(documents: list[Document]) -> tuple[list[int], str]:
    """Each document's rank and where the ranks come from: distributedInfo, the Ascend rank, or order."""
    for source, key in (("distributedInfo", "distributed"), ("ascend", "ascend")):
        ranks = [(d.trace.metadata.get(key) or {}).get("rank") for d in documents]
        if None not in ranks and len(set(ranks)) == len(ranks):
            return [int(r) for r in ranks], source
    return list(range(len(documents))), "order"


def _main_device(document: Document) -> Device | None:
    devices = document.devices
    return max(devices, key=lambda d: d.busy_ns) if devices else None


def _communication(document: Document) -> Communication | None:
    device = _main_device(document)
    return device.communication if device else None


def _rank_row(rank: int, document: Document) -> dict[str, object]:
    device = _main_device(document)
    return {
        "rank": rank,
        "source": document.trace.source,
        "device": device.id if device else None,
        "steps": document.steps.count,
        "step_p50_ns": document.steps.duration_ns.p50,
        **_communication_row(_communication(document)),
        "profiler": _profiler_split(document),
    }


COMMUNICATION_ROW = ("window_ns", "compute_ns", "communication_ns", "exposed_ns", "copies_ns", "idle_ns",
                     "overlap_ratio")  # fmt: skip


def _communication_row(communication: Communication | None) -> dict[str, object]:
    """The rank's communication split (unknown without a communication block) and its send/recv time."""
    if communication is None:
        return {**dict.fromkeys(COMMUNICATION_ROW), "send_recv_ns": 0}
    split = communication.split
    return {
        "window_ns": split.window_ns,
        "compute_ns": split.compute_ns,
        "communication_ns": communication.communication_ns,
        "exposed_ns": communication.exposed_ns,
        "copies_ns": split.copies_ns,
        "idle_ns": split.idle_ns,
        "overlap_ratio": communication.overlap_ratio,
        "send_recv_ns": _type_time(communication, "send_recv"),
    }


def _type_time(communication: Communication, kind: str) -> int:
    return sum(row.total_ns for row in communication.collectives if row.type == kind)


def _profiler_split(document: Document) -> dict[str, int] | None:
    """The Ascend profiler's step_trace_time rows summed over steps; None for other traces."""
    rows = (document.trace.metadata.get("ascend") or {}).get("step_trace_time") or []
    if not rows:
        return None
    return {f"{name}_ns": sum(int(row.get(f"{name}_ns") or 0) for row in rows) for name in PROFILER_FIELDS}


def z_scores(values: list[float | None]) -> list[float | None]:
    """(x - mean) / population std of the known values; None for unknown ones, for fewer than
    Z_SCORE_MIN_RANKS values, or when all are equal."""
    known = np.array([v for v in values if v is not None], dtype=np.float64)
    if len(known) < Z_SCORE_MIN_RANKS or known.std() == 0:
        return [None] * len(values)
    mean, std = known.mean(), known.std()
    return [None if v is None else float((v - mean) / std) for v in values]


def slow_rank(rows: list[dict]) -> dict[str, object] | None:
    """The slowest rank by compute time (else by step p50) and whether it is slow enough to matter."""
    if len(rows) < 2:
        return None
    z_step = z_scores([r["step_p50_ns"] for r in rows])
    z_compute = z_scores([r["compute_ns"] for r in rows])
    candidates = [_candidate(rows, "compute_ns"), _candidate(rows, "step_p50_ns")]
    known = [c for c in candidates if c is not None]
    if not known:
        return None
    chosen = next((c for c in known if c["excess_share"] >= SLOW_RANK_THRESHOLD), known[0])
    index = chosen.pop("index")
    return {
        **chosen,
        "slow": chosen["excess_share"] >= SLOW_RANK_THRESHOLD,
        "threshold": SLOW_RANK_THRESHOLD,
        "z_step": z_step[index],
        "z_compute": z_compute[index],
        "step_p50_ns": rows[index]["step_p50_ns"],
        "exposed_ns": rows[index]["exposed_ns"],
        **_slow_rank_gain(rows, chosen),
    }


def _slow_rank_gain(rows: list[dict], chosen: dict) -> dict[str, object]:
    """The step every rank would run at if the slow rank lost its excess (per step)."""
    steps = [r["step_p50_ns"] for r in rows if r["step_p50_ns"] is not None]
    count = max((r["steps"] for r in rows), default=0)
    if not steps or not count:
        return {"baseline_step_ns": None, "predicted_step_ns": None, "speedup": None}
    per_step = chosen["excess_ns"] / count if chosen["metric"] == "compute" else chosen["excess_ns"]
    baseline = max(steps)
    predicted = max(baseline - per_step, 1)
    return {
        "baseline_step_ns": baseline,
        "predicted_step_ns": round(predicted),
        "speedup": baseline / predicted,
    }


def _candidate(rows: list[dict], field: str) -> dict[str, object] | None:
    """The rank with the largest `field` and its excess over the median of the other ranks."""
    values = [r[field] for r in rows]
    if any(v is None for v in values):
        return None
    index = int(np.argmax(values))
    others = float(np.median([v for i, v in enumerate(values) if i != index]))
    excess = values[index] - others
    return {
        "rank": rows[index]["rank"],
        "metric": field.removesuffix("_ns"),
        "value_ns": int(values[index]),
        "others_median_ns": others,
        "excess_ns": excess,
        "excess_share": ratio(excess, others) or 0.0,
        "index": index,
    }


def _instances(document: Document) -> Instances | None:
    communication = _communication(document)
    return communication.instances if communication else None


def arrival_skew(ranks: list[int], instances: list[Instances | None]) -> dict[str, object]:
    """Per collective type, the skew of the collectives that every rank has (same step, type and
    sequence number): the earliest rank waits for the latest."""
    if len(ranks) < 2 or any(i is None for i in instances):
        return {"matched": 0, "by_type": [], "largest": []}
    starts, durations = _matched(instances)
    if not starts:
        return {"matched": 0, "by_type": [], "largest": []}
    keys = list(starts)
    start = np.array([starts[k] for k in keys], dtype=np.int64)
    duration = np.array([durations[k] for k in keys], dtype=np.int64)
    skew = start.max(axis=1) - start.min(axis=1)
    spread = duration.max(axis=1) - duration.min(axis=1)
    late = np.argmax(start, axis=1)
    types = np.array([k[1] for k in keys], dtype=object)
    return {
        "matched": len(keys),
        "by_type": [
            _skew_row(kind, skew[types == kind], spread[types == kind], late[types == kind], ranks)
            for kind in dict.fromkeys(types.tolist())
        ],
        "largest": _largest(keys, skew, spread, start, ranks),
    }


def _matched(instances: list[Instances]) -> tuple[dict[tuple, list[int]], dict[tuple, list[int]]]:
    """Start and duration per rank of each (step, type, sequence) present in every rank."""
    per_rank = []
    for one in instances:
        keys = zip(one.step, one.type, one.sequence, strict=True)
        per_rank.append({k: (s, e - s) for k, s, e in zip(keys, one.start_ns, one.end_ns, strict=True)})
    common = [k for k in per_rank[0] if all(k in other for other in per_rank[1:])]
    starts = {k: [rank[k][0] for rank in per_rank] for k in common}
    durations = {k: [rank[k][1] for rank in per_rank] for k in common}
    return starts, durations


def _skew_row(
    kind: str, skew: np.ndarray, spread: np.ndarray, late: np.ndarray, ranks: list[int]
) -> dict[str, object]:
    counts = np.bincount(late, minlength=len(ranks))
    return {
        "type": kind,
        "matched": len(skew),
        "skew_ns": distribution(skew),
        "skew_total_ns": int(skew.sum()),
        "duration_spread_ns": distribution(spread),
        "most_often_last_rank": ranks[int(np.argmax(counts))],
        "last_share": float(counts.max() / len(skew)),
    }


def _largest(
    keys: list[tuple], skew: np.ndarray, spread: np.ndarray, start: np.ndarray, ranks: list[int]
) -> list[dict[str, object]]:
    order = np.argsort(-skew, kind="stable")[:MAX_SKEW_ROWS]
    return [
        {
            "step": keys[i][0],
            "type": keys[i][1],
            "sequence": keys[i][2],
            "skew_ns": int(skew[i]),
            "duration_spread_ns": int(spread[i]),
            "earliest_rank": ranks[int(np.argmin(start[i]))],
            "latest_rank": ranks[int(np.argmax(start[i]))],
        }
        for i in order
    ]


def transfer_ns(instances: list[Instances | None]) -> int:
    """The sum over the collectives matched on every rank of the shortest duration among the ranks:
    the time the transfers take without waiting for a peer (0 without matches)."""
    if len(instances) < 2 or any(i is None for i in instances):
        return 0
    _, durations = _matched(instances)
    return int(sum(min(d) for d in durations.values()))


def stage_balance(rows: list[dict], transfer: int) -> dict[str, object] | None:
    """Per-rank stage time, the slowest stage and the throughput it allows (pipeline parallelism)."""
    if len(rows) < 2 or any(r["compute_ns"] is None for r in rows):
        return None
    stages = [(r["compute_ns"] + r["copies_ns"] + transfer) / max(r["steps"], 1) for r in rows]
    slowest = int(np.argmax(stages))
    mean = float(np.mean(stages))
    return {
        "applicable": _pipelined(rows),
        "stages": [{"rank": r["rank"], "stage_ns": s} for r, s in zip(rows, stages, strict=True)],
        "slowest_rank": rows[slowest]["rank"],
        "slowest_ns": stages[slowest],
        "mean_ns": mean,
        "balance": ratio(mean, stages[slowest]),
        "throughput_per_s": ratio(1e9, stages[slowest]),
        "balanced_throughput_per_s": ratio(1e9, mean),
    }


def _pipelined(rows: list[dict]) -> bool:
    """True when send/recv takes most of the ranks' communication time (stages pass activations)."""
    send_recv = sum(r["send_recv_ns"] for r in rows)
    return send_recv > 0 and 2 * send_recv >= sum(r["communication_ns"] or 0 for r in rows)
