"""The terminal part on a device's communication (docs/metrics.md, "Communication"): the exclusive
split of the window, overlap and exposed communication, then the collectives by type; only for a
device that ran collectives."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table

from tracekit.formatting import fmt_copy_bytes, fmt_ns, fmt_share
from tracekit.report.terminal_fit import Column, fitted_table

_SPLIT_HELP = {
    "compute": "|union of compute kernels|",
    "communication": "|union of communication minus compute|",
    "copies": "|union of copies, memsets minus both|",
    "idle": "|W| minus the three (they sum to |W|)",
}
_METRIC_COLUMNS = [
    Column("part", "left"), Column("time"), Column("share of W"), Column("formula", "left", wrap=True),
]  # fmt: skip
_COLLECTIVE_COLUMNS = [
    Column("type", "left"), Column("count"), Column("time (sum)"), Column("bytes"),
    Column("algbw GB/s"), Column("busbw GB/s"),
]  # fmt: skip
_COLLECTIVES_TITLE = "Collectives (algbw = bytes / time; busbw = algbw x bus factor)"


def communication_section(device: dict, width: int) -> Group:
    """The split and the collectives table; an empty group when the device ran no collective."""
    block = device.get("communication") or {}
    if not block.get("collectives"):
        return Group()
    parts = [_split_table(block, width), _collectives_table(block["collectives"], width)]
    if block.get("profiler"):
        parts.append(_profiler_table(block["profiler"], width))
    return Group(*parts)


def _split_table(block: dict, width: int) -> Table:
    split = block["split"]
    window = split["window_ns"]
    rows = [
        [part, fmt_ns(split[f"{part}_ns"]), _share(split[f"{part}_ns"], window), help_text]
        for part, help_text in _SPLIT_HELP.items()
    ]
    rows += [
        ["overlap", fmt_ns(block["overlap_ns"]), "-", f"{fmt_share(block['overlap_ratio'])} of the "
         "communication runs under compute (overlap / |union of communication|)"],
        ["exposed", fmt_ns(block["exposed_ns"]), fmt_share(block["exposed_share"]),
         "|union of communication minus compute|"],
    ]  # fmt: skip
    table = fitted_table("Communication (W split once: compute > comm > copies > idle)", _METRIC_COLUMNS,
                         rows, width)  # fmt: skip
    table.columns[3].style = "dim"
    return table


def _share(part: int, whole: int) -> str:
    return fmt_share(part / whole) if whole else "-"


def _collectives_table(collectives: list[dict], width: int) -> Table:
    rows = [
        [c["type"].replace("_", "-"), f"{c['count']:,}", fmt_ns(c["total_ns"]),
         fmt_copy_bytes(c["bytes"], c["bytes_unknown_count"], c["count"]),
         _bandwidth(c["algbw_gbps"]), _bandwidth(c["busbw_gbps"])]
        for c in collectives
    ]  # fmt: skip
    return fitted_table(_COLLECTIVES_TITLE, _COLLECTIVE_COLUMNS, rows, width)


def _bandwidth(gbps: float | None) -> str:
    return "unknown" if gbps is None else f"{gbps:.2f}"


_PROFILER_COLUMNS = [
    Column("type", "left"), Column("count"), Column("elapse"), Column("transit"), Column("wait"),
    Column("sync", drop=2), Column("idle", drop=1), Column("wait ratio"),
]  # fmt: skip
_PROFILER_TIMES = ("elapse_ns", "transit_ns", "wait_ns", "synchronization_ns", "idle_ns")


def _profiler_table(profiler: dict, width: int) -> Table:
    """msprof's wait vs transit per type (communication.json; wait ratio = wait / (wait + transit)),
    and the bandwidth of the link type that carried the most bytes."""
    rows = [
        [r["type"].replace("_", "-"), f"{r['count']:,}", *(fmt_ns(r[key]) for key in _PROFILER_TIMES),
         fmt_share(r["wait_ratio"]), _busiest_link(r["links"])]
        for r in profiler["by_type"]
    ]  # fmt: skip
    title = "Wait vs transit, communication.json (wait ratio = wait / (wait + transit))"
    return fitted_table(title, _PROFILER_COLUMNS, rows, width, name="busiest link")


def _busiest_link(links: list[dict]) -> str:
    if not links:
        return "-"
    link = max(links, key=lambda item: item["bytes"])
    rate = "-" if link["bandwidth_gbps"] is None else f"{link['bandwidth_gbps']:.2f} GB/s"
    return f"{link['link']} {rate}"
