"""The measurement sections of the report: cards, timeline, hotspots, bubbles, steps, copies, ...

Each builder returns the section's inner HTML, or "" when the analysis has nothing for it (the
section is then left out). Every number carries its formula and window as a hover hint.
"""

from __future__ import annotations

import json

from tracekit.formatting import fmt_ns, fmt_share
from tracekit.report.formulas import ascend_formula
from tracekit.report.html import charts
from tracekit.report.html.context import Context, Translate
from tracekit.report.html.first import no_steps_hint
from tracekit.report.html.markup import Cell, Column, bullet_list, element, paragraph, table, text

MAX_TABLE_ROWS = 100
MAX_WARNINGS = 50
MAX_METADATA_CHARS = 300
MAX_ASCEND_STEPS = 50


def busiest_device(document: dict) -> dict | None:
    """The device with the most busy time (the first on a tie), or None without devices."""
    devices = document.get("devices") or []
    return max(devices, key=lambda d: d.get("busy_ns") or 0) if devices else None


def ns_cell(value: float | None, hint: str | None = None) -> Cell:
    """A duration cell that sorts by its value in ns."""
    return Cell(fmt_ns(value), value, hint, numeric=True)


def share_cell(value: float | None, hint: str | None = None) -> Cell:
    """A fraction shown as a percentage."""
    return Cell(fmt_share(value), value, hint, numeric=True)


def count_cell(value: float | None, hint: str | None = None) -> Cell:
    """A count with thousands separators."""
    shown = "-" if value is None else f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    return Cell(shown, value, hint, numeric=True)


def capped_rows_note(ctx: Context, total: int, shown: int) -> str:
    """ "first N of M rows shown" under a capped table; nothing when every row is shown."""
    return paragraph(ctx.t("table.more", shown=shown, total=total), "note") if total > shown else ""


# --- summary cards -------------------------------------------------------------------------------


def summary_section(ctx: Context, device: dict | None) -> str:
    """Headline cards for the busiest device and the steps; a device table when there are several."""
    devices = ctx.document.get("devices") or []
    cards = (_device_cards(ctx, device) if device else []) + _step_cards(ctx)
    heading = ""
    if device is not None:
        key = "card.device_busiest" if len(devices) > 1 else "card.device"
        heading = element("h3", text(ctx.t(key, device=device["id"], count=len(devices))))
    else:
        heading = paragraph(ctx.t("report.no_devices"), "warning")
    overview = _devices_table(ctx, devices) if len(devices) > 1 else ""
    return heading + element("div", "".join(cards), class_="cards") + no_steps_hint(ctx) + overview


def _card(label: str, value: str, formula: str, hint: str) -> str:
    return element(
        "div",
        element("div", text(label), class_="card-label")
        + element("div", text(value), class_="card-value")
        + element("div", text(formula), class_="card-formula"),
        class_="card",
        title=hint,
    )


def _device_cards(ctx: Context, device: dict) -> list[str]:
    window = ctx.device_window(device)
    bubbles, h2d = device.get("bubbles") or {}, device.get("h2d") or {}
    bubble_value = ctx.t(
        "card.bubbles_value", count=f"{bubbles.get('count', 0):,}", total=fmt_ns(bubbles.get("total_ns"))
    )
    cards = [
        ("card.utilization", fmt_share(device.get("utilization")), "utilization"),
        ("card.kernel_utilization", fmt_share(device.get("kernel_utilization")), "kernel_utilization"),
        ("card.h2d_exposed", fmt_share(h2d.get("exposed_share")), "copies.exposed_share"),
        ("card.bubbles", bubble_value, "bubbles"),
    ]
    return [
        _card(ctx.t(label), value, ctx.formula(key), ctx.hint(key, window)) for label, value, key in cards
    ]


