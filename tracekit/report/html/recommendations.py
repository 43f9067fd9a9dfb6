"""The recommendations section: the plan and the step-time findings first, then the throughput
levers, then memory (tracekit/report/html/plan.py); each finding with evidence, gain, actions and its
alternatives. Then the rules that were checked and did not fire, with the reason.

The texts inside the recommendations block are already in the report's language (the rules
engine writes them); this module adds only the report's own labels.
"""

from __future__ import annotations

from tracekit.analysis.document.recommendations import (
    CaseStudy,
    EvidenceRow,
    Fired,
    GainInfo,
    Offenders,
    PlanSummary,
    Recommendations,
)
from tracekit.formatting import fmt_ns, fmt_share
from tracekit.report.formulas import translated_formula
from tracekit.report.html.cases import case_id
from tracekit.report.html.context import Context
from tracekit.report.html.markup import Cell, Column, bullet_list, element, paragraph, table, text
from tracekit.report.html.plan import (
    alternatives_block,
    group_heading,
    grouped,
    plan_block,
    throughput_note,
    times,
)

MAX_OFFENDER_ROWS = 50
NETWORK_SCHEMES = ("http://", "https://")


def recommendations_section(ctx: Context, recommendations: Recommendations | None) -> str:
    """Fired rules by group, the plan heading the step-time ones; a note when none fired or the
    analysis has no recommendations."""
    t = ctx.t
    if recommendations is None:
        return paragraph(t("rec.absent"), "note")
    platform = paragraph(t("rec.platform", platform=recommendations.platform), "note")
    if not recommendations.fired:
        return platform + paragraph(t("rec.none"), "note")
    plan = recommendations.plan
    groups = grouped(recommendations.fired)
    return platform + "".join(
        _group(ctx, group, findings, plan) for group, findings in groups.items() if findings
    )


def _group(ctx: Context, group: str, findings: list[Fired], plan: PlanSummary | None) -> str:
    """One group: its heading, the plan (latency) or the latency costs (throughput), its findings."""
    intro = ""
    if group == "latency":
        intro = plan_block(ctx, plan, findings)
    elif group == "throughput":
        intro = throughput_note(ctx, findings)
    steps = len(plan.steps) if plan else 0
    articles = "".join(_recommendation(ctx, rule, steps) for rule in findings)
    return element("div", group_heading(ctx, group, findings) + intro + articles, class_=f"rec-{group}")


def checked_section(ctx: Context, recommendations: Recommendations | None) -> str:
    """The rules that were evaluated and did not fire, then those that did not apply, with the reason."""
    checked = sorted(
        recommendations.checked if recommendations else [], key=lambda r: r.status == "not_applicable"
    )
    if not checked:
        return ""
    t = ctx.t
    columns = [Column(t("col.rule")), Column(t("col.status")), Column(t("col.reason"))]
    rows = [
        [Cell(f"{rule.title} ({rule.id})"), Cell(_status(ctx, rule.status)), Cell(rule.reason)]
        for rule in checked
    ]
    return table(columns, rows)


def _status(ctx: Context, status: str) -> str:
    return ctx.t(f"status.{status}") if status in ("not_fired", "not_applicable") else status or "-"


def _recommendation(ctx: Context, rule: Fired, plan_steps: int) -> str:
    t = ctx.t
    speedup = rule.gain.speedup if rule.gain else None
    hint = f"{t('hint.formula')}: {ctx.formula('gain.speedup')}"
    badge = element("span", text(times(speedup)), class_="speedup", title=hint) if speedup else ""
    heading = element(
        "h4",
        element("span", text(t("rec.rank", rank=rule.rank)), class_="rank")
        + " "
        + text(rule.title)
        + " "
        + badge,
    )
    parts = [
        heading,
        element("p", text(rule.summary), class_="summary"),
        _evidence(ctx, rule.evidence),
        _offenders(ctx, rule.offenders),
        _gain(ctx, rule.gain, plan_steps),
        alternatives_block(ctx, rule.alternatives),
        _actions(ctx, rule.actions),
        _case_study(ctx, rule.case_study),
    ]
    return element("article", "".join(parts), class_="recommendation", id=f"rule-{rule.id}")


def _evidence(ctx: Context, evidence: list[EvidenceRow]) -> str:
    if not evidence:
        return ""
    t = ctx.t
    columns = [Column(t("col.label")), Column(t("col.value"), numeric=True), Column(t("col.formula"))]
    return element("h5", text(t("rec.evidence"))) + table(
        columns, [_evidence_row(ctx, item) for item in evidence]
    )


def _evidence_row(ctx: Context, item: EvidenceRow) -> list[Cell]:
    """Label, value and formula; a formula from the analysis' definitions in the report's language."""
    formula = translated_formula(item.formula, ctx.lang)
    hint = f"{ctx.t('hint.formula')}: {formula}"
    return [Cell(item.label), Cell(item.value, hint=hint, numeric=True), Cell(formula)]


