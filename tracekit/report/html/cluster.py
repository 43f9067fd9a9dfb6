"""The cluster report: one self-contained HTML page for the cross-rank view of a multi-rank run (the
`cluster` block, docs/metrics.md "Cluster"), in the analysis report's style and languages."""

from __future__ import annotations

from pathlib import PurePath

from tracekit import __version__
from tracekit.formatting import fmt_ns, fmt_share
from tracekit.report.html.charts import NS_PER_MS, base_layout
from tracekit.report.html.context import Context, Translate
from tracekit.report.html.i18n import LANGUAGES, translator
from tracekit.report.html.i18n_cluster import TEXTS
from tracekit.report.html.markup import Cell, Column, bullet_list, element, paragraph, table, text
from tracekit.report.html.render import contents_and_sections, html_page

SPLIT_PARTS = (
    ("compute_ns", "#1f77b4"),
    ("exposed_ns", "#9467bd"),
    ("copies_ns", "#ff7f0e"),
    ("idle_ns", "#c7c7c7"),
)


def render_cluster_html(cluster: dict, lang: str = "en", recommendations: list[dict] | None = None) -> str:
    """The cluster report of a `cluster` block; `recommendations`: the cross-rank findings, if any."""
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, not {lang!r}")
    ctx = Context(
        {"definitions": cluster.get("definitions") or {}}, _translator(lang), max_timeline_events=0, lang=lang
    )
    title = ctx.t("cl.title", ranks=cluster["ranks"])
    sections = [
        ("cl.sec.recommendations", _recommendations(ctx, recommendations)),
        ("cl.sec.ranks", _ranks(ctx, cluster["per_rank"])),
        (
            "cl.sec.slow",
            "" if (cluster["pipeline"] or {}).get("applicable") else _slow(ctx, cluster["slow_rank"]),
        ),
        ("cl.sec.skew", _skew(ctx, cluster["collectives"])),
        ("cl.sec.pipeline", _pipeline(ctx, cluster["pipeline"])),
    ]
    return html_page(
        lang, title, _header(ctx, title, cluster) + contents_and_sections(ctx.t, sections), ctx.charts
    )


def _translator(lang: str) -> Translate:
    base, own = translator(lang), TEXTS[lang]

    def t(key: str, **values: object) -> str:
        found = own.get(key)
        if found is None:
            return base(key, **values)
        return found.format(**values) if values else found

    return t


def _header(ctx: Context, title: str, cluster: dict) -> str:
    return element(
        "header",
        element("h1", text(title))
        + element("p", text(ctx.t("cl.generated", version=__version__, source=cluster["rank_source"])))
        + element("p", text(ctx.t("report.offline")), class_="note")
        + element("noscript", element("p", text(ctx.t("report.no_js")), class_="warning")),
    )


def _ns_cell(value: float | None, hint: str | None = None) -> Cell:
    return Cell(fmt_ns(value) if value is not None else "-", sort=value, hint=hint, numeric=True)


def _ranks(ctx: Context, rows: list[dict]) -> str:
    t, hint = ctx.t, ctx.formula("cluster.per_rank")
    keys = ("step_p50_ns", "compute_ns", "communication_ns", "exposed_ns", "copies_ns", "idle_ns")
    labels = ("cl.step", "cl.compute", "cl.communication", "cl.exposed", "cl.copies", "cl.idle")
    profiled = any(row["profiler"] for row in rows)
    columns = [Column(t("cl.rank"), numeric=True), *[Column(t(k), hint, True) for k in labels]]
    columns.append(Column(t("cl.overlap"), ctx.formula("communication.overlap_ratio"), True))
    if profiled:
        columns += [Column(t("cl.profiler_comm"), ctx.formula("cluster.profiler"), True)]
        columns += [Column(t("cl.profiler_free"), ctx.formula("cluster.profiler"), True)]
    columns.append(Column(t("cl.source")))
    body = [_rank_cells(row, keys, profiled) for row in rows]
    return ctx.chart(_split_chart(rows, t), t("cl.chart")) + table(columns, body, sortable=True)


def _rank_cells(row: dict, keys: tuple[str, ...], profiled: bool) -> list[Cell | str]:
    cells: list[Cell | str] = [Cell(str(row["rank"]), sort=row["rank"], numeric=True)]
    cells += [_ns_cell(row[key]) for key in keys]
    cells.append(Cell(fmt_share(row["overlap_ratio"]), sort=row["overlap_ratio"], numeric=True))
    if profiled:
        profiler = row["profiler"] or {}
        cells += [_ns_cell(profiler.get("communication_ns")), _ns_cell(profiler.get("free_ns"))]
    cells.append(Cell(PurePath(row["source"]).name, hint=row["source"]))
    return cells