def _step_cards(ctx: Context) -> list[str]:
    steps = ctx.document.get("steps") or {}
    if not steps.get("count"):
        return []
    window, durations = ctx.steps_window(), steps.get("duration_ns") or {}
    throughput = steps.get("throughput_per_s")
    rate = "-" if throughput is None else f"{throughput:,.1f}"
    cards = [
        ("card.step_p50", fmt_ns(durations.get("p50")), "steps.duration_ns"),
        ("card.step_p99", fmt_ns(durations.get("p99")), "steps.duration_ns"),
    ]
    if "throughput_per_s" in steps:
        cards.append(("card.throughput", rate, "steps.throughput_per_s"))
    return [
        _card(ctx.t(label), value, ctx.formula(key), ctx.hint(key, window)) for label, value, key in cards
    ]


def _devices_table(ctx: Context, devices: list[dict]) -> str:
    t = ctx.t
    columns = [
        Column(t("col.device")),
        Column(t("col.operations"), ctx.formula("operations"), numeric=True),
        Column(t("col.busy"), ctx.formula("busy_ns"), numeric=True),
        Column(t("col.utilization"), ctx.formula("utilization"), numeric=True),
        Column(t("col.kernel_utilization"), ctx.formula("kernel_utilization"), numeric=True),
        Column(t("col.bubbles"), ctx.formula("bubbles"), numeric=True),
    ]
    rows = [
        [
            Cell(str(d["id"]), d["id"]),
            count_cell(d.get("operations")),
            ns_cell(d.get("busy_ns"), ctx.hint("busy_ns", ctx.device_window(d))),
            share_cell(d.get("utilization"), ctx.hint("utilization", ctx.device_window(d))),
            share_cell(d.get("kernel_utilization"), ctx.hint("kernel_utilization", ctx.device_window(d))),
            count_cell((d.get("bubbles") or {}).get("count"), ctx.hint("bubbles", ctx.device_window(d))),
        ]
        for d in devices
    ]
    return element("h3", text(t("sec.devices"))) + table(columns, rows, sortable=True)


# --- timeline ------------------------------------------------------------------------------------


def timeline_section(ctx: Context) -> str:
    """The representative step's events by lane, coloured by kind."""
    timeline = ctx.document.get("timeline")
    if not timeline or not (timeline.get("events") or {}).get("lane"):
        return ""
    spec = charts.timeline_chart(timeline, ctx.t, ctx.max_timeline_events)
    if spec is None:
        return ""
    shown, total = len(spec["lane"]), timeline.get("total_events", len(spec["lane"]))
    values = {"selection": timeline.get("selection", ""), "shown": f"{shown:,}", "total": f"{total:,}"}
    caption = (
        ctx.t("tl.caption", step=timeline["step"], **values)
        if timeline.get("step") is not None
        else ctx.t("tl.caption_nostep", **values)
    )
    return paragraph(caption, "note") + ctx.chart(spec, caption, captioned=False)


# --- hotspots ------------------------------------------------------------------------------------


def hotspots_section(ctx: Context, device: dict) -> str:
    """Top kernel groups: bar chart and a sortable table."""
    hotspots = device.get("hotspots") or []
    if not hotspots:
        return paragraph(ctx.t("hot.none"), "note")
    chart = ctx.chart(charts.hotspots_chart(hotspots, ctx.t), ctx.t("sec.hotspots"), captioned=False)
    table_html = _hotspot_table(ctx, hotspots, ctx.device_window(device), kernels=True)
    return chart + paragraph(ctx.t("hot.sort_hint"), "note") + table_html


def host_hotspots_section(ctx: Context) -> str:
    """CPU operators of a trace without device activity."""
    hotspots = (ctx.document.get("host") or {}).get("cpu_op_hotspots") or []
    return _hotspot_table(ctx, hotspots, ctx.trace_window(), kernels=False) if hotspots else ""


