"""The diff and check HTML reports on real pairs of the GPU corpus: the numbers on the page are the
documents' numbers, operators come biggest regression first then biggest improvement, and the page
is as self-contained as the analysis report."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import GPU_DATA
from typer.testing import CliRunner

from tracekit.analysis.document.recommendations import Recommendations
from tracekit.cli.main import app
from tracekit.compare.budget import default_budgets, parse_budget
from tracekit.compare.check import check
from tracekit.compare.diff import diff
from tracekit.compare.run import Run, run_of
from tracekit.formatting import fmt_ns
from tracekit.readers import read_trace
from tracekit.report.ci import format_change, format_value
from tracekit.report.html.compare import render_check_html, render_diff_html
from tracekit.rules import recommend

CORPUS = GPU_DATA / "corpus"
PAIRS = {"h2d": ("h2d_batched", "h2d_separate"), "chain80": ("chain80_graph", "chain80_eager")}


class _Tables(HTMLParser):
    """Every table of each section: rows of (text, data-v) cells; and the headline cards."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[list[tuple[str, str | None]]]]] = {}
        self.cards: dict[str, list[str]] = {}
        self._section = ""
        self._cell: list[str] | None = None
        self._card: str | None = None
        self._value: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "section":
            self._section = values["id"] or ""
        elif tag == "table":
            self.tables.setdefault(self._section, []).append([])
        elif tag == "tr" and self._section in self.tables:
            self.tables[self._section][-1].append([])
        elif tag == "td":
            self._cell, self._sort = [], values.get("data-v")
        elif tag == "div" and values.get("data-path"):
            self._card = values["data-path"]
            self.cards[self._card] = []
        elif tag == "div" and self._card and values.get("class") == "card-value":
            self._value = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.tables[self._section][-1][-1].append(("".join(self._cell).strip(), self._sort))
            self._cell = None
        elif tag == "div" and self._value is not None:
            self.cards[self._card].append("".join(self._value))
            self._value = None

    def handle_data(self, data: str) -> None:
        for sink in (self._cell, self._value):
            if sink is not None:
                sink.append(data)


def _parse(page: str) -> _Tables:
    parser = _Tables()
    parser.feed(page[: page.index('<script id="plotly-js">')] + "</body></html>")
    return parser


@pytest.fixture(scope="module")
def runs() -> dict[str, Run]:
    names = {name for pair in PAIRS.values() for name in pair}
    return {name: run_of(read_trace(CORPUS / f"{name}.pt.trace.json.gz")) for name in names}


@pytest.fixture(scope="module")
def diffs(runs: dict[str, Run]) -> dict[str, dict]:
    return {key: diff(runs[base], runs[new]) for key, (base, new) in PAIRS.items()}


def _recommendations(runs: dict[str, Run], key: str) -> tuple[Recommendations, Recommendations]:
    base, new = PAIRS[key]
    return recommend(runs[base].document), recommend(runs[new].document)


def _page(runs: dict[str, Run], diffs: dict[str, dict], key: str, lang: str = "en") -> str:
    return render_diff_html(diffs[key], lang, _recommendations(runs, key))


def test_cards_show_the_documents_numbers(runs: dict[str, Run], diffs: dict[str, dict]) -> None:
    cards = _parse(_page(runs, diffs, "h2d")).cards
    assert cards["step.p50"] == ["763 us", "1.83 ms", "+139.3 % (+1.06 ms)"]
    assert cards["h2d.per_step"] == ["1", "28", "+2700.0 % (+27)"]
    assert cards["utilization"] == ["8.80 %", "6.65 %", "-2.14 pp"]
    for row in diffs["h2d"]["metrics"]:
        if row["path"] in cards:
            unit = row["unit"]
            assert cards[row["path"]] == [format_value(row["base"], unit), format_value(row["new"], unit),
                                          format_change(row)]  # fmt: skip


def test_steps_table_and_shift(runs: dict[str, Run], diffs: dict[str, dict]) -> None:
    page = _page(runs, diffs, "chain80")
    (steps,) = _parse(page).tables["cmp-sec-steps"]
    stats = ("p50", "p90", "p99", "mean", "max")
    document = diffs["chain80"]["steps"]
    assert [[text for text, _ in row] for row in steps[1:]] == [
        [label, str(document[side]["count"]), *(fmt_ns(document[side][k]) for k in stats)]
        for label, side in (("BASE", "base"), ("NEW", "new"))
    ]
    assert steps[1][2][0] == "293 us" and steps[2][2][0] == "2.47 ms"
    sort_keys = [float(v) for _, v in steps[2][2:]]  # 6 significant digits
    assert sort_keys == pytest.approx([document["new"][k] for k in stats], rel=5e-6)
    assert "+2.18 ms, 95% interval [+2.16 ms, +2.24 ms]; Mann-Whitney U p = 5.41e-06" in page


