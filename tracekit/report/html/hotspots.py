"""The hotspot sections: the busiest device's top kernel groups (chart and table), and the CPU
operators of a trace without device activity."""

from __future__ import annotations

from tracekit.analysis.document.device import Device
from tracekit.analysis.document.stats import Hotspot, KernelHotspot
from tracekit.report.html import charts
from tracekit.report.html.cells import MAX_TABLE_ROWS, capped_rows_note, count_cell, ns_cell, share_cell
from tracekit.report.html.context import Context
from tracekit.report.html.markup import Cell, Column, paragraph, table


def hotspots_section(ctx: Context, device: Device) -> str:
    """Top kernel groups: bar chart and a sortable table."""
    hotspots = device.hotspots
    if not hotspots:
        return paragraph(ctx.t("hot.none"), "note")
    chart = ctx.chart(charts.hotspots_chart(hotspots, ctx.t), ctx.t("sec.hotspots"), captioned=False)
    table_html = _hotspot_table(ctx, hotspots, ctx.device_window(device), kernels=True)
    return chart + paragraph(ctx.t("hot.sort_hint"), "note") + table_html


def host_hotspots_section(ctx: Context) -> str:
    """CPU operators of a trace without device activity."""
    hotspots = ctx.document.host.cpu_op_hotspots
    return _hotspot_table(ctx, hotspots, ctx.trace_window(), kernels=False) if hotspots else ""


def _hotspot_table(ctx: Context, hotspots: list[Hotspot], window: str, kernels: bool) -> str:
    t, formula = ctx.t, ctx.hint("hotspots", window)
    columns = [Column(t("col.kernel" if kernels else "col.operation"), formula)]
    if kernels:
        columns.append(Column(t("col.launched_by"), formula))
    columns += [
        Column(t("col.count"), ctx.hint("hotspots.count", window), numeric=True),
        Column(t("col.total"), formula, numeric=True),
        Column(t("col.share"), formula, numeric=True),
        Column(t("col.mean"), formula, numeric=True),
        Column(t("col.p50"), formula, numeric=True),
        Column(t("col.p99"), formula, numeric=True),
        Column(t("col.max"), formula, numeric=True),
    ]
    shown = hotspots[:MAX_TABLE_ROWS]
    rows = [_hotspot_row(h, kernels) for h in shown]
    return table(columns, rows, sortable=True) + capped_rows_note(ctx, len(hotspots), len(shown))


def _hotspot_row(h: Hotspot | KernelHotspot, kernels: bool) -> list[Cell]:
    """A hotspot's cells; a kernel's (a KernelHotspot) with the CPU call that launches it most often."""
    launched_by = [Cell(h.launched_by or "-")] if kernels else []
    return [
        Cell(h.name),
        *launched_by,
        count_cell(h.count),
        ns_cell(h.total_ns),
        share_cell(h.share),
        ns_cell(h.mean_ns),
        ns_cell(h.p50_ns),
        ns_cell(h.p99_ns),
        ns_cell(h.max_ns),
    ]
