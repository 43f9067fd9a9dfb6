"""The "Where the step time goes" section: the critical-path attribution of the replayed steps (the
device block's `whatif.attribution`, tracekit/analysis/attribution.py) as one stacked bar per step,
a one-line reading of the median step, and the median step's table.
"""

from __future__ import annotations

import zlib

from tracekit.analysis.document.device import Device
from tracekit.analysis.document.whatif import Attribution, StepAttribution
from tracekit.formatting import fmt_ns, fmt_share
from tracekit.report.html.charts import NS_PER_MS, base_layout, plotly_text
from tracekit.report.html.context import Context, Translate
from tracekit.report.html.markup import Cell, Column, element, paragraph, table, text
from tracekit.report.step_attribution import (
    attribution_of,
    category_ns,
    largest_categories,
    median_step_number,
    step_total,
)

READING_CATEGORIES = 2  # the one-line reading names the largest two
CATEGORY_COLOURS = {
    "compute": "#1f77b4",
    "communication": "#9467bd",
    "copy_h2d_pageable": "#d62728",
    "copy_h2d_pinned": "#ff7f0e",
    "copy_h2d": "#ffbb78",
    "copy_d2h": "#e377c2",
    "copy_d2d": "#bcbd22",
    "copy_other": "#8c564b",
    "launch_overhead": "#7f7f7f",
    "sync": "#17becf",
    "host_cpu": "#2ca02c",
    "other": "#c7c7c7",
}
SPARE_COLOURS = ("#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173")  # categories added later


def category_label(t: Translate, name: str) -> str:
    """The category's name in the report's language; a category the report does not know, as named."""
    try:
        return t(f"attr.cat.{name}")
    except KeyError:
        return name


def category_colour(name: str) -> str:
    """A fixed colour per category, the same in every report and every chart."""
    return CATEGORY_COLOURS.get(name) or SPARE_COLOURS[zlib.crc32(name.encode()) % len(SPARE_COLOURS)]


def attribution_section(ctx: Context, device: Device | None) -> str:
    """Reading of the median step, the stacked bars, and the median step's table; a note when the
    device has no replayed step, nothing without a device or an attribution block."""
    if device is None or device.whatif is None or device.whatif.attribution is None:
        return ""
    block = attribution_of(device)
    if block is None:
        return paragraph(ctx.t("attr.none"), "note")
    return (
        median_reading(ctx, device, block)
        + ctx.chart(attribution_chart(block, ctx.t, ctx.formula("attribution.share")), ctx.t("attr.chart"))
        + _median_table(ctx, device, block)
    )


def median_reading(ctx: Context, device: Device, block: Attribution) -> str:
    """One line: the median step's time and its two largest categories with their shares."""
    t, median = ctx.t, block.median_step
    total = step_total(median, block.categories)
    parts = [
        t("attr.part", category=category_label(t, name), share=fmt_share(ns / total if total else None))
        for name, ns in largest_categories(median, block.categories, READING_CATEGORIES)
    ]
    line = t(
        "attr.reading",
        step=median_step_number(block) or "-",
        total=fmt_ns(total),
        parts=t("attr.join").join(parts),
    )
    hint = ctx.hint("whatif.attribution", _median_window(ctx, device, block))
    return element("p", text(line), class_="reading", title=hint)


def attribution_chart(block: Attribution, t: Translate, share_formula: str) -> dict[str, object] | None:
    """One stacked bar per replayed step, one trace per category with any time (document order)."""
    categories, steps = block.categories, block.steps
    shown = [name for name in categories if any(category_ns(step, name) > 0 for step in steps)]
    if not shown:
        return None
    totals = [step_total(step, categories) for step in steps]
    layout = base_layout(360, t("attr.axis_step"), t("attr.axis_time"))
    layout["barmode"] = "stack"
    layout["xaxis"] = {**layout["xaxis"], "type": "category"}
    layout["showlegend"] = True
    layout["legend"] = {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom", "traceorder": "normal"}
    layout["margin"] = {**layout["margin"], "t": 60}
    return {
        "type": "figure",
        "data": [_category_bars(name, steps, totals, t, share_formula) for name in shown],
        "layout": layout,
    }


def _category_bars(
    name: str, steps: list[StepAttribution], totals: list[int], t: Translate, share_formula: str
) -> dict[str, object]:
    """One category's slice of every step's bar; `customdata` holds the exact nanoseconds."""
    label = category_label(t, name)
    times = [category_ns(step, name) for step in steps]
    formula = plotly_text(f"{t('attr.col.share')} = {share_formula}")
    hover = [
        t(
            "attr.hover",
            category=plotly_text(label),
            step=step.step,
            time=fmt_ns(ns),
            ns=f"{ns:,}",
            share=fmt_share(ns / total if total else None),
            total=fmt_ns(total),
        )
        + f"<br>{formula}"
        for step, ns, total in zip(steps, times, totals, strict=True)
    ]
    return {
        "type": "bar",
        "name": plotly_text(label),
        "x": [f"#{step.step}" for step in steps],
        "y": [ns / NS_PER_MS for ns in times],
        "customdata": times,
        "marker": {"color": category_colour(name)},
        "hovertext": hover,
        "hoverinfo": "text",
    }


def _median_table(ctx: Context, device: Device, block: Attribution) -> str:
    """The median step's categories with time, share and meaning; the step time last."""
    t, median, categories = ctx.t, block.median_step, block.categories
    total = step_total(median, categories)
    window = _median_window(ctx, device, block)
    time_hint = ctx.hint("whatif.attribution", window)
    share_hint = ctx.hint("attribution.share", window)
    rows = [
        [
            Cell(category_label(t, name)),
            Cell(fmt_ns(ns), ns, time_hint, numeric=True),
            Cell(
                fmt_share(ns / total if total else None),
                ns / total if total else None,
                share_hint,
                numeric=True,
            ),
            Cell(_meaning(t, name)),
        ]
        for name in categories
        if (ns := category_ns(median, name)) > 0
    ]
    rows.append(
        [Cell(t("attr.total")), Cell(fmt_ns(total), total, time_hint, numeric=True), Cell("-"), Cell("")]
    )
    columns = [
        Column(t("attr.col.category")),
        Column(t("attr.col.time"), numeric=True),
        Column(t("attr.col.share"), numeric=True),
        Column(t("attr.col.meaning")),
    ]
    return table(columns, rows, caption=t("attr.window", **_window_fields(device, block)))


def _meaning(t: Translate, name: str) -> str:
    try:
        return t(f"attr.def.{name}")
    except KeyError:
        return ""


def _median_window(ctx: Context, device: Device, block: Attribution) -> str:
    return ctx.t("attr.median_window", device=device.id, step=median_step_number(block) or "-")


def _window_fields(device: Device, block: Attribution) -> dict[str, object]:
    numbers = [step.step for step in block.steps]
    return {"device": device.id, "first": numbers[0], "last": numbers[-1], "count": len(numbers)}
