"""Chart specifications for the report's data island; assets/report.js draws them with plotly.js.

Each spec is plain JSON: `{"type": "figure", "data": [...], "layout": {...}}` is handed to
`Plotly.newPlot` as it is; `{"type": "timeline", ...}` carries the timeline's columns compactly
(names deduplicated) and report.js builds one bar trace per event kind from them.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from tracekit.analysis.document.device import Bubbles, CauseTotal
from tracekit.analysis.document.operators import Hardware, Operator
from tracekit.analysis.document.stats import Hotspot
from tracekit.analysis.document.trace import StepDurations, Steps, Timeline, TimelineEvents
from tracekit.formatting import fmt_ns
from tracekit.report.formulas import formula

Translate = Callable[..., str]

MAX_TIMELINE_EVENTS = 3000  # the analysis keeps at most this many; a guard for older or edited files
MAX_HOTSPOT_BARS = 15
MAX_LABEL_CHARS = 60
NS_PER_MS = 1e6

KIND_COLOURS = {
    "kernel": "#1f77b4",
    "memcpy": "#ff7f0e",
    "memset": "#8c564b",
    "communication": "#9467bd",
    "cpu_op": "#2ca02c",
    "runtime": "#7f7f7f",
    "sync": "#d62728",
    "marker": "#c7c7c7",
}
CAUSE_COLOURS = {"sync_wait": "#d62728", "host_wait": "#ff7f0e", "other": "#7f7f7f"}
BAR_COLOUR = "#1f77b4"
MAX_ROOFLINE_POINTS = 30
BOUND_COLOURS = {"compute": "#1f77b4", "memory": "#ff7f0e"}
NO_BOUND_COLOUR = "#7f7f7f"
ROOF_COLOURS = ("#d62728", "#9467bd", "#2ca02c", "#8c564b")
ROOF_MARGIN = 4.0  # the roof lines reach this factor beyond the outermost point or ridge


def base_layout(height: int, x_title: str = "", y_title: str = "") -> dict[str, object]:
    """Layout shared by every chart: system fonts only, no title (the section heading names it)."""
    return {
        "height": height,
        "margin": {"l": 60, "r": 20, "t": 10, "b": 50},
        "font": {"family": "system-ui, -apple-system, 'Segoe UI', sans-serif", "size": 12},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "xaxis": {"title": {"text": x_title}, "automargin": True, "gridcolor": "#e5e5e5"},
        "yaxis": {"title": {"text": y_title}, "automargin": True, "gridcolor": "#e5e5e5"},
        "showlegend": False,
        "hoverlabel": {"align": "left"},
    }


def timeline_chart(
    timeline: Timeline, t: Translate, max_events: int = MAX_TIMELINE_EVENTS
) -> dict[str, object] | None:
    """Lanes and events of the representative step (the `max_events` longest), for report.js."""
    events = _longest_events(timeline.events, max_events)
    if not events["lane"]:
        return None
    names = sorted(set(events["name"]))
    name_index = {name: i for i, name in enumerate(names)}
    kinds = [kind for kind in KIND_COLOURS if kind in set(events["kind"])]
    kind_index = {kind: i for i, kind in enumerate(kinds)}
    lanes = timeline.lanes
    return {
        "type": "timeline",
        "lanes": [lane.label for lane in lanes],
        "lane_ids": [lane.id for lane in lanes],
        "kinds": kinds,
        "kind_labels": [t(f"kind.{kind}") for kind in kinds],
        "colours": [KIND_COLOURS[kind] for kind in kinds],
        "names": names,
        "lane": events["lane"],
        "start": events["start_ns"],
        "dur": events["dur_ns"],
        "kind": [kind_index[kind] for kind in events["kind"]],
        "name": [name_index[name] for name in events["name"]],
        "span_ns": max(0, timeline.end_ns - timeline.start_ns),
        "labels": {"axis": t("tl.axis"), "start": t("tl.start"), "duration": t("tl.duration")},
    }


def _longest_events(events: TimelineEvents, limit: int) -> dict[str, list]:
    """The `limit` longest events' columns, in their original order (all of them when there are
    fewer)."""
    columns = msgspec.structs.asdict(events)
    if len(events.lane) <= limit:
        return {key: list(column) for key, column in columns.items()}
    durations = events.dur_ns
    kept = sorted(sorted(range(len(durations)), key=lambda i: -durations[i])[:limit])
    return {key: [column[i] for i in kept] for key, column in columns.items()}


def hotspots_chart(hotspots: list[Hotspot], t: Translate) -> dict[str, object] | None:
    """Horizontal bars: total time of the top kernel groups, largest on top."""
    top = hotspots[:MAX_HOTSPOT_BARS]
    if not top:
        return None
    names = [clip_label(h.name) for h in reversed(top)]
    hover = [
        f"{plotly_text(h.name[:200])}<br>{t('col.total')} {fmt_ns(h.total_ns)} · {t('col.share')} "
        f"{100 * (h.share or 0):.1f} % · {t('col.count')} {h.count:,}"
        for h in reversed(top)
    ]
    layout = base_layout(80 + 26 * len(top), t("hot.chart_axis"))
    layout["yaxis"] = {**layout["yaxis"], "type": "category", "tickfont": {"size": 11}}
    trace = {
        "type": "bar",
        "orientation": "h",
        "x": [h.total_ns / NS_PER_MS for h in reversed(top)],
        "y": unique_labels(names),
        "marker": {"color": BAR_COLOUR},
        "hovertext": hover,
        "hoverinfo": "text",
    }
    return {"type": "figure", "data": [trace], "layout": layout}


def bubble_histogram_chart(bubbles: Bubbles, t: Translate) -> dict[str, object] | None:
    """Bubble counts per decade bin of length, hover giving the bin's total idle time."""
    bins = bubbles.histogram
    if not bubbles.count or not bins:
        return None
    trace = {
        "type": "bar",
        "x": [b.bin for b in bins],
        "y": [b.count for b in bins],
        "marker": {"color": BAR_COLOUR},
        "hovertext": [f"{b.bin}: {b.count:,} · {t('col.total')} {fmt_ns(b.total_ns)}" for b in bins],
        "hoverinfo": "text",
    }
    layout = base_layout(300, t("bub.axis_length"), t("bub.axis_count"))
    layout["xaxis"] = {**layout["xaxis"], "type": "category"}
    return {"type": "figure", "data": [trace], "layout": layout}