def _offenders(ctx: Context, offenders: Offenders | None) -> str:
    if offenders is None or not offenders.rows:
        return ""
    t, all_rows, names = ctx.t, offenders.rows, offenders.columns
    shown = all_rows[:MAX_OFFENDER_ROWS]
    numeric = [
        bool(shown) and all(_is_number(row[i]) for row in shown if i < len(row)) for i in range(len(names))
    ]
    hint = t("rec.offenders_hint")
    columns = [Column(str(name), hint, numeric=numeric[i]) for i, name in enumerate(names)]
    rows = [[_offender_cell(row[i] if i < len(row) else "") for i in range(len(names))] for row in shown]
    note = (
        paragraph(t("rec.offenders_more", shown=len(shown), total=len(all_rows)), "note")
        if len(all_rows) > len(shown)
        else ""
    )
    return element("h5", text(t("rec.offenders"))) + table(columns, rows, sortable=True) + note


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _offender_cell(value: object) -> Cell:
    if not _is_number(value):
        return Cell(str(value))
    shown = f"{value:,}" if isinstance(value, int) else f"{value:,.4g}"
    return Cell(shown, value, numeric=True)


def _gain(ctx: Context, gain: GainInfo | None, plan_steps: int) -> str:
    if gain is None:
        return ""
    t = ctx.t
    items = _gain_facts(ctx, gain, plan_steps)
    facts = element(
        "dl", "".join(_fact(label, value, hint) for label, value, hint in items), class_="facts gain"
    )
    assumptions = gain.assumptions
    extra = element("h6", text(t("rec.assumptions"))) + bullet_list(assumptions) if assumptions else ""
    return element("h5", text(t("rec.gain"))) + facts + extra


def _gain_facts(ctx: Context, gain: GainInfo, plan_steps: int) -> list[tuple[str, str, str | None]]:
    """(label, value, hover formula) of each known part of the gain."""
    t = ctx.t
    formula = t("hint.formula")
    metric = gain.metric
    metric_label = t(f"rec.metric.{metric}") if metric in ("step_time", "throughput") else metric
    if gain.upper_bound:
        metric_label += ", " + t("rec.upper_bound")
    items: list[tuple[str, str, str | None]] = []
    if gain.speedup is not None:
        items.append(
            (
                t("rec.speedup"),
                f"{times(gain.speedup)} ({metric_label})",
                f"{formula}: {ctx.formula('gain.speedup')}",
            )
        )
    if gain.plan_step is not None:
        items.append(
            (t("rec.plan_step"), t("rec.plan_step_value", step=gain.plan_step, count=plan_steps), None)
        )
    if gain.cumulative_speedup is not None:
        items.append(
            (
                t("rec.cumulative"),
                times(gain.cumulative_speedup),
                f"{formula}: {ctx.formula('plan.cumulative_speedup')}",
            )
        )
    if gain.baseline_step_ns is not None or gain.predicted_step_ns is not None:
        step_times = f"{fmt_ns(gain.baseline_step_ns)} → {fmt_ns(gain.predicted_step_ns)}"
        items.append((t("rec.step_time"), step_times, None))
    if gain.latency_cost is not None:
        items.append(
            (
                t("rec.latency_cost"),
                times(gain.latency_cost),
                f"{formula}: {ctx.formula('gain.latency_cost')}",
            )
        )
    if gain.amdahl_bound is not None:
        items.append((t("rec.amdahl"), times(gain.amdahl_bound), None))
    if gain.removable_share is not None:
        items.append((t("rec.removable"), fmt_share(gain.removable_share), None))
    if gain.method:
        items.append((t("rec.method"), gain.method, None))
    return items


def _fact(label: str, value: str, hint: str | None) -> str:
    return element("dt", text(label)) + element("dd", text(value), title=hint)


def _actions(ctx: Context, actions: list[str]) -> str:
    return element("h5", text(ctx.t("rec.actions"))) + bullet_list(actions, ordered=True) if actions else ""


def _case_study(ctx: Context, case_study: CaseStudy | None) -> str:
    """The case study told in the report: its title and one line on what it found (no file to open).
    A web address makes the title a link (followed only when clicked)."""
    if case_study is None:
        return ""
    case, ref = case_id(case_study), case_study.ref
    title = ctx.t(f"case.{case}.title") if case else case_study.title or ref
    if not title:
        return ""
    shown = (
        element("a", text(title), href=ref, rel="noopener noreferrer", target="_blank")
        if ref.startswith(NETWORK_SCHEMES)
        else element("em", text(title))
    )
    found = " \u2014 " + text(ctx.t(f"case.{case}.found")) if case else ""
    return element(
        "p", element("strong", text(ctx.t("rec.case_study") + ": ")) + shown + found, class_="case-study"
    )