def _split_chart(rows: list[dict], t: Translate) -> dict[str, object] | None:
    if not rows or any(row["compute_ns"] is None for row in rows):
        return None
    ranks = [f"rank {row['rank']}" for row in rows]
    labels = {
        "compute_ns": "cl.compute",
        "exposed_ns": "cl.exposed",
        "copies_ns": "cl.copies",
        "idle_ns": "cl.idle",
    }
    data = [
        {
            "type": "bar",
            "orientation": "h",
            "name": t(labels[key]),
            "y": ranks,
            "x": [row[key] / NS_PER_MS for row in rows],
            "marker": {"color": colour},
        }
        for key, colour in SPLIT_PARTS
    ]
    layout = base_layout(120 + 28 * len(rows), "ms")
    layout["barmode"] = "stack"
    layout["showlegend"] = True
    layout["legend"] = {"orientation": "h", "y": -0.35, "traceorder": "normal"}
    layout["yaxis"] = {**layout.get("yaxis", {}), "type": "category", "autorange": "reversed"}
    return {"type": "figure", "data": data, "layout": layout}


def _slow(ctx: Context, slow: dict | None) -> str:
    if slow is None:
        return ""
    values = {
        "rank": slow["rank"],
        "metric": ctx.t("cl.compute" if slow["metric"] == "compute" else "cl.step"),
        "value": fmt_ns(slow["value_ns"]),
        "median": fmt_ns(slow["others_median_ns"]),
        "share": fmt_share(slow["excess_share"]),
        "threshold": fmt_share(slow["threshold"]),
    }
    z = ctx.t("cl.z", z_step=_z(slow["z_step"]), z_compute=_z(slow["z_compute"]))
    line = ctx.t("cl.slow" if slow["slow"] else "cl.not_slow", **values)
    return paragraph(line, "finding" if slow["slow"] else None) + paragraph(z, "note")


def _z(value: float | None) -> str:
    return "-" if value is None else f"{value:+.2f}"


def _skew(ctx: Context, collectives: dict) -> str:
    t = ctx.t
    if not collectives["matched"]:
        return paragraph(t("cl.no_skew"), "note")
    hint = ctx.formula("cluster.collectives")
    columns = [
        Column(t("cl.type")),
        Column(t("cl.matched"), numeric=True),
        *[Column(t(key), hint, True) for key in ("cl.skew_p50", "cl.skew_max", "cl.skew_total")],
        Column(t("cl.last")),
    ]
    rows = [
        [
            row["type"],
            Cell(str(row["matched"]), sort=row["matched"], numeric=True),
            _ns_cell(row["skew_ns"]["p50"]),
            _ns_cell(row["skew_ns"]["max"]),
            _ns_cell(row["skew_total_ns"]),
            f"rank {row['most_often_last_rank']} ({fmt_share(row['last_share'])})",
        ]
        for row in collectives["by_type"]
    ]
    return table(columns, rows, sortable=True)


def _pipeline(ctx: Context, pipeline: dict | None) -> str:
    if pipeline is None or not pipeline["applicable"]:
        return ""
    t = ctx.t
    line = t(
        "cl.pipeline",
        rank=pipeline["slowest_rank"],
        slowest=fmt_ns(pipeline["slowest_ns"]),
        balance=fmt_share(pipeline["balance"]),
        throughput=f"{pipeline['throughput_per_s']:.1f}",
        balanced=f"{pipeline['balanced_throughput_per_s']:.1f}",
    )
    columns = [
        Column(t("cl.rank"), numeric=True),
        Column(t("cl.stage"), ctx.formula("cluster.pipeline"), True),
    ]
    rows = [
        [Cell(str(s["rank"]), sort=s["rank"], numeric=True), _ns_cell(s["stage_ns"])]
        for s in pipeline["stages"]
    ]
    return paragraph(line) + table(columns, rows, sortable=True)


def _recommendations(ctx: Context, recommendations: list[dict] | None) -> str:
    if recommendations is None:
        return ""
    if not recommendations:
        return paragraph(ctx.t("cl.no_recommendations"), "note")
    return "".join(_finding(finding) for finding in recommendations)


def _finding(finding: dict) -> str:
    speedup = (finding.get("gain") or {}).get("speedup")
    gain = f" (x{speedup:.2f})" if speedup else ""
    evidence = [f"{e['label']}: {e['value']}" for e in finding["evidence"]]
    return (
        element("h3", text(f"{finding['rank']}. {finding['title']}{gain}"))
        + paragraph(finding["summary"], "finding")
        + bullet_list(evidence)
        + bullet_list(finding["actions"])
    )