def _hotspot_table(ctx: Context, hotspots: list[dict], window: str, kernels: bool) -> str:
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
    rows = []
    for h in shown:
        row: list[Cell] = [Cell(h["name"])]
        if kernels:
            row.append(Cell(h.get("launched_by") or "-"))
        row += [
            count_cell(h.get("count")),
            ns_cell(h.get("total_ns")),
            share_cell(h.get("share")),
            ns_cell(h.get("mean_ns")),
            ns_cell(h.get("p50_ns")),
            ns_cell(h.get("p99_ns")),
            ns_cell(h.get("max_ns")),
        ]
        rows.append(row)
    return table(columns, rows, sortable=True) + capped_rows_note(ctx, len(hotspots), len(shown))


# --- bubbles -------------------------------------------------------------------------------------


def bubbles_section(ctx: Context, device: dict) -> str:
    """Bubble statistics, histogram, causes, the longest bubbles and the long gaps."""
    bubbles, t = device.get("bubbles") or {}, ctx.t
    if not bubbles.get("count"):
        return paragraph(t("bub.none"), "note") + _long_gaps(ctx, device)
    summary = t(
        "bub.summary",
        count=f"{bubbles['count']:,}",
        threshold=fmt_ns(bubbles.get("threshold_ns")),
        total=fmt_ns(bubbles.get("total_ns")),
        p50=fmt_ns(bubbles.get("p50_ns")),
        p90=fmt_ns(bubbles.get("p90_ns")),
        max=fmt_ns(bubbles.get("max_ns")),
    )
    window = ctx.device_window(device)
    summary_html = element("p", text(summary), title=ctx.hint("bubbles", window))
    plots = ctx.chart(charts.bubble_histogram_chart(bubbles, t), t("bub.histogram")) + ctx.chart(
        charts.bubble_causes_chart(bubbles, t), t("bub.causes")
    )
    return (
        summary_html
        + element("div", plots, class_="chart-row")
        + _causes_table(ctx, bubbles, window)
        + _largest_bubbles(ctx, device)
        + _long_gaps(ctx, device)
    )


def _causes_table(ctx: Context, bubbles: dict, window: str) -> str:
    t, hint = ctx.t, ctx.hint("bubbles.cause", window)
    causes = bubbles.get("by_cause") or {}
    idle = bubbles.get("total_ns") or 0
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
            count_cell(value.get("count")),
            ns_cell(value.get("total_ns")),
            share_cell(value.get("total_ns", 0) / idle if idle else None),
            Cell(t(f"cause.{key}") if key in charts.CAUSE_COLOURS else ""),
        ]
        for key, value in causes.items()
    ]
    return table(columns, rows)


def _largest_bubbles(ctx: Context, device: dict) -> str:
    largest = (device.get("bubbles") or {}).get("largest") or []
    if not largest:
        return ""
    t, start = ctx.t, (device.get("window") or {}).get("start_ns") or 0
    hint = ctx.hint("bubbles", ctx.device_window(device))
    columns = [
        Column(t("col.start"), hint, numeric=True),
        Column(t("col.duration"), hint, numeric=True),
        Column(t("col.cause"), ctx.hint("bubbles.cause", ctx.device_window(device))),
    ]
    rows = [
        [ns_cell(b["start_ns"] - start), ns_cell(b["dur_ns"]), Cell(b.get("cause") or "-")] for b in largest
    ]
    return element("h3", text(t("bub.largest"))) + table(columns, rows)


def _long_gaps(ctx: Context, device: dict) -> str:
    gaps = device.get("long_gaps")
    if not gaps:
        return ""
    t = ctx.t
    line = t("bub.long_gaps", threshold=fmt_ns(gaps.get("threshold_ns")), count=f"{gaps.get('count', 0):,}")
    hint = ctx.hint("long_gaps", ctx.device_window(device))
    rows = [
        [ns_cell(g["start_ns"] - ((device.get("window") or {}).get("start_ns") or 0)), ns_cell(g["dur_ns"])]
        for g in (gaps.get("gaps") or [])[:MAX_TABLE_ROWS]
    ]
    columns = [Column(t("col.start"), hint, numeric=True), Column(t("col.duration"), hint, numeric=True)]
    return element("p", text(line), title=hint) + (table(columns, rows) if rows else "")