def bubble_causes(bubbles: Bubbles) -> list[tuple[str, CauseTotal]]:
    """(cause, its count and idle time) in the document's order: sync_wait, host_wait, other."""
    return list(msgspec.structs.asdict(bubbles.by_cause).items())


def bubble_causes_chart(bubbles: Bubbles, t: Translate, lang: str) -> dict[str, object] | None:
    """Idle time per cause (sync_wait, host_wait, other), each with its definition in `lang`."""
    if not bubbles.count:
        return None
    causes = bubble_causes(bubbles)
    keys = [key for key, _ in causes]
    trace = {
        "type": "bar",
        "x": keys,
        "y": [cause.total_ns / NS_PER_MS for _, cause in causes],
        "marker": {"color": [CAUSE_COLOURS.get(key, BAR_COLOUR) for key in keys]},
        "hovertext": [_cause_hover(key, cause, lang) for key, cause in causes],
        "hoverinfo": "text",
    }
    layout = base_layout(300, t("col.cause"), t("bub.axis_time"))
    layout["xaxis"] = {**layout["xaxis"], "type": "category"}
    return {"type": "figure", "data": [trace], "layout": layout}


def _cause_hover(key: str, cause: CauseTotal, lang: str) -> str:
    meaning = f"<br>{plotly_text(formula(f'bubbles.cause.{key}', lang))}" if key in CAUSE_COLOURS else ""
    return f"{plotly_text(key)}: {cause.count:,} · {fmt_ns(cause.total_ns)}{meaning}"


def step_series_chart(steps: Steps, t: Translate) -> dict[str, object] | None:
    """Duration of each step (every stride-th when subsampled), with the p50 and p99 lines."""
    series = steps.series
    numbers, durations = (series.step, series.duration_ns) if series is not None else ([], [])
    if not numbers or len(numbers) != len(durations):
        return None
    line = {
        "type": "scatter",
        "mode": "lines+markers" if len(numbers) <= 200 else "lines",
        "x": numbers,
        "y": [d / NS_PER_MS for d in durations],
        "line": {"color": BAR_COLOUR, "width": 1.5},
        "marker": {"size": 4},
        "hovertemplate": f"{t('steps.axis_step')} %{{x}}<br>%{{y:.4g}} ms<extra></extra>",
    }
    layout = base_layout(320, t("steps.axis_step"), t("steps.axis_duration"))
    layout["shapes"], layout["annotations"] = _percentile_lines(steps.duration_ns)
    return {"type": "figure", "data": [line], "layout": layout}


def _percentile_lines(durations: StepDurations) -> tuple[list[dict], list[dict]]:
    shapes, notes = [], []
    for key, value, dash in (("p50", durations.p50, "dot"), ("p99", durations.p99, "dash")):
        if value is None:
            continue
        y = value / NS_PER_MS
        shapes.append(
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "y0": y,
                "y1": y,
                "line": {"color": "#d62728", "width": 1, "dash": dash},
            }
        )
        notes.append(
            {
                "xref": "paper",
                "x": 1,
                "y": y,
                "xanchor": "right",
                "yanchor": "bottom",
                "text": f"{key} {fmt_ns(value)}",
                "showarrow": False,
                "font": {"size": 10, "color": "#d62728"},
            }
        )
    return shapes, notes


def roofline_points(operators: list[Operator]) -> list[Operator]:
    """The top operators (by device time) that a log-log roofline can place: FLOPs and bytes modelled,
    intensity and achieved TFLOP/s above zero."""
    placed = [op for op in operators if min(op.intensity or 0, op.achieved_tflops or 0) > 0]
    return placed[:MAX_ROOFLINE_POINTS]


