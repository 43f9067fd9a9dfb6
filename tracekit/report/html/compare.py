"""The diff and check reports: self-contained HTML pages in the analysis report's style (same CSP,
inlined plotly.js, styles, charts script and en/zh texts; docs/report.md).

`render_diff_html` renders a `tracekit.diff/1` document; `render_check_html` a `tracekit.check/1`
document, with the verdicts first and then, when a baseline was given, the diff of NEW against the
first baseline run (the check document carries verdicts only). Recommendations are not part of
either document: the caller passes each side's `recommendations` block (tracekit.rules.recommend).
"""

from __future__ import annotations

from pathlib import PurePath

from tracekit import __version__
from tracekit.analysis.document.recommendations import Recommendations as RecommendationsBlock
from tracekit.report.ci import format_change, format_value, verdict_message
from tracekit.report.html import compare_sections as sections
from tracekit.report.html.context import Context
from tracekit.report.html.i18n import LANGUAGES, translator
from tracekit.report.html.markup import Cell, Column, bullet_list, element, paragraph, table, text
from tracekit.report.html.render import contents_and_sections, html_page

Recommendations = tuple[RecommendationsBlock | None, RecommendationsBlock | None]  # (BASE's, NEW's)
STATUSES = ("regression", "inconclusive", "pass")


def render_diff_html(diff: dict, lang: str = "en", recommendations: Recommendations = (None, None)) -> str:
    """The diff report of a `tracekit.diff/1` document."""
    ctx = _context(diff, lang)
    title = ctx.t("cmp.diff_title", base=_name(diff["base"]["source"]), new=_name(diff["new"]["source"]))
    body = _header(ctx, title, "") + contents_and_sections(ctx.t, _diff_sections(ctx, diff, recommendations))
    return html_page(lang, title, body, ctx.charts)


def render_check_html(
    check: dict, diff: dict | None, lang: str = "en", recommendations: Recommendations = (None, None)
) -> str:
    """The check report: the verdicts, then `diff` (NEW against the first baseline run) if given."""
    ctx = _context(check, lang)
    title = ctx.t("cmp.check_title", new=_name(check["new"]["source"]))
    found = [("cmp.sec.verdicts", verdicts_section(ctx, check))]
    if diff is None:
        found.append(("cmp.sec.headline", paragraph(ctx.t("cmp.no_baseline"), "note")))
    else:
        found += _diff_sections(ctx, diff, recommendations)
    body = _header(ctx, title, _status_line(ctx, check)) + contents_and_sections(ctx.t, found)
    return html_page(lang, title, body, ctx.charts)


def _context(document: dict, lang: str) -> Context:
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, not {lang!r}")
    return Context(document, translator(lang), max_timeline_events=0, lang=lang)


def _diff_sections(ctx: Context, diff: dict, recommendations: Recommendations) -> list[tuple[str, str]]:
    return [
        ("cmp.sec.headline", sections.headline_section(ctx, diff)),
        ("cmp.sec.steps", sections.steps_section(ctx, diff)),
        ("cmp.sec.kernels", sections.operators_section(ctx, diff["kernels"])),
        ("cmp.sec.cpu_ops", sections.operators_section(ctx, diff["cpu_ops"])),
        ("cmp.sec.recommendations", sections.recommendations_section(ctx, *recommendations)),
        ("cmp.sec.metrics", sections.metrics_section(ctx, diff)),
    ]


def _header(ctx: Context, title: str, status: str) -> str:
    t = ctx.t
    return element(
        "header",
        element("h1", text(title))
        + status
        + element("p", text(t("cmp.generated", version=__version__)))
        + element("p", text(t("report.offline")), class_="note")
        + element("noscript", element("p", text(t("report.no_js")), class_="warning")),
    )


def _status_line(ctx: Context, check: dict) -> str:
    counts = check["counts"]
    line = ctx.t(
        "cmp.status_line",
        status=ctx.t(f"cmp.status.{check['status']}"),
        **{status: counts.get(status, 0) for status in STATUSES},
    )
    return element("p", text(line), class_=f"check-status status-{check['status']}")


