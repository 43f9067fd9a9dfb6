"""One self-contained HTML file from an analysis document: plotly.js, styles, script and data inline.

Nothing in the file refers to the network: plotly.js is inlined once from the plotly package,
charts are drawn by assets/report.js from one JSON data island, and a Content-Security-Policy
forbids the browser from fetching anything at all.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable
from importlib import resources
from pathlib import PurePath

from tracekit import __version__
from tracekit.analysis.document import Document
from tracekit.analysis.document.recommendations import Recommendations
from tracekit.report.html.ascend_findings import ascend_section
from tracekit.report.html.attribution import attribution_section
from tracekit.report.html.bubbles import bubbles_section
from tracekit.report.html.charts import MAX_TIMELINE_EVENTS
from tracekit.report.html.communication import communication_section
from tracekit.report.html.context import Context
from tracekit.report.html.copies import blocking_section, copies_section
from tracekit.report.html.first import do_first_section
from tracekit.report.html.hotspots import host_hotspots_section, hotspots_section
from tracekit.report.html.i18n import HTML_LANG, LANGUAGES, translator
from tracekit.report.html.markup import element, text
from tracekit.report.html.metadata import glossary_section, metadata_section
from tracekit.report.html.operators import operators_section
from tracekit.report.html.recommendations import checked_section, recommendations_section
from tracekit.report.html.steps import steps_section, timeline_section
from tracekit.report.html.summary import busiest_device, summary_section
from tracekit.report.step_attribution import attributed_device

MAX_REPORT_BYTES = 6_000_000  # plotly.min.js is ~4.8 MB of it
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:; connect-src 'none'; form-action 'none'; base-uri 'none'"
)
PLOTLY_CONFIG = {
    "displaylogo": False,  # the "Produced with Plotly" link
    "showLink": False,
    "showSendToCloud": False,
    "showEditInChartStudio": False,
    "showTips": False,
    "typesetMath": False,  # never look for MathJax
    "responsive": True,
    "displayModeBar": "hover",
    "modeBarButtonsToRemove": ["sendDataToCloud", "lasso2d", "select2d"],
}


def render_html(document: Document, lang: str = "en", recommendations: Recommendations | None = None) -> str:
    """The report as HTML text, under MAX_REPORT_BYTES whatever the trace size.

    `recommendations` defaults to the document's own `recommendations` block. The timeline is
    thinned (longest events kept) in the rare case the page would exceed the size budget.
    """
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, not {lang!r}")
    if recommendations is None:
        recommendations = document.recommendations
    max_events = MAX_TIMELINE_EVENTS
    while True:
        page = _page(Context(document, translator(lang), max_events, lang=lang), lang, recommendations)
        if len(page.encode("utf-8")) < MAX_REPORT_BYTES or max_events < 100:
            return page
        max_events //= 2


def _page(ctx: Context, lang: str, recommendations: Recommendations | None) -> str:
    name = _trace_name(ctx.document)
    body = _header(ctx, name) + _main(ctx, recommendations)
    return html_page(lang, ctx.t("report.title", name=name), body, ctx.charts)


def html_page(lang: str, title: str, body: str, charts: dict[str, dict]) -> str:
    """A whole page around `body`: the CSP, the styles, the charts' data island, plotly.js and
    report.js, all inline (the diff and check reports use it too)."""
    head = (
        '<meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">'
        '<meta name="referrer" content="no-referrer">'
        + element("title", text(title))
        + element("style", _asset("report.css"))
    )
    scripts = (
        element("script", _data_island(charts), type="application/json", id="report-data")
        + element("script", 'window.PlotlyConfig = {MathJaxConfig: "local"};')
        + element("script", _plotly_js(), id="plotly-js")
        + element("script", _asset("report.js"), id="report-js")
    )
    page = element("html", element("head", head) + element("body", body + scripts), lang=HTML_LANG[lang])
    return f"<!DOCTYPE html>\n{page}\n"


def _header(ctx: Context, name: str) -> str:
    t, source = ctx.t, ctx.document.trace.source
    return element(
        "header",
        element("h1", text(t("report.title", name=name)))
        + element("p", text(t("report.generated", version=__version__, source=source)))
        + element("p", text(t("report.offline")), class_="note")
        + element("noscript", element("p", text(t("report.no_js")), class_="warning")),
    )


def _main(ctx: Context, recommendations: Recommendations | None) -> str:
    return contents_and_sections(ctx.t, _sections(ctx, recommendations))


def contents_and_sections(t: Callable[..., str], sections: list[tuple[str, str]]) -> str:
    """Every (title key, HTML) section with content, in order, behind a table of contents."""
    found = [(key, html) for key, html in sections if html]
    toc = element(
        "nav",
        element("h2", text(t("report.toc")))
        + element(
            "ol",
            "".join(element("li", element("a", text(t(key)), href=f"#{_anchor(key)}")) for key, _ in found),
        ),
        class_="toc",
    )
    body = "".join(
        element("section", element("h2", text(t(key))) + html, id=_anchor(key)) for key, html in found
    )
    return toc + element("main", body)


def _sections(ctx: Context, recommendations: Recommendations | None) -> list[tuple[str, str]]:
    device = busiest_device(ctx.document)
    recommended_on = recommendations.device if recommendations is not None else None
    found = [
        ("sec.do_first", do_first_section(ctx, recommendations)),
        ("sec.summary", summary_section(ctx, device)),
        ("sec.attribution", attribution_section(ctx, attributed_device(ctx.document, recommended_on))),
        ("sec.recommendations", recommendations_section(ctx, recommendations)),
        ("sec.checked", checked_section(ctx, recommendations)),
        ("sec.timeline", timeline_section(ctx)),
    ]
    if device is not None:
        found += [
            ("sec.hotspots", hotspots_section(ctx, device)),
            ("sec.operators", operators_section(ctx, device)),
            ("sec.bubbles", bubbles_section(ctx, device)),
            ("sec.communication", communication_section(ctx, device)),
        ]
    else:
        found.append(("sec.host_hotspots", host_hotspots_section(ctx)))
    found.append(("sec.steps", steps_section(ctx)))
    if device is not None:
        found += [
            ("sec.copies", copies_section(ctx, device)),
            ("sec.blocking", blocking_section(ctx, device)),
        ]
    found += [
        ("sec.ascend", ascend_section(ctx)),
        ("sec.metadata", metadata_section(ctx)),
        ("sec.glossary", glossary_section(ctx)),
    ]
    return found


def _anchor(key: str) -> str:
    return key.replace(".", "-")


def _trace_name(document: Document) -> str:
    source = document.trace.source or "trace"
    return PurePath(source).name or source


def _data_island(charts: dict[str, dict]) -> str:
    """The charts' data as JSON that cannot close its <script> element early."""
    data = _finite({"config": PLOTLY_CONFIG, "charts": charts})
    encoded = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return encoded.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _finite(value: object) -> object:
    """NaN and infinities (which JSON cannot carry) become null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def preload_assets() -> None:
    """Read what every report embeds (plotly.js, the style sheet, the script) once, now: the command
    line does it while the trace is read, not after the analysis."""
    _plotly_js()
    for name in ASSETS:
        _asset(name)


ASSETS = ("report.css", "report.js")


@functools.cache
def _asset(name: str) -> str:
    return resources.files("tracekit.report.html").joinpath("assets", name).read_text(encoding="utf-8")


@functools.cache
def _plotly_js() -> str:
    """The plotly.js bundled with the plotly package (imported here: it takes a moment)."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()
