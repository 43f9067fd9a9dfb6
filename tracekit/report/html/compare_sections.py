"""Sections of the diff report, from a `tracekit.diff/1` document: headline cards, steps, operators,
recommendations and every metric. Each builder returns the section's inner HTML, or "" when the
document has nothing for it."""

from __future__ import annotations

from tracekit.analysis.document.recommendations import Fired, Recommendations
from tracekit.report.ci import format_change, format_value
from tracekit.report.html import compare_charts
from tracekit.report.html.cells import MAX_TABLE_ROWS, capped_rows_note, count_cell, ns_cell
from tracekit.report.html.compare_charts import SIDES, operator_label
from tracekit.report.html.context import Context
from tracekit.report.html.markup import Cell, Column, bullet_list, element, paragraph, table, text

HEADLINE_PATHS = (
    "step.p50",
    "step.p99",
    "utilization",
    "device.busy_per_step_ns",
    "kernel.total_per_step_ns",
    "h2d.per_step",
    "bubbles.count",
    "host.launch_calls_per_step",
    "host.cpu_per_step_ns",
)
STEP_STATS = ("count", "p50", "p90", "p99", "mean", "max")
MAX_NAMES = 50  # appeared / vanished operators listed


def headline_section(ctx: Context, diff: dict) -> str:
    """One card per headline metric the document has (older documents lack the host ones):
    BASE | NEW | change."""
    rows = {row["path"]: row for row in diff["metrics"]}
    cards = [_metric_card(ctx, rows[path]) for path in HEADLINE_PATHS if path in rows]
    return _sides_facts(ctx, diff) + element("div", "".join(cards), class_="cards compare-cards")


def _sides_facts(ctx: Context, diff: dict) -> str:
    t = ctx.t
    items = "".join(
        element("dt", text(t(f"cmp.{side}")))
        + element("dd", text(t("cmp.side_source", source=diff[side]["source"], steps=diff[side]["steps"])))
        for side in SIDES
    )
    return element("dl", items, class_="facts")


def _metric_card(ctx: Context, row: dict) -> str:
    t, unit = ctx.t, row["unit"]
    values = (
        ("base", format_value(row["base"], unit)),
        ("new", format_value(row["new"], unit)),
        ("change", format_change(row)),
    )
    sides = "".join(
        element(
            "div",
            element("div", text(t(f"cmp.{key}")), class_="card-label")
            + element("div", text(value), class_="card-value"),
            class_=f"card-side side-{key}",
        )
        for key, value in values
    )
    direction = row.get("direction")  # worse / better / same, in newer documents
    return element(
        "div",
        element("div", text(t(f"cmp.metric.{row['path']}")), class_="card-label")
        + element("div", sides, class_="card-sides")
        + element("div", text(row["path"]), class_="card-formula"),
        class_=f"card compare-card direction-{direction}" if direction else "card compare-card",
        title=t("cmp.metric_hint", path=row["path"], stability=row["stability"]),
        data_path=row["path"],
    )


# --- steps ---------------------------------------------------------------------------------------


def steps_section(ctx: Context, diff: dict) -> str:
    """Both step distributions side by side, the shift of NEW against BASE, and two charts."""
    steps, t = diff["steps"], ctx.t
    if not (steps["base"]["count"] or steps["new"]["count"]):
        return paragraph(t("steps.none"), "note")
    hint = t("cmp.steps_hint")
    columns = [Column(t("cmp.side"))] + [
        Column(t(f"cmp.stat.{key}"), hint, numeric=True) for key in STEP_STATS
    ]
    rows = [[t(f"cmp.{side}"), *_step_cells(steps[side])] for side in SIDES]
    charts_html = ctx.chart(
        compare_charts.step_distribution_chart(steps, t), t("cmp.steps_distribution")
    ) + ctx.chart(compare_charts.step_series_chart(steps, t), t("cmp.steps_series"))
    return (
        table(columns, rows)
        + _shift_paragraph(ctx, steps["shift"])
        + element("div", charts_html, class_="chart-row")
    )


def _step_cells(distribution: dict) -> list[Cell]:
    count = count_cell(distribution["count"])
    return [count, *(ns_cell(distribution.get(key)) for key in STEP_STATS[1:])]


def _shift_paragraph(ctx: Context, shift: dict | None) -> str:
    t = ctx.t
    if shift is None:
        return paragraph(t("cmp.no_shift"), "note")
    low, high = shift["interval"]
    interval = (
        t("cmp.no_interval", confidence=f"{shift['confidence']:.0%}")
        if low is None
        else f"[{signed_value(low)}, {signed_value(high)}]"
    )
    line = t(
        "cmp.shift",
        shift=signed_value(shift["shift"]),
        interval=interval,
        confidence=f"{shift['confidence']:.0%}",
        test=shift["test"],
        p=f"{shift['p']:.3g}",
    )
    return element("p", text(line), class_="summary", title=t("cmp.shift_hint"))


def signed_value(value: float, unit: str = "ns") -> str:
    """A change with its sign in its unit: `+1.07 ms`, `-35 µs`, `+2.10 pp` for fractions."""
    if unit == "fraction":
        return f"{100 * value:+.2f} pp"
    return f"{'-' if value < 0 else '+'}{format_value(abs(value), unit)}"


# --- operators -----------------------------------------------------------------------------------


