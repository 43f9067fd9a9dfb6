"""The Operators section of the HTML report, on real traces recorded with record_shapes=True
(tests/data/gpu/SOURCE.md): the table's rows and numbers, the roofline's points and roofs, and the
sentence that says why when there are no operators, no shapes or no hardware row."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import msgspec
import pytest
from conftest import GPU_DATA, ROOT

from tracekit.analysis.analyze import analyze
from tracekit.analysis.document import Document
from tracekit.readers import read_trace
from tracekit.report.html import render_html
from tracekit.report.html.i18n import STRINGS

BF16 = GPU_DATA / "operators_bf16.pt.trace.json.gz"
NO_SHAPES = GPU_DATA / "operators_noshapes.pt.trace.json.gz"
SIM_BASELINE = ROOT / "sample_traces" / "sim_case000_baseline.pt.trace.json.gz"
H200_PEAK_BF16, H200_GBPS = 989.5, 4800.0

# operator, shapes, dtype, count, time, TFLOP/s, GB/s, % of peak, bound: as the trace gives them
BF16_ROWS = [
    ["aten::mm", "[8192,8192] [8192,8192]", "bf16", "3", "4.17 ms", "790.3", "289.4", "79.9 %", "compute"],
    ["aten::scaled_dot_product_attention", "[8,16,2048,128] [8,16,2048,128] [8,16,2048,128]", "bf16", "6",
     "2.03 ms", "609.5", "793.4", "61.6 %", "compute"],
    ["aten::linear", "[4,1024,4096] [8192,4096] [8192]", "bf16", "3", "1.04 ms", "796.2", "485.9", "80.5 %",
     "compute"],
    ["aten::conv2d", "[32,256,56,56] [256,256,3,3]", "bf16", "3", "741 us", "479.4", "421.0", "48.5 %",
     "compute"],
    ["aten::matmul", "[4,1,1024,1024] [1,8,1024,1024]", "bf16", "3", "708 us", "291.4", "391.3", "29.4 %",
     "compute"],
    ["aten::conv2d", "[32,256,56,56] [256,32,3,3]", "bf16", "3", "236 us", "47.0", "817.7", "17.0 %",
     "memory"],
]  # fmt: skip


class _Section(HTMLParser):
    """Tables (rows of cell texts, cell hints falling back to the column's), texts and chart ids of
    one section."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[dict] = []
        self.texts: list[str] = []
        self.chart_ids: list[str] = []
        self._cell: list[str] | None = None
        self._hint: str | None = None
        self._in_body = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "table":
            sortable = "sortable" in (values.get("class") or "").split()
            self.tables.append({"sortable": sortable, "head": [], "rows": []})
        elif tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self.tables[-1]["rows"].append([])
        elif tag in ("th", "td"):
            self._cell, self._hint = [], values.get("title")
        elif tag == "div" and "chart" in (values.get("class") or "").split():
            self.chart_ids.append(values["id"])

    def handle_endtag(self, tag: str) -> None:
        self._in_body = self._in_body and tag != "tbody"
        if tag not in ("th", "td") or self._cell is None:
            return
        current, shown = self.tables[-1], "".join(self._cell).strip()
        if tag == "th":
            current["head"].append((shown, self._hint))
        else:
            column = len(current["rows"][-1])
            current["rows"][-1].append((shown, self._hint or current["head"][column][1]))
        self._cell = None

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.texts.append(data.strip())
        if self._cell is not None:
            self._cell.append(data)


def _section(page: str) -> _Section:
    found = re.search(r'<section id="sec-operators">.*?</section>', page, re.S)
    assert found, "no Operators section"
    parsed = _Section()
    parsed.feed(found.group(0))
    return parsed


def _charts(page: str) -> dict[str, dict]:
    island = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S)
    return json.loads(island.group(1))["charts"]


def _texts(parsed_table: dict) -> list[list[str]]:
    return [[shown for shown, _ in row] for row in parsed_table["rows"]]


@pytest.fixture(scope="module")
def bf16() -> Document:
    return analyze(read_trace(BF16))


@pytest.fixture(scope="module")
def unknown_device() -> Document:
    """The bf16 trace as if recorded on a GPU the hardware table does not know."""
    trace = read_trace(BF16)
    trace.metadata["gpus"] = [{**gpu, "name": "Mystery GPU 9000"} for gpu in trace.metadata["gpus"]]
    return analyze(trace)


