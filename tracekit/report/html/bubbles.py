"""The bubbles section: the device's idle gaps (statistics, histogram, causes, the longest ones) and
the long gaps listed apart."""

from __future__ import annotations

from tracekit.analysis.document.device import Bubbles, Device
from tracekit.formatting import fmt_ns
from tracekit.report.html import charts
from tracekit.report.html.cells import MAX_TABLE_ROWS, count_cell, ns_cell, share_cell
from tracekit.report.html.context import Context
from tracekit.report.html.markup import Cell, Column, element, paragraph, table, text


def bubbles_section(ctx: Context, device: Device) -> str:
    """Bubble statistics, histogram, causes, the longest bubbles and the long gaps."""
    bubbles, t = device.bubbles, ctx.t
    if not bubbles.count:
        return paragraph(t("bub.none"), "note") + _long_gaps(ctx, device)
    summary = t(
        "bub.summary",
        count=f"{bubbles.count:,}",
        threshold=fmt_ns(bubbles.threshold_ns),
        total=fmt_ns(bubbles.total_ns),
        p50=fmt_ns(bubbles.p50_ns),
        p90=fmt_ns(bubbles.p90_ns),
        max=fmt_ns(bubbles.max_ns),
    )
    window = ctx.device_window(device)
    summary_html = element("p", text(summary), title=ctx.hint("bubbles", window))
    plots = ctx.chart(charts.bubble_histogram_chart(bubbles, t), t("bub.histogram")) + ctx.chart(
        charts.bubble_causes_chart(bubbles, t, ctx.lang), t("bub.causes")
    )
    return (
        summary_html
        + element("div", plots, class_="chart-row")
        + _causes_table(ctx, bubbles, window)
        + _largest_bubbles(ctx, device)
        + _long_gaps(ctx, device)
    )


def _causes_table(ctx: Context, bubbles: Bubbles, window: str) -> str:
    t, hint = ctx.t, ctx.hint("bubbles.cause", window)
    idle = bubbles.total_ns
    columns = [
        Column(t("col.cause"), hint),
        Column(t("col.count"), hint, numeric=True),
        Column(t("col.total"), hint, numeric=True),
        Column(t("col.share_of_idle"), hint, numeric=True),
        Column(t("col.meaning")),
    ]
    rows = [
        [
            Cell(key),
            count_cell(cause.count),
            ns_cell(cause.total_ns),
            share_cell(cause.total_ns / idle if idle else None),
            Cell(ctx.formula(f"bubbles.cause.{key}") if key in charts.CAUSE_COLOURS else ""),
        ]
        for key, cause in charts.bubble_causes(bubbles)
    ]
    return table(columns, rows)


def _largest_bubbles(ctx: Context, device: Device) -> str:
    largest = device.bubbles.largest
    if not largest:
        return ""
    t, start = ctx.t, device.window.start_ns
    hint = ctx.hint("bubbles", ctx.device_window(device))
    columns = [
        Column(t("col.start"), hint, numeric=True),
        Column(t("col.duration"), hint, numeric=True),
        Column(t("col.cause"), ctx.hint("bubbles.cause", ctx.device_window(device))),
    ]
    rows = [[ns_cell(b.start_ns - start), ns_cell(b.dur_ns), Cell(b.cause or "-")] for b in largest]
    return element("h3", text(t("bub.largest"))) + table(columns, rows)


def _long_gaps(ctx: Context, device: Device) -> str:
    gaps, t = device.long_gaps, ctx.t
    line = t("bub.long_gaps", threshold=fmt_ns(gaps.threshold_ns), count=f"{gaps.count:,}")
    hint = ctx.hint("long_gaps", ctx.device_window(device))
    start = device.window.start_ns
    rows = [[ns_cell(g.start_ns - start), ns_cell(g.dur_ns)] for g in gaps.gaps[:MAX_TABLE_ROWS]]
    columns = [Column(t("col.start"), hint, numeric=True), Column(t("col.duration"), hint, numeric=True)]
    return element("p", text(line), title=hint) + (table(columns, rows) if rows else "")
