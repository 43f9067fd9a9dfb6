"""The step-time attribution and the plan in the HTML report and the terminal summary, checked
exactly against documents built from real traces: every number shown is the document's."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from conftest import GPU_DATA, ROOT
from rich.console import Console

from tracekit.analysis.analyze import analyze
from tracekit.analysis.document import Document
from tracekit.analysis.document.recommendations import PlanSummary
from tracekit.analysis.document.whatif import Attribution, StepTimes
from tracekit.formatting import fmt_ns, fmt_share
from tracekit.readers import read_trace
from tracekit.report.html import render_html
from tracekit.report.html.attribution import CATEGORY_COLOURS
from tracekit.report.html.i18n import translator
from tracekit.report.terminal import render_summary
from tracekit.rules import CHANGES, recommend

TRACES = {
    "h2d28": ROOT / "sample_traces" / "h2d28_separate.pt.trace.json.gz",  # plan of 2, alternatives
    "memory_leak": GPU_DATA / "memory_leak.pt.trace.json.gz",  # latency, throughput and memory groups
    "cpu_bound": GPU_DATA / "cpu_bound.pt.trace.json.gz",  # no step-time lever: an empty plan
}
ALLOWED_LATIN = {"H2D", "D2H", "D2D", "CPU", "ms", "us", "ns", "cuda", "Amdahl"}  # units, names


@pytest.fixture(scope="module")
def documents() -> dict[str, Document]:
    built = {}
    for name, path in TRACES.items():
        document = analyze(read_trace(path), changes=CHANGES)
        document.recommendations = recommend(document)
        built[name] = document
    return built


def _attribution(document: Document) -> Attribution:
    return document.devices[0].whatif.attribution


def _section(page: str, anchor: str) -> str:
    start = page.index(f'<section id="{anchor}">')
    return page[start : page.index("</section>", start)]


def _charts(page: str) -> dict:
    island = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S)
    return json.loads(island.group(1))["charts"]


def _attribution_chart(page: str) -> dict:
    (chart_id,) = re.findall(r'<div id="(chart-\d+)" class="chart"', _section(page, "sec-attribution"))
    return _charts(page)[chart_id]


def _ns(step: StepTimes, category: str) -> int:
    return getattr(step, category)


def _total(step: StepTimes, categories: list[str]) -> int:
    return sum(_ns(step, name) for name in categories)


class _Texts(HTMLParser):
    """Visible text of the elements of interest: tag -> texts, with `class` for p and ul."""

    def __init__(self, wanted: set[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.wanted, self.found, self._open = wanted, [], []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        key = f"{tag}.{dict(attrs).get('class')}" if tag in ("p", "ul") else tag
        self._open.append((tag, key in self.wanted or tag in self.wanted, []))

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            name, keep, parts = self._open.pop()
            if keep:
                self.found.append("".join(parts).strip())
            if self._open:
                self._open[-1][2].extend(parts)
            if name == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._open:
            self._open[-1][2].append(data)


def _texts(fragment: str, wanted: set[str]) -> list[str]:
    parser = _Texts(wanted)
    parser.feed(fragment)
    return parser.found


def _english(texts: list[str]) -> list[str]:
    words = re.findall(r"[A-Za-z]{2,}", re.sub(r"--[\w-]+", "", " ".join(texts)))
    return [word for word in words if word not in ALLOWED_LATIN]


# --- where the step time goes -------------------------------------------------------------------


@pytest.mark.parametrize("name", list(TRACES))
def test_bars_are_the_attribution_and_sum_to_each_step_time(documents: dict, name: str) -> None:
    document = documents[name]
    attribution = _attribution(document)
    categories, steps = attribution.categories, attribution.steps
    chart = _attribution_chart(render_html(document))
    bars = chart["data"]
    assert chart["layout"]["barmode"] == "stack"
    shown = [c for c in categories if any(_ns(step, c) for step in steps)]
    assert [bar["marker"]["color"] for bar in bars] == [CATEGORY_COLOURS[c] for c in shown]  # document order
    assert [bar["name"] for bar in bars] == [translator("en")(f"attr.cat.{c}") for c in shown]
    assert all(bar["x"] == [f"#{step.step}" for step in steps] for bar in bars)
    series = document.steps.series
    measured = dict(zip(series.step, series.duration_ns, strict=True))
    for i, step in enumerate(steps):
        stacked = sum(bar["customdata"][i] for bar in bars)
        assert stacked == _total(step, categories) == measured[step.step]
        assert [bar["customdata"][i] for bar in bars] == [_ns(step, c) for c in shown]
        assert all(bar["y"][i] == bar["customdata"][i] / 1e6 for bar in bars)
        first = _ns(step, shown[0])
        share = fmt_share(first / stacked)
        assert f"{fmt_ns(first)} ({first:,} ns), {share} of {fmt_ns(stacked)}" in (bars[0]["hovertext"][i])


@pytest.mark.parametrize("name", list(TRACES))
def test_median_reading_and_table_are_the_median_step(documents: dict, name: str) -> None:
    attribution = _attribution(documents[name])
    categories, median = attribution.categories, attribution.median_step
    section = _section(render_html(documents[name]), "sec-attribution")
    total = _total(median, categories)
    first, second = sorted((c for c in categories if _ns(median, c)), key=lambda c: -_ns(median, c))[:2]
    (number,) = _median_step_numbers(attribution)
    t = translator("en")
    parts = [f"{t(f'attr.cat.{c}')} {fmt_share(_ns(median, c) / total)}" for c in (first, second)]
    reading = f"Median step #{number} ({fmt_ns(total)}): {parts[0]}, then {parts[1]}."
    assert _texts(section, {"p.reading"}) == [reading]
    assert "exclusive partition of the step&#x27;s critical path" in section  # the formula, on hover
    times = [int(v) for v in re.findall(r'<td title="[^"]*" class="num" data-v="(\d+)">', section)]
    assert times[:-1] == [_ns(median, c) for c in categories if _ns(median, c)] and times[-1] == total


def _median_step_numbers(attribution: Attribution) -> list[int]:
    """The replayed steps whose attribution is the median one."""
    median, categories = attribution.median_step, attribution.categories
    return [s.step for s in attribution.steps if all(_ns(s, c) == _ns(median, c) for c in categories)]


# --- the plan and the groups --------------------------------------------------------------------


def _expected_plan_line(plan: PlanSummary) -> str:
    bound = ", upper bound" if plan.upper_bound else ""
    return (
        f"Predicted step time after the plan: {fmt_ns(plan.baseline_step_ns)} → "
        f"{fmt_ns(plan.predicted_step_ns)} (\u00d7{plan.speedup:.2f}{bound})"
    )


def test_plan_comes_first_with_each_step_and_the_cumulative_time(documents: dict) -> None:
    block = documents["h2d28"].recommendations
    plan, fired = block.plan, {rule.id: rule for rule in block.fired}
    section = _section(render_html(documents["h2d28"]), "sec-recommendations")
    assert _texts(section, {"p.plan"}) == [_expected_plan_line(plan)]
    assert "upper bound" in _expected_plan_line(plan) and "are upper bounds" in section
    rows = re.findall(r"<tr>(.*?)</tr>", section[section.index('class="plan"') :].split("</table>")[0])
    cells = [_texts(row, {"td"}) for row in rows[1:]]  # the header row has no td
    assert cells[0] == ["0", "as measured", "-", fmt_ns(plan.baseline_step_ns), "\u00d71.00"]
    for place, (rule_id, row) in enumerate(zip(plan.steps, cells[1:], strict=True), start=1):
        gain = fired[rule_id].gain
        assert gain.plan_step == place
        speedups = [f"\u00d7{gain.speedup:.2f}", f"\u00d7{gain.cumulative_speedup:.2f}"]
        assert row == [
            str(place),
            fired[rule_id].title,
            speedups[0],
            fmt_ns(gain.predicted_step_ns),
            speedups[1],
        ]
    assert cells[-1][3] == fmt_ns(plan.predicted_step_ns) and cells[-1][4] == f"\u00d7{plan.speedup:.2f}"
    order = [section.index(f'id="rule-{rule_id}"') for rule_id in plan.steps]
    assert section.index('class="plan"') < order[0] and order == sorted(order)


def test_groups_are_ordered_and_throughput_states_its_latency_cost(documents: dict) -> None:
    block = documents["memory_leak"].recommendations
    section = _section(render_html(documents["memory_leak"]), "sec-recommendations")
    headings = _texts(section, {"h3"})
    (cost,) = [rule.gain.latency_cost for rule in block.fired if rule.group == "throughput"]
    latency = "Step time, in plan order"
    assert headings == [latency, f"Throughput levers (latency cost \u00d7{cost:.2f})", "Memory"]
    for rule in block.fired:
        heading = {"latency": latency, "memory": "Memory"}.get(rule.group, headings[1])
        assert section.index(heading) < section.index(f'id="rule-{rule.id}"')


def test_alternatives_are_listed_under_their_finding_alone(documents: dict) -> None:
    block = documents["h2d28"].recommendations
    page = render_html(documents["h2d28"])
    with_alternatives = [rule for rule in block.fired if rule.alternatives]
    assert with_alternatives
    for rule in with_alternatives:
        start = page.index(f'id="rule-{rule.id}"')
        article = page[start : page.index("</article>", start)]
        items = _texts(article.split('class="alternatives"')[1].split("</ul>")[0], {"li"})
        assert items == [f"{alt.title} \u00d7{alt.speedup:.2f}" for alt in rule.alternatives]
        assert all(f'id="rule-{alt.id}"' not in page for alt in rule.alternatives)


@pytest.mark.parametrize("name", list(TRACES))
def test_a_plan_line_exactly_when_the_plan_has_steps(documents: dict, name: str) -> None:
    plan = documents[name].recommendations.plan
    section = _section(render_html(documents[name]), "sec-recommendations")
    assert _texts(section, {"p.plan"}) == ([_expected_plan_line(plan)] if plan.steps else [])


@pytest.mark.parametrize("name", ["h2d28", "memory_leak"])
def test_chinese_report_has_no_english_labels_in_the_new_parts(documents: dict, name: str) -> None:
    document = documents[name]
    page = render_html(document, "zh", recommend(document, "zh"))
    attribution = _section(page, "sec-attribution")
    assert _english(_texts(attribution, {"h2", "p", "th", "td", "caption", "figcaption"})) == []
    chart = _attribution_chart(page)
    labels = [chart["layout"]["xaxis"]["title"]["text"], chart["layout"]["yaxis"]["title"]["text"]]
    labels += [bar["name"] for bar in chart["data"]] + [
        re.sub(r"<br>", " ", bar["hovertext"][0]) for bar in chart["data"]
    ]
    assert _english(labels) == []
    own = {"h3", "h5", "h6", "dt", "th", "p.plan", "p.note", "ul.costs"}
    recommendations = _section(page, "sec-recommendations")
    titles = [rule.title for rule in recommend(document, "zh").fired]
    found = [re.sub("|".join(map(re.escape, titles)), "", text) for text in _texts(recommendations, own)]
    assert _english(found) == []
    assert "步骤时间（按计划顺序）" in recommendations  # noqa: RUF001 (full-width parentheses of the zh text)


# --- the terminal -------------------------------------------------------------------------------


def _terminal(document: Document) -> str:
    console = Console(record=True, width=400, color_system=None)  # wide: no cell wraps
    render_summary(document, console)
    return console.export_text()


def test_terminal_plan_and_attribution_lines_are_the_documents(documents: dict) -> None:
    document = documents["h2d28"]
    block, attribution = document.recommendations, _attribution(document)
    gains = {rule.id: rule.gain.speedup for rule in block.fired}
    plan = block.plan
    steps = " -> ".join(f"{rule_id} x{gains[rule_id]:.2f}" for rule_id in plan.steps)
    expected_plan = (
        f"plan: {steps}: {fmt_ns(plan.baseline_step_ns)} -> {fmt_ns(plan.predicted_step_ns)} "
        f"(x{plan.speedup:.2f}, upper bound)"
    )
    median, categories = attribution.median_step, attribution.categories
    total = _total(median, categories)
    top = sorted((c for c in categories if _ns(median, c)), key=lambda c: -_ns(median, c))[:3]
    (number,) = _median_step_numbers(attribution)
    shares = ", ".join(f"{c} {fmt_share(_ns(median, c) / total)}" for c in top)
    expected_attribution = f"median step #{number} {fmt_ns(total)}: {shares} (critical-path attribution"
    lines = _terminal(document).splitlines()
    table_end = max(
        i for i, line in enumerate(lines) if line.startswith(("checked, did not", "not applicable"))
    )
    following = [line.strip() for line in lines[table_end + 1 :]]
    assert following[0] == expected_plan
    assert following[1].startswith(expected_attribution)


def test_terminal_table_is_grouped_with_alternatives(documents: dict) -> None:
    text = _terminal(documents["memory_leak"])
    assert text.index("│ latency ") < text.index("│ throughput ") < text.index("│ memory ")
    (lever,) = [r for r in documents["memory_leak"].recommendations.fired if r.group == "throughput"]
    assert f"{lever.gain.speedup:.2f}x throughput (step x{lever.gain.latency_cost:.2f})" in text
    rule = next(r for r in documents["h2d28"].recommendations.fired if r.alternatives)
    also = ", ".join(f"{alt.id} x{alt.speedup:.2f}" for alt in rule.alternatives)
    assert f"{rule.title} (also: {also})" in _terminal(documents["h2d28"])
