"""The terminal part on a device's communication (docs/metrics.md, "Communication"): the exclusive
split of the window, overlap and exposed communication, then the collectives by type; only for a
device that ran collectives."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from tracekit.analysis.definitions import SPLIT_PARTS
from tracekit.analysis.document.communication import Collective, Communication, Link, ProfilerCommunication
from tracekit.analysis.document.device import Device
from tracekit.formatting import fmt_copy_bytes, fmt_ns, fmt_share
from tracekit.report.formulas import formula
from tracekit.report.terminal_fit import Column, fitted_table

_METRIC_COLUMNS = [
    Column("part", "left"), Column("time"), Column("share of W"), Column("formula", "left", wrap=True),
]  # fmt: skip
_COLLECTIVE_COLUMNS = [
    Column("type", "left"), Column("count"), Column("time (sum)"), Column("bytes"),
    Column("algbw GB/s"), Column("busbw GB/s"),
]  # fmt: skip


def communication_section(device: Device, width: int) -> Group:
    """The split and the collectives table; an empty group when the device ran no collective."""
    block = device.communication
    if block is None or not block.collectives:
        return Group()
    parts = [_split_table(block, width), *_collectives_parts(block.collectives, width)]
    if block.profiler is not None:
        parts.append(_profiler_table(block.profiler, width))
    return Group(*parts)


def _split_table(block: Communication, width: int) -> Table:
    split = block.split
    window = split.window_ns
    rows = []
    for part in SPLIT_PARTS:
        ns = getattr(split, f"{part}_ns")
        rows.append([part, fmt_ns(ns), _share(ns, window), formula(f"communication.split.{part}")])
    rows += [
        ["overlap", fmt_ns(block.overlap_ns), "-", f"{fmt_share(block.overlap_ratio)} of the communication "
         f"runs under compute: {formula('communication.overlap_ratio')}"],
        ["exposed", fmt_ns(block.exposed_ns), fmt_share(block.exposed_share),
         formula("communication.exposed_ns")],
    ]  # fmt: skip
    table = fitted_table("Communication (W split once: compute > comm > copies > idle)", _METRIC_COLUMNS,
                         rows, width)  # fmt: skip
    table.columns[3].style = "dim"
    return table


def _share(part: int, whole: int) -> str:
    return fmt_share(part / whole) if whole else "-"


def _collectives_parts(collectives: list[Collective], width: int) -> tuple[Table, Text]:
    """The collectives by type, and the formulas of their two bandwidths."""
    rows = [
        [c.type.replace("_", "-"), f"{c.count:,}", fmt_ns(c.total_ns),
         fmt_copy_bytes(c.bytes, c.bytes_unknown_count, c.count),
         _bandwidth(c.algbw_gbps), _bandwidth(c.busbw_gbps)]
        for c in collectives
    ]  # fmt: skip
    note = f"algbw = {formula('communication.algbw_gbps')}; busbw = {formula('communication.busbw_gbps')}"
    return fitted_table("Collectives", _COLLECTIVE_COLUMNS, rows, width), Text(note, style="dim")


def _bandwidth(gbps: float | None) -> str:
    return "unknown" if gbps is None else f"{gbps:.2f}"


_PROFILER_COLUMNS = [
    Column("type", "left"), Column("count"), Column("elapse"), Column("transit"), Column("wait"),
    Column("sync", drop=2), Column("idle", drop=1), Column("wait ratio"),
]  # fmt: skip
_PROFILER_TIMES = ("elapse_ns", "transit_ns", "wait_ns", "synchronization_ns", "idle_ns")


def _profiler_table(profiler: ProfilerCommunication, width: int) -> Table:
    """msprof's wait vs transit per type (communication.json), and the bandwidth of the link type
    that carried the most bytes."""
    rows = [
        [r.type.replace("_", "-"), f"{r.count:,}", *(fmt_ns(getattr(r, key)) for key in _PROFILER_TIMES),
         fmt_share(r.wait_ratio), _busiest_link(r.links)]
        for r in profiler.by_type
    ]  # fmt: skip
    title = f"Wait vs transit, communication.json (wait ratio = {formula('communication.wait_ratio')})"
    return fitted_table(title, _PROFILER_COLUMNS, rows, width, name="busiest link")


def _busiest_link(links: list[Link]) -> str:
    if not links:
        return "-"
    link = max(links, key=lambda item: item.bytes)
    rate = "-" if link.bandwidth_gbps is None else f"{link.bandwidth_gbps:.2f} GB/s"
    return f"{link.link} {rate}"