def operators_section(ctx: Context, block: dict) -> str:
    """The operators that moved most (chart), every aligned operator with the biggest regressions
    first then the biggest improvements, and the operators that appeared or vanished."""
    t = ctx.t
    if not block["aligned"]:
        return paragraph(t("cmp.no_operators"), "note")
    per = t(compare_charts.per_key(block))
    chart = ctx.chart(compare_charts.operator_delta_chart(block, t), t("cmp.moved_most", per=per))
    ordered = ordered_operators(block["aligned"])
    shown = ordered[:MAX_TABLE_ROWS]
    return (
        chart
        + _operator_table(ctx, shown, per)
        + capped_rows_note(ctx, len(ordered), len(shown))
        + _names(ctx, "cmp.appeared", block["appeared"])
        + _names(ctx, "cmp.vanished", block["vanished"])
    )


def ordered_operators(rows: list[dict]) -> list[dict]:
    """Slower operators by decreasing change, then faster ones by decreasing gain, then the rest."""
    slower = sorted((r for r in rows if r["delta_ns"] > 0), key=lambda r: -r["delta_ns"])
    faster = sorted((r for r in rows if r["delta_ns"] < 0), key=lambda r: r["delta_ns"])
    return slower + faster + [r for r in rows if not r["delta_ns"]]


def _operator_table(ctx: Context, rows: list[dict], per: str) -> str:
    t = ctx.t
    columns = [
        Column(t("cmp.movement")),
        Column(t("cmp.name")),
        Column(t("cmp.base_count"), numeric=True),
        Column(t("cmp.new_count"), numeric=True),
        Column(t("cmp.base_total"), t("cmp.total_hint"), numeric=True),
        Column(t("cmp.new_total"), t("cmp.total_hint"), numeric=True),
        Column(t("cmp.delta", per=per), t("cmp.delta_hint", per=per), numeric=True),
    ]
    body = [
        [
            t(f"cmp.move.{_movement(row)}"),
            operator_label(row),
            count_cell(row["base_count"], t("cmp.count_hint")),
            count_cell(row["new_count"], t("cmp.count_hint")),
            ns_cell(row["base_total_ns"]),
            ns_cell(row["new_total_ns"]),
            Cell(signed_value(row["delta_ns"]), row["delta_ns"], numeric=True),
        ]
        for row in rows
    ]
    return table(columns, body, sortable=True)


def _movement(row: dict) -> str:
    if row["status"] != "both":
        return row["status"]
    return "slower" if row["delta_ns"] > 0 else "faster" if row["delta_ns"] < 0 else "unchanged"


def _names(ctx: Context, key: str, names: list[str]) -> str:
    if not names:
        return ""
    shown = names[:MAX_NAMES]
    return (
        element("h3", text(ctx.t(key, count=len(names))))
        + bullet_list(shown)
        + capped_rows_note(ctx, len(names), len(shown))
    )


# --- recommendations -----------------------------------------------------------------------------


def recommendations_section(ctx: Context, base: Recommendations | None, new: Recommendations | None) -> str:
    """The recommendations that fired on NEW only (appeared), on BASE only (vanished), then on both."""
    t = ctx.t
    if base is None or new is None:
        return paragraph(t("cmp.rec.absent"), "note")
    before = {item.id: item for item in base.fired}
    after = {item.id: item for item in new.fired}
    groups = {
        "appeared": [after[i] for i in after if i not in before],
        "vanished": [before[i] for i in before if i not in after],
        "both": [after[i] for i in after if i in before],
    }
    if not (before or after):
        return paragraph(t("cmp.rec.none"), "note")
    summary = t("cmp.rec.summary", **{key: len(items) for key, items in groups.items()})
    columns = [
        Column(t("cmp.rec.change")),
        Column(t("cmp.rec.id")),
        Column(t("cmp.rec.title")),
        Column(t("cmp.rec.base_rank"), t("cmp.rec.rank_hint"), numeric=True),
        Column(t("cmp.rec.new_rank"), t("cmp.rec.rank_hint"), numeric=True),
    ]
    rows = [
        [t(f"cmp.rec.{key}"), item.id, item.title or "-", _rank_cell(before.get(item.id)),
         _rank_cell(after.get(item.id))]
        for key, items in groups.items()
        for item in items
    ]  # fmt: skip
    return paragraph(summary, "summary") + table(columns, rows)


def _rank_cell(item: Fired | None) -> Cell:
    rank = None if item is None else item.rank
    return Cell("-" if rank is None else f"#{rank}", rank, numeric=True)


# --- every metric --------------------------------------------------------------------------------


def metrics_section(ctx: Context, diff: dict) -> str:
    """Every metric of the document, in its order: base, new and change."""
    t = ctx.t
    hint = t("cmp.metrics_hint")
    columns = [
        Column(t("cmp.metric")),
        Column(t("cmp.stability")),
        Column(t("cmp.base"), hint, numeric=True),
        Column(t("cmp.new"), hint, numeric=True),
        Column(t("cmp.change"), hint, numeric=True),
    ]
    rows = [
        [row["path"], row["stability"], Cell(format_value(row["base"], row["unit"]), row["base"]),
         Cell(format_value(row["new"], row["unit"]), row["new"]),
         Cell(format_change(row), row["relative_change"] if row["relative_change"] is not None
              else row["change"])]
        for row in diff["metrics"]
    ]  # fmt: skip
    return table(columns, rows, sortable=True)
