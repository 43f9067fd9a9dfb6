"""The terminal's recommendations: the findings table by group (step time, throughput, memory), each
with its alternatives; then the plan in one line and the median step's attribution in another."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from tracekit.analysis.document import Document
from tracekit.analysis.document.recommendations import Alternative, Fired, GainInfo, Recommendations
from tracekit.formatting import fmt_ns, fmt_share
from tracekit.report.step_attribution import (
    attributed_device,
    attribution_of,
    largest_categories,
    median_step_number,
    step_total,
)

GROUPS = ("latency", "throughput", "memory")
ATTRIBUTION_CATEGORIES = 3  # the attribution line names the largest three
CHECKED_LABELS = {"not_fired": "checked, did not fire", "not_applicable": "not applicable (no data for them)"}


def recommendations_group(analysis: Document) -> Group:
    """The table (a sentence when nothing fired), the rules checked, the plan line and the attribution
    line (each left out when it has nothing)."""
    block = analysis.recommendations
    lines = [
        recommendations_table(block) if block.fired else no_findings_line(block),
        *checked_lines(block),
        plan_line(block),
        attribution_line(analysis, block),
    ]
    return Group(*[line for line in lines if line is not None])


def recommendations_table(block: Recommendations) -> Table:
    """Fired rules by group, in rank order inside a group."""
    table = Table(title="Recommendations (by group, then plan order or gain; details in the HTML report)",
                  title_justify="left")  # fmt: skip
    for column in ("group", "#", "gain", "recommendation", "why"):
        table.add_column(column, justify="right" if column in ("#", "gain") else "left",
                         no_wrap=column in ("group", "#"))  # fmt: skip
    for group, findings in _grouped(block.fired).items():
        if not findings:
            continue
        if table.row_count:
            table.add_section()
        for i, rule in enumerate(findings):
            title = rule.title + _alternatives_text(rule.alternatives)
            table.add_row(group if i == 0 else "", str(rule.rank), gain_text(rule.gain), title,
                          rule.summary)  # fmt: skip
    return table


def no_findings_line(block: Recommendations) -> Text:
    """The sentence that stands for an empty table."""
    checked = len(block.checked)
    return Text(f"Recommendations: none; no rule found something to change ({checked} rules checked).",
                style="bold")  # fmt: skip


def checked_lines(block: Recommendations) -> list[Text]:
    """The rules that were checked and did not fire, apart from those the trace gave no data for."""
    by_status: dict[str, list[str]] = {status: [] for status in CHECKED_LABELS}
    for rule in block.checked:
        by_status.setdefault(rule.status or "not_fired", []).append(rule.id)
    return [
        Text(f"{CHECKED_LABELS.get(status, status)}: {', '.join(ids)}", style="dim")
        for status, ids in by_status.items()
        if ids
    ]


def gain_text(gain: GainInfo | None) -> str:
    """`3.12x step`, or `1.94x throughput (step x1.03)` with a throughput lever's latency cost."""
    if gain is None or gain.speedup is None:
        return "-"
    if gain.metric != "throughput":
        return f"{gain.speedup:.2f}x step"
    cost = gain.latency_cost
    return f"{gain.speedup:.2f}x throughput" + ("" if cost is None else f" (step x{cost:.2f})")


def plan_line(block: Recommendations) -> Text | None:
    """`plan: h2d-batch x3.12 -> graph-launch x2.12: 1.01 ms -> 153 us (x6.61, upper bound)`."""
    plan = block.plan
    if plan is None or not plan.steps:
        return None
    gains = {rule.id: rule.gain.speedup if rule.gain else None for rule in block.fired}
    steps = " -> ".join(f"{rule_id}{_times(gains.get(rule_id))}" for rule_id in plan.steps)
    bound = ", upper bound" if plan.upper_bound else ""
    return Text(
        f"plan: {steps}: {fmt_ns(plan.baseline_step_ns)} -> {fmt_ns(plan.predicted_step_ns)} "
        f"(x{plan.speedup:.2f}{bound})"
    )


def attribution_line(analysis: Document, block: Recommendations) -> Text | None:
    """`median step #9 1.04 ms: launch_overhead 61.4 %, host_cpu 25.5 %, sync 6.5 % (...)` for the
    device the recommendations were computed on."""
    attribution = attribution_of(attributed_device(analysis, block.device))
    if attribution is None:
        return None
    median, categories = attribution.median_step, attribution.categories
    total = step_total(median, categories)
    if not total:
        return None
    largest = largest_categories(median, categories, ATTRIBUTION_CATEGORIES)
    shares = ", ".join(f"{name} {fmt_share(ns / total)}" for name, ns in largest)
    return Text(
        f"median step #{median_step_number(attribution)} {fmt_ns(total)}: {shares} "
        "(critical-path attribution, docs/metrics.md)"
    )


def _grouped(fired: list[Fired]) -> dict[str, list[Fired]]:
    groups: dict[str, list[Fired]] = {group: [] for group in GROUPS}
    for rule in sorted(fired, key=lambda rule: rule.rank):
        groups[rule.group if rule.group in GROUPS else "latency"].append(rule)
    return groups


def _alternatives_text(alternatives: list[Alternative]) -> str:
    """` (also: pin-memory x1.11, host-syncs x1.11)`, or nothing."""
    if not alternatives:
        return ""
    return " (also: " + ", ".join(f"{alt.id}{_times(alt.speedup)}" for alt in alternatives) + ")"


def _times(speedup: float | None) -> str:
    return "" if speedup is None else f" x{speedup:.2f}"