def test_table_shows_each_operator_with_its_numbers_and_hints(bf16: Document) -> None:
    hardware, operators = _section(render_html(bf16, "en")).tables
    assert not hardware["sortable"] and operators["sortable"]
    assert [header for header, _ in operators["head"]] == [
        "operator", "shapes", "dtype", "count", "time", "TFLOP/s", "GB/s", "% of peak", "bound",
    ]  # fmt: skip
    assert _texts(operators) == BF16_ROWS
    for row, op in zip(operators["rows"], bf16.devices[0].operators, strict=True):
        assert all("formula: " in hint and "window: every call of the operator" in hint for _, hint in row)
        assert f"{op.flops / op.device_ns / 1e3:,.1f}" == row[5][0]  # TFLOP/s = FLOPs / device time
    mm_peak_hint = operators["rows"][0][7][1]
    assert "here: 3.33 ms / 4.17 ms; roofline = max(FLOPs / bf16 peak 989.5 TFLOP/s, bytes / 4,800 GB/s)" in (
        mm_peak_hint
    )


def test_hardware_row_names_the_peaks_used_and_where_it_came_from(bf16: Document) -> None:
    hardware = _section(render_html(bf16, "en")).tables[0]
    (row,) = _texts(hardware)
    assert row[:5] == ["NVIDIA H200 SXM", "NVIDIA H200", "the device name in the trace", "bf16 989.5 TFLOP/s",
                       "4,800"]  # fmt: skip
    assert row[5].startswith("NVIDIA H200 datasheet")


def test_roofline_has_one_point_per_operator_under_the_bf16_roof(bf16: Document) -> None:
    page = render_html(bf16, "en")
    (chart_id,) = _section(page).chart_ids
    roof, points = _charts(page)[chart_id]["data"]
    ridge = H200_PEAK_BF16 * 1e3 / H200_GBPS  # FLOP/byte where bandwidth meets the peak
    assert roof["name"] == "bf16 roof: 989.5 TFLOP/s, 4,800 GB/s"
    assert roof["x"][1] == pytest.approx(ridge) and roof["y"][1:] == [H200_PEAK_BF16] * 2
    assert roof["y"][0] == pytest.approx(roof["x"][0] * H200_GBPS / 1e3)  # the memory slope
    assert roof["x"][0] == pytest.approx(57.468058 / 4) and roof["x"][2] == pytest.approx(2730.6667 * 4)
    # aten::mm, 8192³ in bf16: 2·M·N·K FLOPs over 3·8192²·2 bytes = 8192 / 3 FLOP/byte
    assert points["x"][0] == pytest.approx(8192 / 3)
    assert points["y"][0] == pytest.approx(2 * 8192**3 * 3 / 4173651 / 1e3)
    assert len(points["x"]) == len(points["y"]) == len(BF16_ROWS)
    assert [f"{y:,.1f}" for y in points["y"]] == [row[5] for row in BF16_ROWS]
    assert points["marker"]["size"] == [40.0, 30.3, 23.9, 21.5, 21.2, 15.6]  # area ∝ device time
    assert points["marker"]["color"] == ["#1f77b4"] * 5 + ["#ff7f0e"]  # compute-bound, memory-bound
    assert points["hovertext"][0] == (
        "aten::mm<br>[8192,8192] [8192,8192]<br>bf16 · count 3 · time 4.17 ms<br>"
        "790.3 TFLOP/s · 2,730.7 FLOP/byte · % of peak 79.9 %"
    )
    layout = _charts(page)[chart_id]["layout"]
    assert layout["xaxis"]["type"] == layout["yaxis"]["type"] == "log"
    assert layout["xaxis"]["title"]["text"] == "arithmetic intensity (FLOP/byte)"


