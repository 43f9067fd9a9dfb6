"""Chart specifications of the diff and check reports (drawn by assets/report.js like the others):
both per-step duration distributions, both step series, and the operators that moved most."""

from __future__ import annotations

from tracekit.formatting import fmt_ns
from tracekit.report.html.charts import NS_PER_MS, base_layout, clip_label, plotly_text, unique_labels
from tracekit.report.html.context import Translate

SIDES = ("base", "new")
SIDE_COLOURS = {"base": "#7f7f7f", "new": "#1f77b4"}
SLOWER_COLOUR, FASTER_COLOUR = "#d62728", "#2ca02c"
MAX_DELTA_BARS = 10  # per direction
DELTA_UNITS = ((NS_PER_MS, "ms"), (1e3, "µs"), (1.0, "ns"))
MAX_MARKER_STEPS = 200  # more steps: lines without markers


def step_distribution_chart(steps: dict, t: Translate) -> dict[str, object] | None:
    """One horizontal box per side with every step as a point (durations in ms)."""
    traces = [
        {
            "type": "box",
            "orientation": "h",
            "name": t(f"cmp.{side}"),
            "x": [v / NS_PER_MS for v in steps[side]["values_ns"]],
            "boxpoints": "all",
            "jitter": 0.4,
            "pointpos": 0,
            "marker": {"color": SIDE_COLOURS[side], "size": 4},
            "hovertemplate": "%{x:.4g} ms<extra></extra>",
        }
        for side in reversed(SIDES)  # plotly stacks the first trace at the bottom: base on top
        if steps[side]["values_ns"]
    ]
    if not traces:
        return None
    layout = base_layout(240, t("steps.axis_duration"))
    layout["yaxis"] = {**layout["yaxis"], "type": "category", "automargin": True}
    return {"type": "figure", "data": traces, "layout": layout}


def step_series_chart(steps: dict, t: Translate) -> dict[str, object] | None:
    """Each side's step durations in trace order, overlaid (x: the step's position in its trace)."""
    traces = []
    for side in SIDES:
        values = steps[side]["values_ns"]
        if not values:
            continue
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers" if len(values) <= MAX_MARKER_STEPS else "lines",
                "name": t(f"cmp.{side}"),
                "x": list(range(1, len(values) + 1)),
                "y": [v / NS_PER_MS for v in values],
                "line": {"color": SIDE_COLOURS[side], "width": 1.5},
                "marker": {"size": 4},
                "hovertemplate": f"{t('cmp.step_position')} %{{x}}<br>%{{y:.4g}} ms<extra></extra>",
            }
        )
    if not traces:
        return None
    layout = base_layout(300, t("cmp.step_position"), t("steps.axis_duration"))
    layout["showlegend"] = True
    layout["legend"] = {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"}
    return {"type": "figure", "data": traces, "layout": layout}


def operator_delta_chart(block: dict, t: Translate) -> dict[str, object] | None:
    """Horizontal bars of the change of the operators that moved most: slower in red on top,
    faster in green below, in the unit of the largest change."""
    slower = block["regressions"][:MAX_DELTA_BARS]
    faster = block["improvements"][:MAX_DELTA_BARS]
    rows = list(reversed(slower + faster))  # plotly draws the first category at the bottom
    if not rows:
        return None
    scale, unit = _delta_unit(max(abs(r["delta_ns"]) for r in rows))
    trace = {
        "type": "bar",
        "orientation": "h",
        "x": [r["delta_ns"] / scale for r in rows],
        "y": unique_labels([clip_label(operator_label(r)) for r in rows]),
        "marker": {"color": [SLOWER_COLOUR if r["delta_ns"] > 0 else FASTER_COLOUR for r in rows]},
        "hovertext": [_delta_hover(r, t) for r in rows],
        "hoverinfo": "text",
    }
    layout = base_layout(80 + 24 * len(rows), t("cmp.delta_axis", unit=unit, per=t(per_key(block))))
    layout["yaxis"] = {**layout["yaxis"], "type": "category", "tickfont": {"size": 11}}
    return {"type": "figure", "data": [trace], "layout": layout}


def operator_label(row: dict) -> str:
    """The operator's name, with `#N` when the name repeats (several devices)."""
    return row["name"] if not row["occurrence"] else f"{row['name']} #{row['occurrence'] + 1}"


def _delta_unit(largest_ns: float) -> tuple[float, str]:
    """(ns per unit, unit name) for an axis whose largest value is `largest_ns`."""
    return next((unit for unit in DELTA_UNITS if largest_ns >= unit[0]), DELTA_UNITS[-1])


def per_key(block: dict) -> str:
    """The i18n key of what the deltas are: per step, or totals."""
    return "cmp.per_step" if block["delta_is"] == "per step" else "cmp.total"


def _delta_hover(row: dict, t: Translate) -> str:
    sign = "+" if row["delta_ns"] > 0 else "-"
    sides = "".join(
        f"<br>{t(f'cmp.{side}')}: {t('col.count')} {row[f'{side}_count']:,} · "
        f"{t('col.total')} {fmt_ns(row[f'{side}_total_ns'])}"
        for side in SIDES
    )
    name = plotly_text(operator_label(row)[:200])
    return f"{name}<br>{t('cmp.change')} {sign}{fmt_ns(abs(row['delta_ns']))}{sides}"
