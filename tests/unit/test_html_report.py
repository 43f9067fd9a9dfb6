"""The HTML report: self-contained (no network), under its size budget, every section when its data is
there and none of them breaking when it is not; English and Chinese; the CLI that writes it."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import msgspec
import pytest
from ascend_builder import task, write_rank
from conftest import ROOT

from tracekit.analysis.analyze import analyze
from tracekit.analysis.document import Document, encode
from tracekit.analysis.document.recommendations import Recommendations
from tracekit.analysis.document.trace import (
    Lane,
    StepDurations,
    Steps,
    StepSeries,
    TimelineEvents,
    TraceInfo,
)
from tracekit.readers import read_trace, read_traces
from tracekit.report.html import MAX_REPORT_BYTES, render_html
from tracekit.report.html.i18n import STRINGS
from tracekit.rules import CHANGES

SIM_BASELINE = ROOT / "sample_traces" / "sim_case000_baseline.pt.trace.json.gz"
H2D_SAMPLE = ROOT / "sample_traces" / "h2d28_separate.pt.trace.json.gz"
URL_ATTRIBUTES = {
    "src",
    "href",
    "srcset",
    "action",
    "formaction",
    "data",
    "poster",
    "xlink:href",
    "background",
}
NETWORK_URL = re.compile(r"^\s*(?:https?:)?//", re.I)
CSS_NETWORK_LOAD = re.compile(r"""(?:url\(\s*["']?\s*(?:https?:)?//|@import)""", re.I)


@pytest.fixture(scope="module")
def document() -> Document:
    return analyze(read_trace(SIM_BASELINE), changes=CHANGES)


@pytest.fixture(scope="module")
def recommendations() -> Recommendations:
    """Recommendations as the rules engine writes them (test data for the renderer)."""
    plain = {
        "lang": "en",
        "platform": "cuda",
        "device": None,
        "fired": [
            {
                "id": "pageable_h2d",
                "rank": 2,
                "title": "Pin the host buffers of the H2D copies",
                "summary": "2,240 copies read pageable memory.",
                "evidence": [
                    {"label": "pageable H2D copies", "value": "2,240", "formula": "copies.pageable"}
                ],
                "offenders": {
                    "columns": ["call", "count", "total ms"],
                    "rows": [["cudaMemcpyAsync", 2240, 59.1]],
                },
                "gain": {
                    "metric": "step_time",
                    "speedup": 1.25,
                    "baseline_step_ns": 1443498,
                    "predicted_step_ns": 1154798,
                    "amdahl_bound": 1.6,
                    "removable_share": 0.37,
                    "method": "removes the pageable staging copy",
                    "assumptions": ["pinned copies run at PCIe bandwidth"],
                },
                "actions": ["allocate with pin_memory=True"],
                "case_study": {"title": "Case 000", "ref": "https://example.org/case000"},
            },
            {
                "id": "batch_h2d",
                "rank": 1,
                "title": "Batch the 28 H2D copies of each step",
                "summary": "28 small copies per step cost 0.7 ms.",
                "evidence": [],
                "offenders": None,
                "gain": {
                    "metric": "throughput",
                    "speedup": 1.9,
                    "baseline_step_ns": None,
                    "predicted_step_ns": None,
                    "amdahl_bound": None,
                    "removable_share": None,
                    "method": "what-if simulation",
                    "assumptions": [],
                },
                "actions": ["concatenate the inputs on the host", "copy once per step"],
                "case_study": {"title": "Case 000 table 2", "ref": "seeds/000"},
            },
        ],
        "checked": [
            {"id": "ai_cpu", "title": "AI CPU operators", "status": "not_applicable", "reason": "not Ascend"},
            {"id": "launch_bound", "title": "Launch-bound", "status": "not_fired", "reason": "kernels long"},
        ],
    }
    return msgspec.convert(plain, Recommendations)


class _Page(HTMLParser):
    """The parts of a report the tests look at: tags, script bodies, chart divs, cells."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[tuple[dict, str]] = []
        self.chart_ids: list[str] = []
        self.html_lang: str | None = None
        self.numbers_without_hint: list[str] = []
        self.network_refs: list[str] = []  # URLs a browser would fetch on its own
        self.web_links: list[str] = []  # <a> links to the web, followed only when clicked
        self._script: dict | None = None
        self._script_text: list[str] = []
        self._headers: list[list[str | None]] = []
        self._column = 0
        self._cell_hint: str | None = None
        self._cell_numeric = False
        self._cell_text: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self._note_urls(tag, attrs)
        if tag == "html":
            self.html_lang = values.get("lang")
        elif tag == "script":
            self._script, self._script_text = values, []
        elif tag == "div" and "chart" in (values.get("class") or "").split():
            self.chart_ids.append(values["id"])
        elif tag == "table":
            self._headers.append([])
        elif tag == "tr":
            self._column = 0
        elif tag == "th":
            self._headers[-1].append(values.get("title"))
        elif tag == "td":
            headers = self._headers[-1]
            column_hint = headers[self._column] if self._column < len(headers) else None
            self._cell_hint = values.get("title") or column_hint
            self._cell_numeric = "num" in (values.get("class") or "").split()
            self._cell_text = []
            self._column += 1

    def _note_urls(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "style" and value and CSS_NETWORK_LOAD.search(value):
                self.network_refs.append(value)
            if name not in URL_ATTRIBUTES or not value or not NETWORK_URL.match(value):
                continue
            clicked_only = tag == "a" and name == "href" and dict(attrs).get("rel") == "noopener noreferrer"
            (self.web_links if clicked_only else self.network_refs).append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            self.scripts.append((self._script, "".join(self._script_text)))
            self._script = None
        elif tag == "table":
            self._headers.pop()
        elif tag == "td" and self._cell_text is not None:
            shown = "".join(self._cell_text).strip()
            if self._cell_numeric and shown != "-" and not self._cell_hint:
                self.numbers_without_hint.append(shown)
            self._cell_text = None

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script_text.append(data)
        if self._cell_text is not None:
            self._cell_text.append(data)


def _parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    return parser


def _without_plotly(page: str) -> str:
    start = page.index('<script id="plotly-js">')
    return page[:start] + page[page.index("</script>", start) :]


def _data_island(parsed: _Page) -> dict:
    (island,) = [body for attrs, body in parsed.scripts if attrs.get("id") == "report-data"]
    return json.loads(island)


# --- self-contained, size, structure -------------------------------------------------------------


def test_report_is_self_contained_and_under_budget(
    document: Document, recommendations: Recommendations
) -> None:
    page = render_html(document, "en", recommendations)
    assert len(page.encode("utf-8")) < MAX_REPORT_BYTES
    parsed = _parse(page)
    plotly = [body for attrs, body in parsed.scripts if attrs.get("id") == "plotly-js"]
    assert len(plotly) == 1 and len(plotly[0]) > 1_000_000  # plotly.js inlined, once
    assert page.count("plotly.js v") == 1
    assert parsed.network_refs == []
    assert parsed.web_links == ["https://example.org/case000"]  # the case study: a link, not a load
    ours = _without_plotly(page)
    assert not re.search(r"""(?:src|href)\s*=\s*["']?https?:""", ours.replace(parsed.web_links[0], ""))
    assert not CSS_NETWORK_LOAD.search(ours)
    assert all("src" not in attrs for attrs, _ in parsed.scripts)  # every script inline
    assert "<link" not in ours and "<img" not in ours and "<iframe" not in ours
    assert "default-src 'none'" in ours  # the browser refuses any fetch


def test_every_section_is_there(document: Document, recommendations: Recommendations) -> None:
    page = render_html(document, "en", recommendations)
    for section in ("summary", "recommendations", "checked", "timeline", "hotspots", "operators", "bubbles",
                    "steps", "copies", "blocking", "metadata", "glossary"):  # fmt: skip
        assert f'<section id="sec-{section}">' in page, section
    assert 'id="sec-ascend"' not in page  # not an Ascend trace
    assert '<html lang="en">' in page


def test_each_chart_div_has_its_data(document: Document, recommendations: Recommendations) -> None:
    parsed = _parse(render_html(document, "en", recommendations))
    charts = _data_island(parsed)["charts"]
    # attribution, timeline, hotspots, 2 bubbles, steps
    assert parsed.chart_ids == list(charts) and len(charts) == 6
    assert _data_island(parsed)["config"]["displaylogo"] is False
    timeline = next(spec for spec in charts.values() if spec["type"] == "timeline")
    assert len(timeline["lane"]) == document.timeline.shown_events
    assert {"kernel", "memcpy"} <= set(timeline["kinds"])


def test_every_number_in_a_table_carries_its_formula(
    document: Document, recommendations: Recommendations
) -> None:
    page = render_html(document, "en", recommendations)
    assert _parse(page).numbers_without_hint == []  # hints of cells, or of their column header
    cards = re.findall(r'<div class="card" title="([^"]*)"', page)
    assert len(cards) == 7
    assert all("formula: " in card and "window: " in card for card in cards)
    assert document.definitions["utilization"] in page


def test_recommendations_are_ranked_with_gain_actions_and_case_study(
    document: Document, recommendations: Recommendations
) -> None:
    page = render_html(document, "en", recommendations)
    first, second = page.index("Batch the 28 H2D copies"), page.index("Pin the host buffers")
    assert first < second  # rank 1 before rank 2
    assert "\u00d71.25" in page and "\u00d71.60" in page and "1.44 ms → 1.15 ms" in page
    assert "pinned copies run at PCIe bandwidth" in page and "concatenate the inputs on the host" in page
    assert '<a href="https://example.org/case000" rel="noopener noreferrer" target="_blank">' in page
    assert "seeds/000" not in page  # a path to a file users do not have: the case is told instead
    assert page.count("28 separate H2D copies took 53.6 % of each inference") == 2  # both findings cite it
    assert "not Ascend" in page and "did not fire" in page and "not applicable" in page
    assert 'class="data sortable"' in page


def test_chinese_report_has_chinese_ui(document: Document, recommendations: Recommendations) -> None:
    page = render_html(document, "zh", recommendations)
    assert '<html lang="zh-CN">' in page
    for title in ("优化建议", "内核热点", "步骤时延", "术语表", "已检查但未触发的规则"):
        assert title in page
    visible = re.sub(r"<script.*?</script>", "", page, flags=re.S)
    for english in ("Recommendations", "Kernel hotspots", "Step latency", "Glossary", "Expected gain"):
        assert english not in visible


def test_languages_have_the_same_strings_and_fields() -> None:
    assert set(STRINGS["en"]) == set(STRINGS["zh"])
    for key, text in STRINGS["en"].items():
        fields = sorted(re.findall(r"{(\w+)}", text))
        assert fields == sorted(re.findall(r"{(\w+)}", STRINGS["zh"][key])), key


def test_unknown_language_is_refused(document: Document) -> None:
    with pytest.raises(ValueError, match="fr"):
        render_html(document, "fr")


# --- missing blocks, hostile names, huge inputs --------------------------------------------------


def _remove(document: Document, block: str) -> Document:
    """`document` without `block` (None, or empty), as older or CPU-only analyses are."""
    replace = msgspec.structs.replace
    if block in ("series", "throughput_per_s"):
        return replace(document, steps=replace(document.steps, **{block: None}))
    if block == "devices":
        return replace(document, devices=[])
    if block == "whatif":
        return replace(document, devices=[replace(device, whatif=None) for device in document.devices])
    if block == "steps":
        durations = StepDurations(p50=None, p90=None, p99=None, mean=None, max=None)
        steps = Steps(count=0, first=None, last=None, duration_ns=durations, throughput_per_s=None)
        return replace(document, steps=steps)
    if block == "definitions":
        return replace(document, definitions={})
    return replace(document, **{block: None})


@pytest.mark.parametrize(
    ("block", "section_left_out", "charts"),
    [
        ("timeline", "sec-timeline", 5),
        ("recommendations", "sec-checked", 6),
        ("series", None, 5),
        ("throughput_per_s", None, 6),
        ("devices", "sec-hotspots", 2),
        ("steps", None, 5),
        ("definitions", None, 6),
        ("whatif", "sec-attribution", 5),
    ],
)
def test_missing_blocks_leave_their_part_out(
    document: Document, block: str, section_left_out: str | None, charts: int
) -> None:
    page = render_html(_remove(document, block), "en")
    parsed = _parse(page)
    assert parsed.chart_ids == list(_data_island(parsed)["charts"]) and len(parsed.chart_ids) == charts
    if section_left_out:
        assert f'id="{section_left_out}"' not in page
    if block == "devices":
        assert "No device activity" in page
    if block == "recommendations":
        assert "This analysis carries no recommendations." in page


def _warned_trace(document: Document, warnings: list[str]) -> TraceInfo:
    """The document's trace block with the reader's `warnings`."""
    metadata = {**document.trace.metadata, "warnings": warnings}
    return msgspec.structs.replace(document.trace, metadata=metadata)


def test_hostile_names_cannot_break_out(document: Document) -> None:
    replace = msgspec.structs.replace
    name = '</script><script>alert(1)</script><img src="https://evil.example/x.png">'
    device, timeline = document.devices[0], document.timeline
    hotspots = [replace(device.hotspots[0], name=name), *device.hotspots[1:]]
    events = replace(timeline.events, name=[name, *timeline.events.name[1:]])
    hostile = replace(
        document,
        devices=[replace(device, hotspots=hotspots), *document.devices[1:]],
        timeline=replace(timeline, events=events),
        trace=_warned_trace(document, [name]),
    )
    page = render_html(hostile, "en")
    parsed = _parse(page)
    assert len(parsed.scripts) == 4  # data island, PlotlyConfig, plotly.js, report.js
    assert "alert(1)" in json.dumps(_data_island(parsed))
    assert parsed.network_refs == [] and "<img" not in _without_plotly(page)


def test_huge_inputs_stay_under_budget(document: Document) -> None:
    replace = msgspec.structs.replace
    count = 200_000
    events = TimelineEvents(
        lane=[i % 2 for i in range(count)],
        start_ns=list(range(count)),
        dur_ns=[1 + i % 97 for i in range(count)],
        kind=["kernel"] * count,
        name=[f"kernel_{i}_" + "x" * 150 for i in range(count)],
    )
    lanes = [Lane(id=0, label="a", kind="host"), Lane(id=1, label="b", kind="stream")]
    device = document.devices[0]
    hotspot = device.hotspots[0]
    hotspots = [replace(hotspot, name=f"k{i}" + "y" * 300) for i in range(20_000)]
    series = StepSeries(step=list(range(2000)), duration_ns=[10**6] * 2000, stride=50)
    huge = replace(
        document,
        timeline=replace(document.timeline, events=events, lanes=lanes),
        devices=[replace(device, hotspots=hotspots), *document.devices[1:]],
        steps=replace(document.steps, series=series),
        trace=_warned_trace(document, ["w" * 10_000] * 10_000),
    )
    page = render_html(huge, "en")
    assert len(page.encode("utf-8")) < MAX_REPORT_BYTES
    assert "first 100 of 20000 rows shown" in page.replace(",", "")


def test_ascend_findings_are_a_table(tmp_path: Path) -> None:
    write_rank(tmp_path / "job", 0, [task("MatMul", "10.000", 5.0), task("Add", "20.000", 1.0)])
    (trace,) = read_traces(tmp_path / "job")
    document = analyze(trace)
    page = render_html(document, "zh")
    assert '<section id="sec-ascend">' in page
    for finding in ("h2d", "ai_cpu", "dynamic_shape", "int64", "block_dim"):
        assert f"<td>{finding}</td>" in page or f">{finding}</td>" in page
    assert "昇腾诊断" in page


# --- the CLI -------------------------------------------------------------------------------------


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tracekit", *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def test_analyze_writes_html_by_default_and_report_renders_again(tmp_path: Path) -> None:
    result = _run("analyze", str(H2D_SAMPLE), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    html = tmp_path / "reports" / "h2d28_separate.pt.trace.html"
    analysis = tmp_path / "reports" / "h2d28_separate.pt.trace.analysis.json"
    assert f"HTML report written to {html.relative_to(tmp_path)}" in result.stdout
    assert html.is_file() and "recommendations" in json.loads(analysis.read_text())
    before = hashlib.sha256(analysis.read_bytes()).hexdigest()
    html.unlink()
    result = _run("report", str(analysis), "--lang", "zh")
    assert result.returncode == 0, result.stderr
    assert '<html lang="zh-CN">' in html.read_text(encoding="utf-8")
    assert hashlib.sha256(analysis.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in analysis.parent.iterdir()) == sorted([analysis.name, html.name])


def test_html_option_no_html_and_rank_names(tmp_path: Path) -> None:
    result = _run("analyze", str(H2D_SAMPLE), "--json", "a.json", "--html", "out/a.html", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "a.html").is_file()
    result = _run("analyze", str(H2D_SAMPLE), "--no-json", "--no-html", cwd=tmp_path)
    assert result.returncode == 0 and not (tmp_path / "reports").exists()
    write_rank(tmp_path / "job", 0, [task("MatMul", "10.000", 5.0)])
    write_rank(tmp_path / "job", 3, [task("MatMul", "10.000", 5.0)])
    result = _run("analyze", "job", "--no-json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    written = sorted(p.name for p in (tmp_path / "reports").iterdir())
    assert written == ["job.cluster.html", "job.rank0.html", "job.rank3.html"]  # and the cluster view
    result = _run("analyze", "job", "--no-json", "--html", "r.html", cwd=tmp_path)
    assert sorted(p.name for p in tmp_path.glob("r.*")) == ["r.cluster.html", "r.rank0.html", "r.rank3.html"]


@pytest.mark.parametrize("command", ["analyze", "report"])
def test_unknown_language_is_a_usage_error(tmp_path: Path, command: str) -> None:
    result = _run(command, str(H2D_SAMPLE), "--lang", "fr", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "--lang" in result.stderr and "fr" in result.stderr
    assert not (tmp_path / "reports").exists()


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "no such file"),
        (b"", "empty file"),
        (b"not json at all", "not JSON"),
        (b'{"schema": "tracekit.diff/1"}', "not a tracekit analysis"),
        (b"[1, 2]", "not a tracekit analysis"),
        (b'{"schema": "tracekit.analysis/1", "trace": {}}', "incomplete tracekit analysis"),
        (b"\xff\xfe\x00binary", "not UTF-8"),
        ("truncated", "truncated JSON"),
    ],
)
def test_report_refuses_bad_input_in_one_line(
    tmp_path: Path, document: Document, content: bytes | str | None, problem: str
) -> None:
    path = tmp_path / "in.analysis.json"
    if content == "truncated":
        whole = msgspec.json.format(encode(document), indent=2)
        content = whole[: len(whole) // 2]
    if content is not None:
        path.write_bytes(content)
    result = _run("report", str(path))
    assert result.returncode == 2
    assert result.stderr.startswith(f"tracekit: error: {path}: ") and problem in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / "in.html").exists()