def test_chinese_section_has_no_english_label(bf16: Document) -> None:
    page = render_html(bf16, "zh")
    section = _section(page)
    ours = [key for key in STRINGS["en"] if key.startswith(("ops.", "sec.operators", "hot.sort_hint"))]
    english = {STRINGS["en"][key] for key in ours if STRINGS["en"][key] != STRINGS["zh"][key]}
    assert section.texts[0] == "算子"
    assert not english & set(section.texts)
    hints = [hint for parsed in section.tables for row in parsed["rows"] for _, hint in row if hint]
    assert hints and all("公式: " in hint and "窗口: " in hint for hint in hints)
    assert [header for header, _ in section.tables[1]["head"]][-2:] == ["峰值占比", "瓶颈"]
    assert _texts(section.tables[1])[-1][-1] == "访存"
    chart = _charts(page)[section.chart_ids[0]]
    assert chart["layout"]["yaxis"]["title"]["text"] == "实际 TFLOP/s"
    assert chart["data"][0]["name"] == STRINGS["zh"]["ops.roof"].format(
        precision="bf16", peak="989.5", bandwidth="4,800"
    )
    assert "次数 3" in chart["data"][1]["hovertext"][0]


def test_unknown_device_shows_rates_without_peak_or_roof(unknown_device: Document) -> None:
    page = render_html(unknown_device, "en")
    section = _section(page)
    assert section.texts[1] == (
        "Mystery GPU 9000 is not in the hardware table, so TFLOP/s and GB/s are shown without a share of "
        "peak, a bound or a roof (--device NAME picks a row)."
    )
    (operators,) = section.tables  # no hardware row
    assert [row[:7] for row in _texts(operators)] == [row[:7] for row in BF16_ROWS]
    assert {row[7] for row in _texts(operators)} == {row[8] for row in _texts(operators)} == {"-"}
    (points,) = _charts(page)[section.chart_ids[0]]["data"]  # the points, no roof
    assert points["mode"] == "markers" and len(points["x"]) == len(BF16_ROWS)
    assert "'Mystery GPU 9000' is not in the hardware table" in section.texts[-1]  # the analysis' note
    zh = _section(render_html(unknown_device, "zh"))
    assert zh.texts[1].startswith("Mystery GPU 9000 不在硬件表中")


def test_trace_without_shapes_says_so_and_draws_no_roofline() -> None:
    document = analyze(read_trace(NO_SHAPES))
    page = render_html(document, "en")
    section = _section(page)
    assert section.texts[1] == (
        "The trace was recorded without input shapes, so operators are grouped by name with no FLOPs, "
        "bytes or roofline (record with record_shapes=True)."
    )
    assert section.chart_ids == []
    hardware, operators = section.tables
    assert _texts(hardware)[0][3] == "-"  # no peak was used
    (row,) = _texts(operators)
    assert row[0] == "aten::mm" and row[1:3] == ["-", "-"] and row[5:] == ["-", "-", "-", "-"]
    assert "recorded without input shapes" in section.texts[-1]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_no_operators_is_one_sentence_and_the_notes(lang: str) -> None:
    document = analyze(read_trace(SIM_BASELINE))  # simulated: no CPU operators, unknown device
    page = render_html(document, lang)
    section = _section(page)
    assert section.tables == [] and section.chart_ids == []
    assert section.texts[1] == STRINGS[lang]["ops.none"]
    assert section.texts[2] == STRINGS[lang]["ops.notes"]
    assert section.texts[3:] == document.devices[0].operators_summary.notes


def _with_device(document: Document, **fields: object) -> Document:
    """`document` with the first device's `fields` replaced."""
    device = msgspec.structs.replace(document.devices[0], **fields)
    return msgspec.structs.replace(document, devices=[device, *document.devices[1:]])


def test_emptied_and_older_blocks_render_without_breaking(bf16: Document) -> None:
    emptied = _with_device(bf16, operators=[], hardware=None)
    section = _section(render_html(emptied, "en"))
    assert section.texts[1:] == [STRINGS["en"]["ops.none"]] and section.chart_ids == []
    older = _with_device(bf16, operators=None, operators_summary=None, hardware=None)
    assert 'id="sec-operators"' not in render_html(older, "en")


def test_hostile_operator_names_stay_text(bf16: Document) -> None:
    operators = bf16.devices[0].operators
    named = msgspec.structs.replace(operators[0], name="</script><img src=x onerror=alert(1)>")
    hostile = _with_device(bf16, operators=[named, *operators[1:]])
    page = render_html(hostile, "en")
    assert "<img src=x" not in page
    section = _section(page)
    assert _texts(section.tables[1])[0][0] == "</script><img src=x onerror=alert(1)>"
    assert _charts(page)[section.chart_ids[0]]["data"][1]["hovertext"][0].startswith(
        "&lt;/script&gt;&lt;img src=x"
    )