def test_operators_biggest_regressions_first_then_improvements(
    runs: dict[str, Run], diffs: dict[str, dict]
) -> None:
    tables = _parse(_page(runs, diffs, "h2d")).tables
    (cpu,) = tables["cmp-sec-cpu_ops"]
    deltas = [float(row[6][1]) for row in cpu[1:]]
    slower = [d for d in deltas if d > 0]
    faster = [d for d in deltas if d < 0]
    assert deltas == slower + faster  # no unchanged host operator here
    assert slower == sorted(slower, reverse=True) and faster == sorted(faster)
    block = diffs["h2d"]["cpu_ops"]
    assert len(deltas) == len(block["aligned"])
    assert [row[1][0] for row in cpu[1:4]] == [r["name"] for r in block["regressions"][:3]]
    assert cpu[1][:4] == [("slower", None), ("aten::to", None), ("20", "20"), ("290", "290")]
    assert cpu[1][6] == ("+1.06 ms", f"{block['regressions'][0]['delta_ns']:.6g}")
    vanished = [row for row in cpu[1:] if row[0][0] == "vanished"]
    assert [row[1][0] for row in vanished] == block["vanished"] == ["aten::split_with_sizes"]


def test_appeared_operators_are_listed(runs: dict[str, Run], diffs: dict[str, dict]) -> None:
    page = _page(runs, diffs, "chain80")
    appeared = diffs["chain80"]["cpu_ops"]["appeared"]
    assert len(appeared) == 8 and f"Appeared in NEW ({len(appeared)})" in page
    assert all(f"<li>{name}</li>" in page for name in appeared)


def test_recommendations_that_appeared_or_vanished(runs: dict[str, Run], diffs: dict[str, dict]) -> None:
    (table,) = _parse(_page(runs, diffs, "chain80")).tables["cmp-sec-recommendations"]
    base, new = ([item.id for item in side.fired] for side in _recommendations(runs, "chain80"))
    rows = [(row[0][0], row[1][0]) for row in table[1:]]
    assert rows == (
        [("appeared", i) for i in new if i not in base]
        + [("vanished", i) for i in base if i not in new]
        + [("on both", i) for i in new if i in base]
    )
    assert ("appeared", "graph-launch") in rows  # graph -> eager: the graph lever appears


def test_without_recommendations_the_section_says_so(diffs: dict[str, dict]) -> None:
    page = render_diff_html(diffs["h2d"])
    assert "No recommendations to compare" in page


def test_page_is_self_contained_in_both_languages(runs: dict[str, Run], diffs: dict[str, dict]) -> None:
    for lang, html_lang in (("en", "en"), ("zh", "zh-CN")):
        page = _page(runs, diffs, "h2d", lang)
        assert f'<html lang="{html_lang}">' in page and "default-src 'none'" in page
        assert page.count("plotly.js v") == 1
        ours = page[: page.index('<script id="plotly-js">')]
        assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", ours)
        island = json.loads(re.search(r'<script type="application/json" id="report-data">(.*?)</script>',
                                      page).group(1))  # fmt: skip
        assert len(island["charts"]) == 4  # two step charts, the kernels and the host operators that moved
        assert re.findall(r'<div id="(chart-\d+)" class="chart"', page) == list(island["charts"])
    assert "基线" in _page(runs, diffs, "h2d", "zh")


@pytest.fixture(scope="module")
def checked(runs: dict[str, Run]) -> dict:
    budgets = [*default_budgets(), parse_budget("d2h.count", "<= 5")]
    return check(runs["h2d_separate"], [runs["h2d_batched"]], budgets, "built")


def test_verdict_table_has_every_verdict(runs: dict[str, Run], diffs: dict[str, dict], checked: dict) -> None:
    page = render_check_html(checked, diffs["h2d"], "en", _recommendations(runs, "h2d"))
    parsed = _parse(page)
    verdicts = parsed.tables["cmp-sec-verdicts"][0][1:]
    assert [row[0][0] for row in verdicts] == [v["path"] for v in checked["verdicts"]]
    for row, v in zip(verdicts, checked["verdicts"], strict=True):
        unit = v["unit"]
        assert [cell for cell, _ in row[1:8]] == [
            v["status"],
            format_value(v["new"], unit),
            format_value(v["base"], unit),
            format_change(v),
            v["budget"],
            format_value(v["limit"], unit),
            v["reason"],
        ]
    by_path = {row[0][0]: row for row in verdicts}
    assert [cell for cell, _ in by_path["h2d.per_step"][8:]] == ["+27", "[+27, +27]", "7.97e-06"]
    status = f"Result: {checked['status']} ({checked['counts']['regression']} regression"
    assert status in page and "cmp-sec-headline" in page and parsed.cards["h2d.per_step"][1] == "28"


def test_check_without_baseline_renders_the_verdicts_only(runs: dict[str, Run]) -> None:
    document = check(runs["h2d_separate"], [], [parse_budget("h2d.per_step", "<= 2")], "built")
    page = render_check_html(document, None)
    assert "No baseline run" in page and "Result: regression (1 regression" in page
    assert '"charts":{}' in page and 'id="cmp-sec-steps"' not in page


def test_cli_writes_both_reports(tmp_path: Path) -> None:
    base, new = (str(CORPUS / f"{name}.pt.trace.json.gz") for name in PAIRS["h2d"])
    runner = CliRunner()
    result = runner.invoke(app, ["diff", base, new, "--html", str(tmp_path / "d.html"), "--lang", "zh"])
    assert result.exit_code == 0, result.output
    assert '<html lang="zh-CN">' in (tmp_path / "d.html").read_text()
    result = runner.invoke(app, ["check", new, "--baseline", base, "--html", str(tmp_path / "c.html")])
    assert result.exit_code == 1, result.output
    assert "Result: regression" in (tmp_path / "c.html").read_text()
