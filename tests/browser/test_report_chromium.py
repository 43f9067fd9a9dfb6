"""The HTML report in a real browser: Debian's Chromium, headless, driven by Playwright.

Each report is written by the CLI, opened as a file:// URL, and must draw every chart it emitted,
log no console error, raise no page error, and ask the network for nothing. Skips the whole module
when /usr/bin/chromium or the playwright package is missing (.ci/run installs Chromium, the
`test` extra installs playwright).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import GPU_DATA, ROOT, SHARED_TRACES

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_SCHEMES = ("file:", "data:", "blob:")
ASCEND_TRACE = SHARED_TRACES / "msprof" / "msinsight-torchnpu-level0" / "rank0_ascend_pt"
OPERATORS_TRACE = GPU_DATA / "operators_bf16.pt.trace.json.gz"  # 6 modelled operators, bf16, H200
DRAW_TIMEOUT_MS = 30_000

if not CHROMIUM.is_file():
    pytest.skip(f"{CHROMIUM} is absent (install Debian's chromium: .ci/run does)", allow_module_level=True)
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="the playwright package is absent (pip install -e '.[test]')"
)

CASES = {
    "sim_baseline_en": (ROOT / "sample_traces" / "sim_case000_baseline.pt.trace.json.gz", "en"),
    "h2d_real_en": (ROOT / "sample_traces" / "h2d28_separate.pt.trace.json.gz", "en"),
    "h2d_real_zh": (ROOT / "sample_traces" / "h2d28_separate.pt.trace.json.gz", "zh"),
    "ascend_en": (ASCEND_TRACE, "en"),
}


@dataclass
class Visit:
    """What happened while a report was open: console errors, page errors, network requests."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    network_requests: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("reports")


