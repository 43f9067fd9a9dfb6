"""The terminal's recommendations: the findings table by group (step time, throughput, memory), each
with its alternatives; then the plan in one line and the median step's attribution in another."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

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


def recommendations_group(analysis: dict) -> Group:
    """The table (a sentence when nothing fired), the rules checked, the plan line and the attribution
    line (each left out when it has nothing)."""
    block = analysis["recommendations"]
    lines = [
        recommendations_table(block) if block["fired"] else no_findings_line(block),
        *checked_lines(block),
        plan_line(block),
        attribution_line(analysis, block),
    ]
    return Group(*[line for line in lines if line is not None])


def recommendations_table(block: dict) -> Table:
    """Fired rules by group, in rank order inside a group."""
    table = Table(title="Recommendations (by group, then plan order or gain; details in the HTML report)",
                  title_justify="left")  # fmt: skip
    for column in ("group", "#", "gain", "recommendation", "why"):
        table.add_column(column, justify="right" if column in ("#", "gain") else "left",
                         no_wrap=column in ("group", "#"))  # fmt: skip
    for group, findings in _grouped(block["fired"]).items():
        if not findings:
            continue
        if table.row_count:
            table.add_section()
        for i, rule in enumerate(findings):
            title = rule["title"] + _alternatives_text(rule.get("alternatives") or [])
            table.add_row(group if i == 0 else "", str(rule["rank"]), gain_text(rule["gain"]), title,
                          rule["summary"])  # fmt: skip
    return table


def no_findings_line(block: dict) -> Text:
    """The sentence that stands for an empty table."""
    checked = len(block["checked"])
    return Text(f"Recommendations: none; no rule found something to change ({checked} rules checked).",
                style="bold")  # fmt: skip


def checked_lines(block: dict) -> list[Text]:
    """The rules that were checked and did not fire, apart from those the trace gave no data for."""
    by_status: dict[str, list[str]] = {status: [] for status in CHECKED_LABELS}
    for rule in block["checked"]:
        by_status.setdefault(rule.get("status") or "not_fired", []).append(rule["id"])
    return [
        Text(f"{CHECKED_LABELS.get(status, status)}: {', '.join(ids)}", style="dim")
        for status, ids in by_status.items()
        if ids
    ]


def gain_text(gain: dict | None) -> str:
    """`3.12x step`, or `1.94x throughput (step x1.03)` with a throughput lever's latency cost."""
    if not gain or gain["speedup"] is None:
        return "-"
    if gain["metric"] != "throughput":
        return f"{gain['speedup']:.2f}x step"
    cost = gain.get("latency_cost")
    return f"{gain['speedup']:.2f}x throughput" + ("" if cost is None else f" (step x{cost:.2f})")


def plan_line(block: dict) -> Text | None:
    """`plan: h2d-batch x3.12 -> graph-launch x2.12: 1.01 ms -> 153 us (x6.61, upper bound)`."""
    plan = block.get("plan")
    if not plan or not plan.get("steps"):
        return None
    gains = {rule["id"]: (rule.get("gain") or {}).get("speedup") for rule in block["fired"]}
    steps = " -> ".join(f"{rule_id}{_times(gains.get(rule_id))}" for rule_id in plan["steps"])
    bound = ", upper bound" if plan.get("upper_bound") else ""
    return Text(
        f"plan: {steps}: {fmt_ns(plan['baseline_step_ns'])} -> {fmt_ns(plan['predicted_step_ns'])} "
        f"(x{plan['speedup']:.2f}{bound})"
    )


def attribution_line(analysis: dict, block: dict) -> Text | None:
    """`median step #9 1.04 ms: launch_overhead 61.4 %, host_cpu 25.5 %, sync 6.5 % (...)` for the
    device the recommendations were computed on."""
    attribution = attribution_of(attributed_device(analysis, block.get("device")))
    if attribution is None:
        return None
    median, categories = attribution.get("median_step") or {}, attribution["categories"]
    total = step_total(median, categories)
    if not total:
        return None
    largest = largest_categories(median, categories, ATTRIBUTION_CATEGORIES)
    shares = ", ".join(f"{name} {fmt_share(ns / total)}" for name, ns in largest)
    return Text(
        f"median step #{median_step_number(attribution)} {fmt_ns(total)}: {shares} "
        "(critical-path attribution, docs/metrics.md)"
    )


def _grouped(fired: list[dict]) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = {group: [] for group in GROUPS}
    for rule in sorted(fired, key=lambda rule: rule["rank"]):
        groups[rule.get("group") if rule.get("group") in GROUPS else "latency"].append(rule)
    return groups


def _alternatives_text(alternatives: list[dict]) -> str:
    """` (also: pin-memory x1.11, host-syncs x1.11)`, or nothing."""
    if not alternatives:
        return ""
    return " (also: " + ", ".join(f"{alt['id']}{_times(alt.get('speedup'))}" for alt in alternatives) + ")"


def _times(speedup: float | None) -> str:
    return "" if speedup is None else f" x{speedup:.2f}"
