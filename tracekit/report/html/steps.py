"""The sections about steps: the representative step's timeline, and the step latency statistics
with the per-step chart."""

from __future__ import annotations

from tracekit.formatting import fmt_ns
from tracekit.report.html import charts
from tracekit.report.html.context import Context
from tracekit.report.html.markup import element, paragraph, text


def timeline_section(ctx: Context) -> str:
    """The representative step's events by lane, coloured by kind."""
    timeline = ctx.document.timeline
    if timeline is None or not timeline.events.lane:
        return ""
    spec = charts.timeline_chart(timeline, ctx.t, ctx.max_timeline_events)
    if spec is None:
        return ""
    shown, total = len(spec["lane"]), timeline.total_events
    values = {"selection": timeline.selection, "shown": f"{shown:,}", "total": f"{total:,}"}
    caption = (
        ctx.t("tl.caption", step=timeline.step, **values)
        if timeline.step is not None
        else ctx.t("tl.caption_nostep", **values)
    )
    return paragraph(caption, "note") + ctx.chart(spec, caption, captioned=False)


def steps_section(ctx: Context) -> str:
    """Step statistics and the per-step latency chart."""
    steps, t = ctx.document.steps, ctx.t
    if not steps.count:
        return paragraph(t("steps.none"), "note")
    d = steps.duration_ns
    summary = t(
        "steps.summary",
        count=f"{steps.count:,}",
        first=steps.first,
        last=steps.last,
        p50=fmt_ns(d.p50),
        p90=fmt_ns(d.p90),
        p99=fmt_ns(d.p99),
        mean=fmt_ns(d.mean),
        max=fmt_ns(d.max),
    )
    html = element("p", text(summary), title=ctx.hint("steps.duration_ns", ctx.steps_window()))
    stride = steps.series.stride if steps.series is not None else 1
    if stride > 1:
        html += paragraph(t("steps.stride", stride=stride), "note")
    return html + ctx.chart(charts.step_series_chart(steps, t), t("sec.steps"), captioned=False)