# --- steps ---------------------------------------------------------------------------------------


def steps_section(ctx: Context) -> str:
    """Step statistics and the per-step latency chart."""
    steps, t = ctx.document.get("steps") or {}, ctx.t
    if not steps.get("count"):
        return paragraph(t("steps.none"), "note")
    d = steps.get("duration_ns") or {}
    summary = t(
        "steps.summary",
        count=f"{steps['count']:,}",
        first=steps.get("first"),
        last=steps.get("last"),
        **{key: fmt_ns(d.get(key)) for key in ("p50", "p90", "p99", "mean", "max")},
    )
    html = element("p", text(summary), title=ctx.hint("steps.duration_ns", ctx.steps_window()))
    stride = (steps.get("series") or {}).get("stride") or 1
    if stride > 1:
        html += paragraph(t("steps.stride", stride=stride), "note")
    return html + ctx.chart(charts.step_series_chart(steps, t), t("sec.steps"), captioned=False)


# --- copies, memsets, blocking calls -------------------------------------------------------------


# --- Ascend --------------------------------------------------------------------------------------


ASCEND_FINDINGS = ("h2d", "ai_cpu", "dynamic_shape", "int64", "block_dim")


def ascend_section(ctx: Context) -> str:
    """The Ascend findings block: one row per finding, then the per-step time breakdown."""
    ascend = ctx.document.get("ascend")
    if not ascend:
        return ""
    t = ctx.t
    definitions = ascend.get("definitions") or {}
    columns = [Column(t("asc.finding")), Column(t("asc.status")), Column(t("asc.evidence"))]
    rows = []
    for key in ASCEND_FINDINGS:
        finding = ascend.get(key)
        if not isinstance(finding, dict):
            continue
        hint = f"{t('hint.formula')}: {ascend_formula(key, ctx.lang, definitions.get(key, key))}"
        rows.append(
            [
                Cell(key, hint=hint),
                Cell(_ascend_status(t, finding)),
                Cell(_ascend_evidence(t, key, finding) if finding.get("evaluated") else "-", hint=hint),
            ]
        )
    return table(columns, rows) + _ascend_breakdown(ctx, ascend.get("time_breakdown") or [])


def _ascend_status(t: Translate, finding: dict) -> str:
    if not finding.get("evaluated"):
        return t("asc.not_evaluated")
    return t("asc.found") if finding.get("detected") else t("asc.not_found")


def _ascend_evidence(t: Translate, key: str, f: dict) -> str:
    try:
        if key == "h2d":
            return t(
                "asc.h2d",
                count=f"{f['count']:,}",
                total=fmt_ns(f["total_ns"]),
                max_per_step=f.get("max_per_step"),
            )
        if key in ("ai_cpu", "int64"):
            return t(f"asc.{key}", count=f"{f['count']:,}", total=fmt_ns(f["total_ns"]))
        if key == "dynamic_shape":
            return t("asc.dynamic_shape", count=f"{f['count']:,}", wait=fmt_ns(f.get("task_wait_ns")))
        cores = f.get("core_counts") or {}
        return t("asc.block_dim", cores=f"AI Core {cores['ai_core']} / Vector Core {cores['vector_core']}")
    except (KeyError, TypeError):
        return "-"


