"""The recommendations' groups and plan: the step-time findings in plan order under "Do this first"
with the cumulative predicted step time, the throughput levers with their latency cost, then memory
(the `recommendations.plan` block and each finding's `group`, `gain` and `alternatives`).
"""

from __future__ import annotations

from tracekit.analysis.document.recommendations import Alternative, Fired, PlanSummary
from tracekit.formatting import fmt_ns
from tracekit.report.html.context import Context
from tracekit.report.html.markup import Cell, Column, element, paragraph, table, text

GROUPS = ("latency", "throughput", "memory")
TIMES = "\u00d7"  # the multiplication sign of a speedup


def times(value: float | None) -> str:
    """A speedup or ratio as the multiplication sign and two decimals; `-` when unknown."""
    return "-" if value is None else f"{TIMES}{value:.2f}"


def group_of(finding: Fired) -> str:
    """The finding's group; one without a group (an analysis older than the plan) is a latency one."""
    return finding.group if finding.group in GROUPS else "latency"


def plan_step(finding: Fired) -> int | None:
    """The finding's 1-based place in the plan, None outside it."""
    return finding.gain.plan_step if finding.gain else None


def grouped(fired: list[Fired]) -> dict[str, list[Fired]]:
    """Findings by group, in GROUPS order: latency ones in plan order then by rank, others by rank."""
    by_rank = sorted(fired, key=lambda finding: finding.rank)
    groups: dict[str, list[Fired]] = {group: [] for group in GROUPS}
    for finding in by_rank:
        groups[group_of(finding)].append(finding)
    groups["latency"].sort(key=lambda finding: (plan_step(finding) is None, plan_step(finding) or 0))
    return groups


def group_heading(ctx: Context, group: str, findings: list[Fired]) -> str:
    """The group's heading; the throughput levers' names their latency cost."""
    if group != "throughput":
        return element("h3", text(ctx.t(f"rec.group.{group}")), class_="rec-group")
    costs = _latency_costs(findings)
    if not costs:
        return element("h3", text(ctx.t("rec.group.throughput_free")), class_="rec-group")
    low, high = times(min(costs)), times(max(costs))
    shown = low if low == high else f"{low}\u2013{high}"
    return element("h3", text(ctx.t("rec.group.throughput", cost=shown)), class_="rec-group")


def plan_block(ctx: Context, plan: PlanSummary | None, findings: list[Fired]) -> str:
    """The predicted step time after the plan, then one row per step of it; nothing without steps."""
    if plan is None or not plan.steps:
        return ""
    t = ctx.t
    key = "plan.line_upper" if plan.upper_bound else "plan.line"
    line = t(
        key,
        baseline=fmt_ns(plan.baseline_step_ns),
        predicted=fmt_ns(plan.predicted_step_ns),
        speedup=times(plan.speedup),
    )
    hint = _formula(ctx, "plan")
    note = paragraph(t("plan.upper_note"), "note") if plan.upper_bound else ""
    return element("p", text(line), class_="plan", title=hint) + _plan_table(ctx, plan, findings) + note


def _plan_table(ctx: Context, plan: PlanSummary, findings: list[Fired]) -> str:
    t = ctx.t
    by_id = {finding.id: finding for finding in findings}
    rows = [
        [Cell("0"), Cell(t("plan.baseline")), Cell("-"), _ns(plan.baseline_step_ns), Cell(times(1.0), 1.0)]
    ]
    for place, rule_id in enumerate(plan.steps, start=1):
        finding = by_id.get(rule_id)
        gain = finding.gain if finding else None
        speedup, cumulative = (gain.speedup, gain.cumulative_speedup) if gain else (None, None)
        rows.append(
            [
                Cell(str(place), place),
                Cell(finding.title if finding and finding.title else rule_id),
                Cell(times(speedup), speedup),
                _ns(gain.predicted_step_ns if gain else None),
                Cell(times(cumulative), cumulative),
            ]
        )
    columns = [
        Column(t("plan.col.step"), numeric=True),
        Column(t("plan.col.change")),
        Column(t("plan.col.gain"), _formula(ctx, "plan.gain"), numeric=True),
        Column(t("plan.col.after"), _formula(ctx, "plan.predicted_step_ns"), numeric=True),
        Column(t("plan.col.cumulative"), _formula(ctx, "plan.cumulative_speedup"), numeric=True),
    ]
    return table(columns, rows)


def throughput_note(ctx: Context, findings: list[Fired]) -> str:
    """Why the throughput levers stand apart, and each one's latency cost."""
    t = ctx.t
    costs = [
        element(
            "li",
            text(
                t(
                    "thr.cost",
                    title=finding.title,
                    cost=times(finding.gain.latency_cost),
                    baseline=fmt_ns(finding.gain.baseline_step_ns),
                    predicted=fmt_ns(finding.gain.predicted_step_ns),
                )
            ),
            title=_formula(ctx, "gain.latency_cost"),
        )
        for finding in findings
        if finding.gain and finding.gain.latency_cost is not None
    ]
    listed = element("ul", "".join(costs), class_="costs") if costs else ""
    return paragraph(t("thr.note"), "note") + listed


def alternatives_block(ctx: Context, alternatives: list[Alternative]) -> str:
    """The other actions on the same cause: title and gain alone."""
    if not alternatives:
        return ""
    hint = _formula(ctx, "gain.alternative")
    items = "".join(
        element(
            "li",
            text(alternative.title or alternative.id)
            + " "
            + element("span", text(times(alternative.speedup)), class_="alt-gain", title=hint),
        )
        for alternative in alternatives
    )
    return element("h5", text(ctx.t("rec.alternatives"))) + element("ul", items, class_="alternatives")


def _latency_costs(findings: list[Fired]) -> list[float]:
    return [f.gain.latency_cost for f in findings if f.gain and f.gain.latency_cost is not None]


def _ns(value: int | None) -> Cell:
    return Cell(fmt_ns(value), value)


def _formula(ctx: Context, key: str) -> str:
    return f"{ctx.t('hint.formula')}: {ctx.formula(key)}"