def _name(source: str) -> str:
    return PurePath(str(source)).name or str(source)


# --- verdicts ------------------------------------------------------------------------------------


def verdicts_section(ctx: Context, check: dict) -> str:
    """What was checked against what, the verdict table, and the reasoning of every verdict that is
    not a pass."""
    flagged = [v for v in check["verdicts"] if v["status"] != "pass"]
    reasoning = element("h3", text(ctx.t("cmp.reasoning"))) + bullet_list(map(verdict_message, flagged))
    return _check_facts(ctx, check) + _verdict_table(ctx, check["verdicts"]) + (reasoning if flagged else "")


def _check_facts(ctx: Context, check: dict) -> str:
    t, noise = ctx.t, check["noise"]
    baselines = check["baselines"]
    facts = [
        (t("cmp.new"), t("cmp.side_source", source=check["new"]["source"], steps=check["new"]["steps"])),
        *(
            (t("cmp.baseline_n", n=i), t("cmp.side_source", source=run["source"], steps=run["steps"]))
            for i, run in enumerate(baselines, 1)
        ),
        (t("cmp.budget"), check["budget"]["source"]),
        (t("cmp.noise"), t("cmp.noise_text", test=noise["test"], alpha=noise["alpha"],
                           confidence=f"{noise['confidence']:.0%}", min_steps=noise["min_steps"])),
    ]  # fmt: skip
    if not baselines:
        facts.insert(1, (t("cmp.baselines"), t("cmp.no_baseline_runs")))
    if noise.get("prior") is not None:  # the run-to-run prior of wall-clock metrics, in newer documents
        facts.append((t("cmp.prior"), t("cmp.prior_text", prior=f"{noise['prior']:.0%}")))
    items = "".join(element("dt", text(label)) + element("dd", text(value)) for label, value in facts)
    return element("dl", items, class_="facts")


def _verdict_table(ctx: Context, verdicts: list[dict]) -> str:
    t = ctx.t
    columns = [
        Column(t("cmp.metric")),
        Column(t("col.status")),
        Column(t("cmp.new"), numeric=True),
        Column(t("cmp.base"), t("cmp.base_hint"), numeric=True),
        Column(t("cmp.change"), numeric=True),
        Column(t("cmp.budget")),
        Column(t("cmp.limit"), numeric=True),
        Column(t("col.reason")),
        Column(t("cmp.shift_col"), t("cmp.shift_hint"), numeric=True),
        Column(t("cmp.interval"), t("cmp.shift_hint"), numeric=True),
        Column("p", t("cmp.p_hint"), numeric=True),
    ]
    rows = [_verdict_row(ctx, v) for v in verdicts]
    return element("div", table(columns, rows, sortable=True), class_="verdicts")


def _verdict_row(ctx: Context, v: dict) -> list[Cell | str]:
    unit, test = v["unit"], v.get("test")
    return [
        v["path"],
        Cell(ctx.t(f"cmp.status.{v['status']}"), STATUSES.index(v["status"])),
        Cell(format_value(v["new"], unit), v["new"]),
        Cell(format_value(v["base"], unit), v["base"]),
        Cell(format_change(v), v["relative_change"] if v["relative_change"] is not None else v["change"]),
        v["budget"],
        Cell(format_value(v["limit"], unit), v["limit"]),
        v["reason"],
        *_test_cells(ctx, test, unit),
    ]


def _test_cells(ctx: Context, test: dict | None, unit: str) -> list[Cell]:
    if not test:
        return [Cell("-"), Cell("-"), Cell("-")]
    low, high = test["interval"]
    interval = (
        ctx.t("cmp.no_interval", confidence=f"{test['confidence']:.0%}")
        if low is None
        else f"[{sections.signed_value(low, unit)}, {sections.signed_value(high, unit)}]"
    )
    return [
        Cell(sections.signed_value(test["shift"], unit), test["shift"]),
        Cell(interval, low),
        Cell(f"{test['p']:.3g}", test["p"]),
    ]
