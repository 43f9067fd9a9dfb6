"""The copies and blocking sections of the report: copies by direction (the memory-kind columns only
where the trace records the host memory kind), then memsets, blocking calls, host synchronize calls
and launch overhead (the CUDA runtime's blocking rows left out of Ascend reports)."""

from __future__ import annotations

from tracekit.analysis.document.communication import Collective
from tracekit.analysis.document.device import CopySummary, Device, Memset
from tracekit.analysis.document.trace import CallGroup
from tracekit.formatting import fmt_bytes, fmt_ns, fmt_share
from tracekit.report.html.cells import count_cell, ns_cell, share_cell
from tracekit.report.html.context import Context
from tracekit.report.html.markup import Cell, Column, paragraph, table

COPY_DIRECTIONS = ("h2d", "d2h", "d2d")
BLOCKING_KINDS = ("pageable_async_copies", "sync_copies", "sync_memsets")  # CUDA runtime calls


def bytes_cell(ctx: Context, value: int | None, hint: str | None = None) -> Cell:
    """A byte count with a binary unit; `unknown` when the trace does not give it."""
    return Cell(ctx.t("value.unknown") if value is None else fmt_bytes(value), value, hint, numeric=True)


def copy_bytes_cell(ctx: Context, copies: CopySummary | Collective, hint: str | None = None) -> Cell:
    """The bytes of a direction's copies (or of a collective type): unknown when none has a byte
    count, `>= total` when some have none."""
    count, unknown = copies.count, copies.bytes_unknown_count
    if count and unknown >= count:
        return Cell(ctx.t("value.unknown"), None, hint, numeric=True)
    shown = (">= " if unknown else "") + fmt_bytes(copies.bytes)
    return Cell(shown, copies.bytes, hint, numeric=True)


def is_ascend(ctx: Context) -> bool:
    """Whether the trace comes from an Ascend profiler (no CUDA runtime rows apply)."""
    return ctx.document.trace.format == "ascend"


def copies_section(ctx: Context, device: Device) -> str:
    """H2D, D2H and D2D copies side by side; pageable / pinned only where the trace knows them."""
    t, window = ctx.t, ctx.device_window(device)
    directions = [(key, device.copies(key)) for key in COPY_DIRECTIONS]
    if not any(copies.count for _, copies in directions):
        return paragraph(t("copies.none"), "note")

    def column(label: str, key: str, numeric: bool = True) -> Column:
        return Column(t(label), ctx.hint(key, window), numeric=numeric)

    kinds_known = any(copies.pageable_count or copies.pinned_count for _, copies in directions)
    columns = [
        Column(t("col.direction")),
        column("col.count", "copies.count"),
        column("col.per_step", "copies.per_step"),
        column("col.bytes", "copies.bytes"),
        column("col.time", "copies.busy_ns"),
        column("col.share_of_busy", "copies.share_of_busy"),
        column("col.exposed", "copies.exposed_share"),
        *([column("col.pageable", "copies.pageable_pinned"), column("col.pinned", "copies.pageable_pinned")]
          if kinds_known else []),
        column("col.bandwidth", "copies.bandwidth_gbps"),
    ]  # fmt: skip
    rows = [_copies_row(ctx, key, copies, kinds_known) for key, copies in directions]
    return table(columns, rows)


def _copies_row(ctx: Context, direction: str, c: CopySummary, kinds_known: bool) -> list[Cell]:
    bandwidth = c.bandwidth_gbps
    return [
        Cell(direction.upper()),
        count_cell(c.count),
        count_cell(c.per_step),
        copy_bytes_cell(ctx, c),
        ns_cell(c.busy_ns),
        share_cell(c.share_of_busy),
        share_cell(c.exposed_share),
        *([count_cell(c.pageable_count), count_cell(c.pinned_count)] if kinds_known else []),
        Cell("-" if bandwidth is None else f"{bandwidth:.2f}", bandwidth, numeric=True),
    ]


def blocking_section(ctx: Context, device: Device) -> str:
    """Memsets, blocking calls (nsys analyze rules), host synchronize calls and launch overhead."""
    t, window = ctx.t, ctx.device_window(device)
    columns = [
        Column(t("col.what")),
        Column(t("col.count"), numeric=True),
        Column(t("col.total"), numeric=True),
        Column(t("col.bytes"), numeric=True),
    ]
    rows = [_blocking_row(ctx, t("blk.memset"), device.memset, ctx.hint("memset", window))]
    ascend = is_ascend(ctx)
    if device.blocking is not None and not ascend:
        rows += [
            _blocking_row(ctx, t(f"blk.{key}"), calls, ctx.hint(f"blocking.{key}", window))
            for key, calls in _blocking_calls(device)
        ]
    sync_calls = ctx.document.host.sync_calls
    if sync_calls is not None:
        label = t("blk.sync_calls.ascend" if ascend else "blk.sync_calls")
        hint = ctx.hint("host.sync_calls", ctx.trace_window())
        rows.append(_blocking_row(ctx, label, sync_calls, hint, with_bytes=False))
    return (table(columns, rows) if rows else "") + _launch_table(ctx, device)


def _blocking_calls(device: Device) -> list[tuple[str, CallGroup]]:
    """The CUDA runtime's blocking calls of the device, by kind (BLOCKING_KINDS)."""
    blocking = device.blocking
    calls = (blocking.pageable_async_copies, blocking.sync_copies, blocking.sync_memsets)
    return list(zip(BLOCKING_KINDS, calls, strict=True))


def _blocking_row(
    ctx: Context, label: str, item: Memset | CallGroup, hint: str, with_bytes: bool = True
) -> list[Cell]:
    """A row of the blocking table; synchronize calls move no bytes (`-`)."""
    return [
        Cell(label, hint=hint),
        count_cell(item.count, hint),
        ns_cell(item.total_ns, hint),
        bytes_cell(ctx, item.bytes, hint) if with_bytes else Cell("-", numeric=True),
    ]


def _launch_table(ctx: Context, device: Device) -> str:
    launch, t = device.launch, ctx.t
    if launch is None or not launch.kernels_with_launch:
        return ""
    window = ctx.device_window(device)
    delay = " / ".join(fmt_ns(ns) for ns in (launch.delay_p50_ns, launch.delay_p90_ns, launch.delay_max_ns))
    short = f"{fmt_share(launch.short_kernel_share)} ({launch.short_kernel_count:,})"
    columns = [Column(t("col.label")), Column(t("col.value"), numeric=True), Column(t("col.formula"))]
    rows = [
        [
            Cell(t("blk.launch_delay")),
            Cell(delay, hint=ctx.hint("launch.delay", window)),
            Cell(ctx.formula("launch.delay")),
        ],
        [
            Cell(t("blk.launch_call")),
            ns_cell(launch.call_p50_ns, ctx.hint("launch.call_p50", window)),
            Cell(ctx.formula("launch.call_p50")),
        ],
        [
            Cell(t("blk.short_kernels")),
            Cell(short, hint=ctx.hint("launch.short_kernel_share", window)),
            Cell(ctx.formula("launch.short_kernel_share")),
        ],
    ]
    return table(columns, rows)