def _write_report(trace: Path, lang: str, out_dir: Path, name: str) -> Path:
    """The report as a user makes it: `tracekit analyze TRACE --json ... --html ... --lang ...`."""
    html = out_dir / f"{name}.html"
    result = subprocess.run(
        [sys.executable, "-m", "tracekit", "analyze", str(trace), "--json", str(out_dir / f"{name}.json"),
         "--html", str(html), "--lang", lang],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert html.is_file(), result.stdout
    return html


def _open(browser: object, html: Path) -> tuple[object, Visit]:
    """Open `html` in a fresh page, recording errors and refusing (and noting) any network request."""
    visit = Visit()
    page = browser.new_page()
    page.on("console", lambda message: message.type == "error" and visit.console_errors.append(message.text))
    page.on("pageerror", lambda error: visit.page_errors.append(str(error)))
    page.on(
        "request",
        lambda request: request.url.startswith(LOCAL_SCHEMES) or visit.network_requests.append(request.url),
    )

    page.route(  # the request is noted above; then refused, so a report that tries fails here too
        "**/*",
        lambda route: route.continue_() if route.request.url.startswith(LOCAL_SCHEMES) else route.abort(),
    )
    page.goto(html.as_uri(), wait_until="load")
    page.wait_for_function(
        "document.querySelectorAll('div.chart.js-plotly-plot').length"
        " === document.querySelectorAll('div.chart').length",
        timeout=DRAW_TIMEOUT_MS,
    )
    page.wait_for_timeout(300)  # let plotly finish its asynchronous drawing
    return page, visit


CHART_STATE = """() => Array.from(document.querySelectorAll('div.chart')).map(div => ({
    id: div.id,
    plotted: div.classList.contains('js-plotly-plot'),
    svgs: div.querySelectorAll('svg.main-svg').length,
    traces: div.querySelectorAll('g.trace').length,
    marks: div.querySelectorAll('g.trace g.point path, g.trace path.point, g.trace path.js-line').length,
    error: div.classList.contains('chart-error'),
}))"""


@pytest.mark.parametrize("case", list(CASES))
def test_report_draws_every_chart_offline_without_errors(
    browser: object, report_dir: Path, case: str
) -> None:
    trace, lang = CASES[case]
    if not trace.exists():
        pytest.skip(f"{trace} is absent (../shared/traces is not beside this checkout)")
    page, visit = _open(browser, _write_report(trace, lang, report_dir, case))
    try:
        _assert_every_chart_drawn(page, visit, lang)
    finally:
        page.close()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_operators_section_draws_its_roofline(browser: object, report_dir: Path, lang: str) -> None:
    page, visit = _open(browser, _write_report(OPERATORS_TRACE, lang, report_dir, f"operators_{lang}"))
    try:
        _assert_every_chart_drawn(page, visit, lang)
        section = page.locator("#sec-operators")
        assert section.locator("h2").text_content() == ("算子" if lang == "zh" else "Operators")
        assert section.locator("table.sortable tbody tr").count() == 6
        roofline = section.locator("div.chart.js-plotly-plot")
        assert roofline.count() == 1
        assert roofline.locator("g.trace.scatter path.point").count() == 6  # one point per operator
        assert roofline.locator("g.trace.scatter path.js-line").count() == 1  # the bf16 roof
        axes = roofline.evaluate("div => [div._fullLayout.xaxis.type, div._fullLayout.yaxis.type]")
        assert axes == ["log", "log"]
        section.locator("table.sortable th", has_text="TFLOP/s").click()
        rates = section.locator("table.sortable tbody tr td:nth-child(6)")
        values = [float(v) for v in rates.evaluate_all("cells => cells.map(c => c.dataset.v)")]
        assert len(values) == 6 and values == sorted(values, reverse=True)
    finally:
        page.close()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_attribution_section_draws_one_stacked_bar_per_step(
    browser: object, report_dir: Path, lang: str
) -> None:
    trace = ROOT / "sample_traces" / "h2d28_separate.pt.trace.json.gz"
    html = _write_report(trace, lang, report_dir, f"attribution_{lang}")
    attribution = json.loads(html.with_suffix(".json").read_text())["devices"][0]["whatif"]["attribution"]
    steps, categories = attribution["steps"], attribution["categories"]
    shown = [c for c in categories if any(step[c] for step in steps)]
    page, visit = _open(browser, html)
    try:
        _assert_every_chart_drawn(page, visit, lang)
        chart = page.locator("#sec-attribution div.chart.js-plotly-plot")
        assert chart.count() == 1
        drawn = chart.evaluate(
            "div => ({barmode: div._fullLayout.barmode, traces: div.querySelectorAll('g.trace.bars').length,"
            " bars: div.querySelectorAll('g.trace.bars g.point').length,"
            " sums: div.data[0].x.map((_, i) => div.data.reduce((s, t) => s + t.customdata[i], 0))})"
        )
        assert drawn["barmode"] == "stack" and drawn["traces"] == len(shown)
        assert drawn["bars"] == len(shown) * len(steps)
        assert drawn["sums"] == [sum(step[c] for c in categories) for step in steps]
        heading = "步骤时间的去向" if lang == "zh" else "Where the step time goes"
        assert page.locator("#sec-attribution h2").text_content() == heading
    finally:
        page.close()


COMPARE_CASES = {  # (command, NEW, BASE, language, exit code): graph -> eager, batched -> separate copies
    "diff_chain80_en": ("diff", "chain80_eager", "chain80_graph", "en", 0),
    "diff_h2d_zh": ("diff", "h2d_separate", "h2d_batched", "zh", 0),
    "check_h2d_en": ("check", "h2d_separate", "h2d_batched", "en", 1),
    "check_chain80_zh": ("check", "chain80_eager", "chain80_graph", "zh", 1),
}


def _write_compare_report(case: str, out_dir: Path) -> Path:
    """`tracekit diff BASE NEW --html F` or `tracekit check NEW --baseline BASE --html F`."""
    command, new, base, lang, code = COMPARE_CASES[case]
    new_trace, base_trace = (str(GPU_DATA / "corpus" / f"{name}.pt.trace.json.gz") for name in (new, base))
    traces = [base_trace, new_trace] if command == "diff" else [new_trace, "--baseline", base_trace]
    html = out_dir / f"{case}.html"
    result = subprocess.run(
        [sys.executable, "-m", "tracekit", command, *traces, "--html", str(html), "--lang", lang],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == code, result.stderr
    assert html.is_file(), result.stdout
    return html


@pytest.mark.parametrize("case", list(COMPARE_CASES))
def test_diff_and_check_reports_draw_every_chart_offline_without_errors(
    browser: object, report_dir: Path, case: str
) -> None:
    command, _, _, lang, _ = COMPARE_CASES[case]
    page, visit = _open(browser, _write_compare_report(case, report_dir))
    try:
        _assert_every_chart_drawn(page, visit, lang)
        steps = page.locator("#cmp-sec-steps div.chart.js-plotly-plot")
        assert steps.count() == 2
        assert steps.first.locator("g.trace.boxes").count() == 2  # BASE and NEW
        assert steps.first.locator("g.trace.boxes path.point").count() == 20  # every step of both
        assert steps.last.locator("g.trace.scatter path.js-line").count() == 2
        bars = page.locator("#cmp-sec-cpu_ops div.chart.js-plotly-plot g.trace.bars g.point")
        assert bars.count() >= 1
        assert page.locator(".compare-card").count() >= 7
        if command == "check":  # both pairs are real regressions
            assert page.locator("#cmp-sec-verdicts table.sortable tbody tr").count() >= 9
            assert page.locator("p.check-status.status-regression").count() == 1
        else:
            assert page.locator("#cmp-sec-verdicts").count() == 0
    finally:
        page.close()


def _assert_every_chart_drawn(page: object, visit: Visit, lang: str) -> None:
    """Every chart emitted is drawn with marks, in the page's language, with no error or request."""
    emitted = json.loads(page.locator("#report-data").text_content())["charts"]
    charts = page.evaluate(CHART_STATE)
    assert len(charts) == len(emitted) >= 3
    assert [chart["id"] for chart in charts] == list(emitted)
    for chart in charts:
        assert chart["plotted"] and not chart["error"], chart
        assert chart["svgs"] >= 1 and chart["traces"] >= 1 and chart["marks"] >= 1, chart
    assert page.evaluate("document.documentElement.lang") == ("zh-CN" if lang == "zh" else "en")
    assert visit.console_errors == []
    assert visit.page_errors == []
    assert visit.network_requests == []


def test_tables_sort_hints_show_and_print_layout_holds(browser: object, report_dir: Path) -> None:
    trace, lang = CASES["sim_baseline_en"]
    page, visit = _open(browser, _write_report(trace, lang, report_dir, "interaction"))
    try:
        hotspots = page.locator("#sec-hotspots table.sortable")
        header = hotspots.locator("th", has_text="count")
        cells = hotspots.locator("tbody tr td:nth-child(3)")
        header.click()
        descending = [float(v) for v in cells.evaluate_all("cells => cells.map(c => c.dataset.v)")]
        header.click()
        ascending = [float(v) for v in cells.evaluate_all("cells => cells.map(c => c.dataset.v)")]
        assert descending == sorted(descending, reverse=True) and ascending == sorted(ascending)
        assert header.get_attribute("aria-sort") == "ascending"
        assert "formula" in (cells.first.get_attribute("title") or "")  # the column's hint, on hover
        page.emulate_media(media="print")
        page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
        page.wait_for_timeout(300)
        assert page.evaluate("getComputedStyle(document.querySelector('#sec-bubbles')).breakBefore") == "page"
        assert page.evaluate("getComputedStyle(document.querySelector('nav.toc')).display") == "none"
        widths = page.evaluate(
            "Array.from(document.querySelectorAll('.js-plotly-plot')).map(d => d._fullLayout.width)"
        )
        assert widths and all(width <= 700 for width in widths)
        assert visit.console_errors == [] and visit.page_errors == [] and visit.network_requests == []
    finally:
        page.close()
