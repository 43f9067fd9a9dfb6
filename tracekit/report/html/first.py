"""The report's opening: a short "Do this first" list (the top findings with their gains, linked to
their detail), and the hint for a trace without steps. Built from the recommendations block."""

from __future__ import annotations

from tracekit.analysis.document.recommendations import Fired, GainInfo, PlanSummary, Recommendations
from tracekit.formatting import fmt_ns
from tracekit.report.html.context import Context
from tracekit.report.html.markup import element, paragraph, text
from tracekit.report.html.plan import grouped, times
from tracekit.report.step_markers import STEP_MARKER_USAGE, step_marker_examples

FIRST_FINDINGS = 3


def do_first_section(ctx: Context, recommendations: Recommendations | None) -> str:
    """Up to FIRST_FINDINGS findings (step-time ones in plan order, then throughput, then memory),
    each with its gain; the plan's end result under them. A sentence when nothing fired."""
    if recommendations is None:
        return ""
    t, fired = ctx.t, recommendations.fired
    if not fired:
        return paragraph(t("first.none", checked=len(recommendations.checked)), "note")
    ordered = [finding for findings in grouped(fired).values() for finding in findings]
    items = "".join(_item(ctx, finding) for finding in ordered[:FIRST_FINDINGS])
    more = len(ordered) - FIRST_FINDINGS
    tail = paragraph(t("first.more", count=more), "note") if more > 0 else ""
    return element("ol", items, class_="do-first") + _plan_line(ctx, recommendations.plan) + tail


def _item(ctx: Context, finding: Fired) -> str:
    link = element("a", text(finding.title or finding.id), href=f"#rule-{finding.id}")
    gain = element("span", text(gain_words(ctx, finding.gain)), class_="speedup")
    summary = element("div", text(finding.summary), class_="first-summary")
    return element("li", link + " " + gain + summary)


def gain_words(ctx: Context, gain: GainInfo | None) -> str:
    """`x1.94 step time` (with the multiplication sign), `x1.89 throughput`, or that the gain was not
    estimated."""
    if gain is None or gain.speedup is None:
        return ctx.t("first.gain.none")
    key = "first.gain.throughput" if gain.metric == "throughput" else "first.gain.step"
    return ctx.t(key, speedup=times(gain.speedup))


def _plan_line(ctx: Context, plan: PlanSummary | None) -> str:
    if plan is None or len(plan.steps) < 2:
        return ""
    return paragraph(
        ctx.t(
            "first.plan",
            count=len(plan.steps),
            baseline=fmt_ns(plan.baseline_step_ns),
            predicted=fmt_ns(plan.predicted_step_ns),
            speedup=times(plan.speedup),
        ),
        "plan",
    )


def no_steps_hint(ctx: Context) -> str:
    """Without ProfilerStep: how to make steps (--steps nvtx:NAME) with the most frequent ranges."""
    if ctx.document.steps.count:
        return ""
    names = ctx.document.trace.marker_names
    if not names:
        return paragraph(ctx.t("steps.none_no_ranges"), "warning")
    commands = ", ".join(step_marker_examples(names))
    return paragraph(ctx.t("steps.none_hint", option=STEP_MARKER_USAGE, ranges=commands), "warning")
