"""The communication section of the report (docs/metrics.md, "Communication"): the exclusive split
of the device window, the overlap ratio and exposed communication, and the collectives by type with
their bytes and bandwidths; only for a device that ran collectives."""

from __future__ import annotations

from tracekit.analysis.document.communication import (
    Collective,
    Communication,
    Link,
    ProfilerCommunication,
    ProfilerType,
    Split,
)
from tracekit.analysis.document.device import Device
from tracekit.formatting import fmt_bytes, fmt_share
from tracekit.report.html.cells import count_cell, ns_cell, share_cell
from tracekit.report.html.context import Context
from tracekit.report.html.copies import copy_bytes_cell
from tracekit.report.html.markup import Cell, Column, element, paragraph, table, text

SPLIT_PARTS = ("compute", "communication", "copies", "idle")


def communication_section(ctx: Context, device: Device) -> str:
    """The split, overlap and collectives of `device`; nothing when it ran no collective."""
    block = device.communication
    if block is None or not block.collectives:
        return ""
    return (
        paragraph(ctx.t("comm.intro", device=device.id), "note")
        + element("h3", text(ctx.t("comm.split")))
        + _split_table(ctx, device, block)
        + element("h3", text(ctx.t("comm.collectives")))
        + _collectives_table(ctx, device, block.collectives)
        + _profiler_table(ctx, device, block.profiler)
    )


def _split_parts(split: Split) -> list[tuple[str, int]]:
    """(part, its time) of the split of W, in SPLIT_PARTS' order."""
    times = (split.compute_ns, split.communication_ns, split.copies_ns, split.idle_ns)
    return list(zip(SPLIT_PARTS, times, strict=True))


def _split_table(ctx: Context, device: Device, block: Communication) -> str:
    t, window = ctx.t, ctx.device_window(device)
    width = block.split.window_ns
    columns = [Column(t("comm.part")), Column(t("comm.time"), numeric=True),
               Column(t("comm.share"), numeric=True), Column(t("col.formula"))]  # fmt: skip
    rows = [
        _row(ctx, t(f"comm.{part}"), ns, _share(ns, width),
             "communication.split", window, ctx.formula(f"communication.split.{part}"))
        for part, ns in _split_parts(block.split)
    ]  # fmt: skip
    rows += [
        _row(ctx, t("comm.window"), width, 1.0 if width else None, "window", window),
        _row(ctx, t("comm.total"), block.communication_ns, _share(block.communication_ns, width),
             "communication.communication_ns", window),
        _overlap_row(ctx, block, window),
        _row(ctx, t("comm.exposed"), block.exposed_ns, block.exposed_share,
             "communication.exposed_ns", window),
    ]  # fmt: skip
    return paragraph(ctx.formula("communication.split"), "note") + table(columns, rows)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _row(
    ctx: Context, label: str, ns: int, share: float | None, key: str, window: str, formula: str | None = None
) -> list[Cell]:
    """A row with its time, share of W and formula (`formula`, else the definition of `key`)."""
    hint = ctx.hint(key, window)
    return [
        Cell(label, hint=hint),
        ns_cell(ns, hint),
        share_cell(share, hint),
        Cell(formula or ctx.formula(key)),
    ]


def _overlap_row(ctx: Context, block: Communication, window: str) -> list[Cell]:
    """The overlap ratio is a share of the communication, not of W: its time is overlap_ns."""
    key = "communication.overlap_ratio"
    hint = ctx.hint(key, window)
    ratio = block.overlap_ratio
    return [Cell(ctx.t("comm.overlap"), hint=hint), ns_cell(block.overlap_ns, hint),
            Cell(fmt_share(ratio), ratio, hint, numeric=True), Cell(ctx.formula(key))]  # fmt: skip


def _collectives_table(ctx: Context, device: Device, collectives: list[Collective]) -> str:
    t, hint = ctx.t, ctx.hint("communication.collectives", ctx.device_window(device))
    columns = [
        Column(t("comm.type"), hint),
        *(Column(t(key), hint, numeric=True)
          for key in ("col.count", "comm.sum", "comm.busy", "col.bytes", "comm.algbw", "comm.busbw")),
    ]  # fmt: skip
    rows = [
        [
            Cell(c.type.replace("_", "-")),
            count_cell(c.count),
            ns_cell(c.total_ns),
            ns_cell(c.busy_ns),
            copy_bytes_cell(ctx, c),
            bandwidth_cell(ctx, c.algbw_gbps),
            bandwidth_cell(ctx, c.busbw_gbps),
        ]
        for c in collectives
    ]
    return table(columns, rows, sortable=True)


def bandwidth_cell(ctx: Context, gbps: float | None) -> Cell:
    """GB/s with two decimals; `unknown` where no collective of the type has a size (or group size)."""
    shown = ctx.t("value.unknown") if gbps is None else f"{gbps:.2f}"
    return Cell(shown, gbps, numeric=True)


def _profiler_table(ctx: Context, device: Device, profiler: ProfilerCommunication | None) -> str:
    """msprof's wait vs transit per collective type (communication.json), with the link bandwidths."""
    if profiler is None:
        return ""
    t, hint = ctx.t, ctx.hint("communication.profiler", ctx.device_window(device))
    keys = ("col.count", "comm.elapse", "comm.transit", "comm.wait", "comm.synchronization", "comm.idle_time",
            "comm.wait_ratio", "comm.links")  # fmt: skip
    columns = [
        Column(t("comm.type"), hint),
        *(Column(t(key), hint, numeric=key != "comm.links") for key in keys),
    ]
    rows = [_profiler_row(r) for r in profiler.by_type]
    steps = ", ".join(profiler.steps)
    return element("h3", text(t("comm.profiler", steps=steps))) + table(columns, rows, sortable=True)


def _profiler_row(r: ProfilerType) -> list[Cell]:
    times = (r.elapse_ns, r.transit_ns, r.wait_ns, r.synchronization_ns, r.idle_ns)
    return [
        Cell(r.type.replace("_", "-")),
        count_cell(r.count),
        *(ns_cell(ns) for ns in times),
        share_cell(r.wait_ratio),
        Cell(links_text(r.links)),
    ]


def links_text(links: list[Link]) -> str:
    """`HCCS 408 MiB 15.65 GB/s, ...`: each link type that carried data."""
    return (
        ", ".join(
            f"{link.link} {fmt_bytes(link.bytes)}"
            + ("" if link.bandwidth_gbps is None else f" {link.bandwidth_gbps:.2f} GB/s")
            for link in links
        )
        or "-"
    )