def _ascend_breakdown(ctx: Context, breakdown: list[dict]) -> str:
    if not breakdown:
        return ""
    t = ctx.t
    english = (ctx.document["ascend"].get("definitions") or {}).get("time_breakdown", "")
    hint = f"{t('hint.formula')}: {ascend_formula('time_breakdown', ctx.lang, english)}"
    columns = (
        [Column(t("asc.step"))]
        + [
            Column(t(label), hint, numeric=True)
            for label in ("asc.e2e", "asc.compute", "asc.communication", "asc.not_overlapped", "asc.free")
        ]
        + [Column(t("asc.profiler"), hint)]
    )
    keys = ("e2e_ns", "compute_ns", "communication_ns", "communication_not_overlapped_ns", "free_ns")
    rows = []
    for step in breakdown[:MAX_ASCEND_STEPS]:
        ours, number = step.get("tracekit") or {}, step.get("step")
        theirs = step.get("step_trace_time") or step.get("overlap_analysis") or {}
        profiler = ", ".join(f"{fmt_ns(theirs.get(k))}" for k in keys) if theirs else "-"
        rows.append(
            [Cell("-" if number is None else str(number), number if isinstance(number, int) else None)]
            + [ns_cell(ours.get(k)) for k in keys]
            + [Cell(profiler)]
        )
    return (
        element("h3", text(t("asc.breakdown")))
        + table(columns, rows)
        + capped_rows_note(ctx, len(breakdown), min(len(breakdown), MAX_ASCEND_STEPS))
    )


# --- trace metadata and glossary -----------------------------------------------------------------


def metadata_section(ctx: Context) -> str:
    """Format, source, events, capture span, steps, options, warnings and the reader's metadata."""
    trace, t = ctx.document.get("trace") or {}, ctx.t
    steps = ctx.document.get("steps") or {}
    span = (trace.get("capture_span") or {}).get("duration_ns")
    step_text = (
        f"{steps['count']:,} (#{steps.get('first')}..#{steps.get('last')})" if steps.get("count") else "-"
    )
    items = [
        (t("meta.format"), str(trace.get("format", "-")), None),
        (t("meta.source"), str(trace.get("source", "-")), None),
        (t("meta.events"), f"{trace.get('events', 0):,}", None),
        (t("meta.capture_span"), fmt_ns(span), ctx.hint("capture_span", ctx.trace_window())),
        (t("meta.steps"), step_text, ctx.hint("steps.duration_ns", ctx.steps_window())),
        (t("meta.options"), _compact(ctx.document.get("options")), None),
    ]
    html = _definition_list(items)
    metadata = trace.get("metadata") or {}
    warnings = list(metadata.get("warnings") or [])
    html += element("h3", text(t("meta.warnings")))
    html += (
        bullet_list(_clip(w, MAX_METADATA_CHARS) for w in warnings[:MAX_WARNINGS])
        if warnings
        else paragraph(t("meta.none"), "note")
    )
    html += capped_rows_note(ctx, len(warnings), min(len(warnings), MAX_WARNINGS))
    for reader, values in metadata.items():
        if reader != "warnings" and isinstance(values, dict) and values:
            html += element("h3", text(t("meta.reader", reader=reader)))
            html += _definition_list([(key, _compact(value), None) for key, value in values.items()])
    return html


def glossary_section(ctx: Context) -> str:
    """Every definition of the analysis (and of its Ascend findings): metric -> window and formula."""
    html = _definition_list([(key, ctx.formula(key), None) for key in ctx.definitions], "glossary")
    ascend_definitions = (ctx.document.get("ascend") or {}).get("definitions") or {}
    if ascend_definitions:
        items = [(k, ascend_formula(k, ctx.lang, v), None) for k, v in ascend_definitions.items()]
        html += element("h3", text(ctx.t("gloss.ascend"))) + _definition_list(items, "glossary")
    return html


def _definition_list(items: list[tuple[str, str, str | None]], class_: str = "facts") -> str:
    body = "".join(
        element("dt", text(term)) + element("dd", text(value), title=hint) for term, value, hint in items
    )
    return element("dl", body, class_=class_)


def _compact(value: object) -> str:
    """A metadata value on one line: scalars as they are, the rest as clipped JSON."""
    if isinstance(value, str | int | float | bool) or value is None:
        return "-" if value is None else str(value)
    return _clip(json.dumps(value, ensure_ascii=False, default=str), MAX_METADATA_CHARS)


def _clip(value: str, width: int) -> str:
    value = str(value)
    return value if len(value) <= width else value[: width - 1] + "…"