def roofline_chart(
    operators: list[Operator], hardware: Hardware | None, t: Translate
) -> dict[str, object] | None:
    """Achieved TFLOP/s over arithmetic intensity (both log), one point per operator sized by device
    time, under the roof min(peak, intensity x bandwidth) of each precision the points were held to."""
    points = roofline_points(operators)
    if not points:
        return None
    largest = max(op.device_ns for op in points)
    scatter = {
        "type": "scatter",
        "mode": "markers",
        "name": t("ops.points"),
        "x": [op.intensity for op in points],
        "y": [op.achieved_tflops for op in points],
        "marker": {
            "size": [roofline_marker_size(op.device_ns, largest) for op in points],
            "color": [BOUND_COLOURS.get(op.bound or "", NO_BOUND_COLOUR) for op in points],
            "opacity": 0.85,
            "line": {"width": 1, "color": "#ffffff"},
        },
        "hovertext": [_operator_hover(op, t) for op in points],
        "hoverinfo": "text",
    }
    layout = base_layout(440, t("ops.axis_intensity"), t("ops.axis_tflops"))
    layout["xaxis"] = {**layout["xaxis"], "type": "log"}
    layout["yaxis"] = {**layout["yaxis"], "type": "log"}
    layout["showlegend"] = True
    layout["legend"] = {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"}
    layout["margin"] = {**layout["margin"], "t": 40}
    return {"type": "figure", "data": [*_roof_lines(points, hardware, t), scatter], "layout": layout}


def roofline_marker_size(device_ns: float, largest_ns: float) -> float:
    """Marker diameter in px: its area grows with the operator's device time."""
    return round(8 + 32 * (device_ns / largest_ns) ** 0.5, 1) if largest_ns > 0 else 8.0


def roof_peaks(points: list[Operator]) -> dict[str, float]:
    """precision -> peak TFLOP/s the points were compared with, in the points' order."""
    peaks: dict[str, float] = {}
    for op in points:
        if op.precision and op.peak_tflops:
            peaks.setdefault(op.precision, op.peak_tflops)
    return peaks


def _roof_lines(points: list[Operator], hardware: Hardware | None, t: Translate) -> list[dict]:
    """One line per precision: the memory slope up to the ridge, then the flat compute peak."""
    bandwidth = hardware.memory_gbps if hardware is not None else None
    peaks = roof_peaks(points)
    if not bandwidth or not peaks:
        return []
    ridges = [peak * 1e3 / bandwidth for peak in peaks.values()]  # FLOP/byte where the two roofs meet
    intensities = [op.intensity for op in points] + ridges
    low, high = min(intensities) / ROOF_MARGIN, max(intensities) * ROOF_MARGIN
    lines = []
    for i, ((precision, peak), ridge) in enumerate(zip(peaks.items(), ridges, strict=True)):
        label = t("ops.roof", precision=precision, peak=f"{peak:,.1f}", bandwidth=f"{bandwidth:,.0f}")
        lines.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": label,
                "x": [low, ridge, high],
                "y": [low * bandwidth / 1e3, peak, peak],
                "line": {"color": ROOF_COLOURS[i % len(ROOF_COLOURS)], "width": 2, "dash": "dash"},
                "hovertext": [label] * 3,
                "hoverinfo": "text",
            }
        )
    return lines


def _operator_hover(op: Operator, t: Translate) -> str:
    share = op.peak_share
    lines = [
        plotly_text(op.name[:200]),
        plotly_text(shapes_text(op.shapes)[:200] or "-"),
        f"{plotly_text(op.dtype or '-')} · {t('ops.col.count')} {op.count:,} · "
        f"{t('ops.col.time')} {fmt_ns(op.device_ns)}",
        f"{op.achieved_tflops:,.1f} TFLOP/s · {op.intensity:,.1f} FLOP/byte"
        + ("" if share is None else f" · {t('ops.col.peak')} {100 * share:.1f} %"),
    ]
    return "<br>".join(lines)


def shapes_text(shapes: list[list[int]]) -> str:
    """Tensor shapes as `[8,16] [16]`."""
    return " ".join("[" + ",".join(str(d) for d in shape) + "]" for shape in shapes)


def plotly_text(value: str) -> str:
    """Text for plotly labels, which read a little HTML: `<`, `>` and `&` become entities."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip_label(name: str) -> str:
    """A name short enough for a chart label, escaped for plotly."""
    clipped = name if len(name) <= MAX_LABEL_CHARS else name[: MAX_LABEL_CHARS - 1] + "…"
    return plotly_text(clipped)


def unique_labels(labels: list[str]) -> list[str]:
    """Category labels must differ: clipped names that collide get a zero-width-space suffix."""
    seen: dict[str, int] = {}
    unique = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        unique.append(label + "\u200b" * (seen[label] - 1))
    return unique
