"""The copies and blocking sections of the report: copies by direction (the memory-kind columns only
where the trace records the host memory kind), then memsets, blocking calls, host synchronize calls
and launch overhead (the CUDA runtime's blocking rows left out of Ascend reports)."""

from __future__ import annotations

from tracekit.formatting import fmt_bytes, fmt_ns, fmt_share
from tracekit.report.html.context import Context
from tracekit.report.html.markup import Cell, Column, paragraph, table
from tracekit.report.html.sections import count_cell, ns_cell, share_cell

COPY_DIRECTIONS = ("h2d", "d2h", "d2d")
BLOCKING_KINDS = ("pageable_async_copies", "sync_copies", "sync_memsets")  # CUDA runtime calls


def bytes_cell(ctx: Context, value: int | None, hint: str | None = None) -> Cell:
    """A byte count with a binary unit; `unknown` when the trace does not give it."""
    return Cell(ctx.t("value.unknown") if value is None else fmt_bytes(value), value, hint, numeric=True)


def copy_bytes_cell(ctx: Context, copies: dict, hint: str | None = None) -> Cell:
    """The bytes of a direction's copies: unknown when no copy has a byte count, `>= total` when some
    have none."""
    count, unknown = copies.get("count") or 0, copies.get("bytes_unknown_count") or 0
    if count and unknown >= count:
        return Cell(ctx.t("value.unknown"), None, hint, numeric=True)
    shown = (">= " if unknown else "") + fmt_bytes(copies.get("bytes") or 0)
    return Cell(shown, copies.get("bytes"), hint, numeric=True)


def is_ascend(ctx: Context) -> bool:
    """Whether the trace comes from an Ascend profiler (no CUDA runtime rows apply)."""
    return (ctx.document.get("trace") or {}).get("format") == "ascend"


def copies_section(ctx: Context, device: dict) -> str:
    """H2D, D2H and D2D copies side by side; pageable / pinned only where the trace knows them."""
    t, window = ctx.t, ctx.device_window(device)
    directions = [key for key in COPY_DIRECTIONS if key in device]
    if not any((device[key] or {}).get("count") for key in directions):
        return paragraph(t("copies.none"), "note")

    def column(label: str, key: str, numeric: bool = True) -> Column:
        return Column(t(label), ctx.hint(key, window), numeric=numeric)

    kinds_known = any(device[k].get("pageable_count") or device[k].get("pinned_count") for k in directions)
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
    rows = []
    for key in directions:
        c = device[key]
        bandwidth = c.get("bandwidth_gbps")
        rows.append(
            [
                Cell(key.upper()),
                count_cell(c.get("count")),
                count_cell(c.get("per_step")),
                copy_bytes_cell(ctx, c),
                ns_cell(c.get("busy_ns")),
                share_cell(c.get("share_of_busy")),
                share_cell(c.get("exposed_share")),
                *(
                    [count_cell(c.get("pageable_count")), count_cell(c.get("pinned_count"))]
                    if kinds_known
                    else []
                ),
                Cell("-" if bandwidth is None else f"{bandwidth:.2f}", bandwidth, numeric=True),
            ]
        )
    return table(columns, rows)


def blocking_section(ctx: Context, device: dict) -> str:
    """Memsets, blocking calls (nsys analyze rules), host synchronize calls and launch overhead."""
    t, window = ctx.t, ctx.device_window(device)
    columns = [
        Column(t("col.what")),
        Column(t("col.count"), numeric=True),
        Column(t("col.total"), numeric=True),
        Column(t("col.bytes"), numeric=True),
    ]
    rows = []
    memset = device.get("memset")
    if memset:
        rows.append(_blocking_row(ctx, t("blk.memset"), memset, ctx.hint("memset", window)))
    ascend = is_ascend(ctx)
    for key in () if ascend else BLOCKING_KINDS:
        item = (device.get("blocking") or {}).get(key)
        if item:
            rows.append(_blocking_row(ctx, t(f"blk.{key}"), item, ctx.hint(f"blocking.{key}", window)))
    sync_calls = (ctx.document.get("host") or {}).get("sync_calls")
    if sync_calls:
        label = t("blk.sync_calls.ascend" if ascend else "blk.sync_calls")
        hint = ctx.hint("host.sync_calls", ctx.trace_window())
        rows.append(_blocking_row(ctx, label, sync_calls, hint, with_bytes=False))
    return (table(columns, rows) if rows else "") + _launch_table(ctx, device)


def _blocking_row(ctx: Context, label: str, item: dict, hint: str, with_bytes: bool = True) -> list[Cell]:
    """A row of the blocking table; synchronize calls move no bytes (`-`)."""
    return [
        Cell(label, hint=hint),
        count_cell(item.get("count"), hint),
        ns_cell(item.get("total_ns"), hint),
        bytes_cell(ctx, item.get("bytes"), hint) if with_bytes else Cell("-", numeric=True),
    ]


def _launch_table(ctx: Context, device: dict) -> str:
    launch, t = device.get("launch") or {}, ctx.t
    if not launch.get("kernels_with_launch"):
        return ""
    window = ctx.device_window(device)
    delay = " / ".join(fmt_ns(launch.get(k)) for k in ("delay_p50_ns", "delay_p90_ns", "delay_max_ns"))
    short = f"{fmt_share(launch.get('short_kernel_share'))} ({launch.get('short_kernel_count', 0):,})"
    columns = [Column(t("col.label")), Column(t("col.value"), numeric=True), Column(t("col.formula"))]
    rows = [
        [
            Cell(t("blk.launch_delay")),
            Cell(delay, hint=ctx.hint("launch.delay", window)),
            Cell(ctx.formula("launch.delay")),
        ],
        [
            Cell(t("blk.launch_call")),
            ns_cell(launch.get("call_p50_ns"), ctx.hint("launch.call_p50", window)),
            Cell(ctx.formula("launch.call_p50")),
        ],
        [
            Cell(t("blk.short_kernels")),
            Cell(short, hint=ctx.hint("launch.short_kernel_share", window)),
            Cell(ctx.formula("launch.short_kernel_share")),
        ],
    ]
    return table(columns, rows)
