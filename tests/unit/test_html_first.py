"""The report's opening and its self-containment: "Do this first", case studies told without paths,
Ascend reports without CUDA-only rows, unknown byte counts, the zh definitions, the no-steps hint."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from ascend_builder import api, python_op, task, write_rank
from conftest import ROOT, SHARED
from kineto_builder import kernel, memcpy, runtime, step, write_trace
from nsys_builder import Export

from tracekit.analysis.analyze import Options
from tracekit.analysis.ascend import DEFINITIONS as ASCEND_DEFINITIONS_EN
from tracekit.analysis.definitions import DEFINITIONS
from tracekit.analysis.document import Document
from tracekit.api import analyze_trace
from tracekit.readers import read_traces
from tracekit.report.formulas import ASCEND_DEFINITIONS_ZH, DEFINITIONS_ZH
from tracekit.report.html import render_html
from tracekit.report.html.cases import CASES, case_id
from tracekit.report.html.plan import grouped

H2D28 = ROOT / "sample_traces" / "h2d28_separate.pt.trace.json.gz"
ASCEND_LEVEL2 = SHARED / "traces" / "msprof" / "msinsight-torchnpu-level2" / "rank0_ascend_pt"


def _report(path: Path, lang: str = "en") -> tuple[str, Document]:
    document = analyze_trace(read_traces(path)[0], Options(), lang).document
    return render_html(document, lang), document


def _section(page: str, anchor: str) -> str:
    start = page.index(f'<section id="{anchor}">')
    return page[start : page.index("</section>", start)]


def _text(fragment: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


def _busy_trace(tmp: Path) -> Path:
    events = []
    for n in range(4):  # one long kernel per step, launched early: nothing to gain
        t0 = 10_000.0 * n
        events += [step(n + 1, t0, 9900.0), runtime("cudaLaunchKernel", t0 + 5, 5.0, n + 1)]
        events.append(kernel("gemm", t0 + 20, 9800.0, n + 1))
    return write_trace(tmp / "busy.json", events)


# --- Do this first -------------------------------------------------------------------------------


def test_report_opens_with_the_top_findings_and_their_gains() -> None:
    page, document = _report(H2D28)
    fired = document.recommendations.fired
    assert len(fired) >= 3
    assert page.index('<section id="sec-do_first">') < page.index('<section id="sec-summary">')
    assert '<section id="sec-do_first">' in page.split("<main>")[1][:40]  # the first section of the page
    first = _section(page, "sec-do_first")
    expected = [finding for findings in grouped(fired).values() for finding in findings][:3]
    items = re.findall(r"<li>(.*?)</li>", first, re.S)
    assert len(items) == 3
    for item, finding in zip(items, expected, strict=True):
        gain = finding.gain
        kind = "throughput" if gain.metric == "throughput" else "step time"
        assert _text(item).startswith(f"{finding.title} \u00d7{gain.speedup:.2f} {kind}")
        assert f'href="#rule-{finding.id}"' in item and f'id="rule-{finding.id}"' in page
    assert f"(\u00d7{document.recommendations.plan.speedup:.2f})" in _text(first)


def test_nothing_to_do_first_is_a_sentence(tmp_path: Path) -> None:
    page, document = _report(_busy_trace(tmp_path))
    assert document.recommendations.fired == []
    first = _section(page, "sec-do_first")
    checked = len(document.recommendations.checked)
    assert f"none of the {checked} rules found something" in _text(first) and "<ol" not in first


# --- case studies ---------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_case_studies_are_told_without_paths(lang: str) -> None:
    page, document = _report(H2D28, lang)
    assert "seeds/" not in page and ".txt" not in _text(_section(page, "sec-recommendations"))
    cited = {case_id(rule.case_study) for rule in document.recommendations.fired if rule.case_study}
    assert cited and None not in cited
    for case in cited:
        title, found = CASES[case][lang]
        assert html.escape(title, quote=False) in page and html.escape(found, quote=False) in page


def test_every_case_has_both_languages() -> None:
    assert all(
        set(texts) == {"en", "zh"} and all(all(pair) for pair in texts.values()) for texts in CASES.values()
    )


# --- Ascend: no CUDA-only rows ---------------------------------------------------------------------


def _ascend_rank(tmp: Path) -> Path:
    events = [
        python_op("ProfilerStep#1", "0.000", 900.0),
        api("AscendCL@aclrtSynchronizeStream", "800.000", 50.0),
    ]
    events += [api("AscendCL@aclnnAdd", "10.000", 5.0), task("Add", "100.000", 80.0)]
    events.append(task("MEMCPY_ASYNC", "300.000", 20.0, task_type="MEMCPY_ASYNC"))
    return write_rank(tmp, 0, events)


def test_ascend_report_has_no_cuda_only_rows(tmp_path: Path) -> None:
    page, _ = _report(_ascend_rank(tmp_path))
    blocking = _text(_section(page, "sec-blocking"))
    assert "aclrtSynchronizeDevice / aclrtSynchronizeStream calls" in blocking
    for cuda in ("cudaMemcpy", "cudaDeviceSynchronize", "pageable", "pinned or managed"):
        assert cuda not in blocking
    kineto, _ = _report(H2D28)  # the same rows are there for CUDA
    assert "cudaMemcpy" in _section(kineto, "sec-blocking") and "pinned" in _section(kineto, "sec-copies")


@pytest.mark.skipif(not ASCEND_LEVEL2.exists(), reason="needs ../shared/traces (msprof level2)")
def test_real_ascend_copies_have_no_memory_kind_columns() -> None:
    page, document = _report(ASCEND_LEVEL2)
    assert document.devices[0].h2d.count == 14  # SOURCE.md: 14 H2D copies
    copies = _section(page, "sec-copies")
    assert "H2D" in copies and "pageable" not in copies and ">pinned<" not in copies


# --- unknown byte counts -----------------------------------------------------------------------------


def test_unknown_byte_counts_read_unknown(tmp_path: Path) -> None:
    events = [step(1, 0.0, 1000.0)]
    events += [memcpy("Memcpy HtoD (Pinned -> Device)", 10.0 + 20 * i, 5.0, None) for i in range(3)]
    events += [
        memcpy("Memcpy DtoH (Device -> Pinned)", 200.0, 5.0, 4096),
        memcpy("Memcpy DtoH", 300.0, 5.0, None),
    ]
    page, document = _report(write_trace(tmp_path / "no_bytes.json", events))
    assert document.devices[0].h2d.bytes_unknown_count == 3
    rows = {
        _text(row).split(" ")[0]: _text(row)
        for row in re.findall(r"<tr>(.*?)</tr>", _section(page, "sec-copies"))
    }
    assert rows["H2D"].split(" ")[3] == "unknown"  # direction, count, per step, bytes
    assert " >= 4.0 KiB " in f" {rows['D2H']} "  # one of two known: a lower bound
    assert " 0 B " not in f" {rows['H2D']} "


# --- zh: definitions and formulas -----------------------------------------------------------------


def test_every_definition_has_its_chinese_text() -> None:
    assert set(DEFINITIONS_ZH) == set(DEFINITIONS)
    assert set(ASCEND_DEFINITIONS_ZH) == set(ASCEND_DEFINITIONS_EN)
    english = {**DEFINITIONS, **{f"ascend.{k}": v for k, v in ASCEND_DEFINITIONS_EN.items()}}
    chinese = {**DEFINITIONS_ZH, **{f"ascend.{k}": v for k, v in ASCEND_DEFINITIONS_ZH.items()}}
    for key, zh in chinese.items():  # Chinese, not a copy of the English (a bare formula stays as it is)
        assert re.search(r"[\u4e00-\u9fff]", zh) or zh == english[key] == re.sub(r"[A-Za-z]{4,} ", "", zh)


def test_chinese_report_translates_glossary_hints_and_evidence() -> None:
    page, document = _report(H2D28, "zh")
    glossary = _section(page, "sec-glossary")
    for key, english in DEFINITIONS.items():
        assert html.escape(DEFINITIONS_ZH[key], quote=False) in glossary
        if DEFINITIONS_ZH[key] != english:
            assert html.escape(english, quote=False) not in page  # not in hints or evidence either
    evidence = [item for rule in document.recommendations.fired for item in rule.evidence]
    translated = [item for item in evidence if item.formula in DEFINITIONS.values()]
    assert translated  # the rules cite definitions; the zh report shows them in Chinese
    english_page, _ = _report(H2D28, "en")
    assert all(html.escape(item.formula, quote=False) in english_page for item in translated)


# --- no ProfilerStep: the --steps hint --------------------------------------------------------------


def test_without_steps_the_summary_suggests_step_markers(tmp_path: Path) -> None:
    export = Export()
    for n in range(3):
        t0 = 1_000_000 * (n + 1)
        export.nvtx("decode step", t0, t0 + 900_000)
        export.nvtx("sample", t0, t0 + 100_000)
        export.nvtx("sample", t0 + 200_000, t0 + 300_000)
        corr = export.call("cudaLaunchKernel", t0 + 1000, t0 + 3000)
        export.kernel("gemm", t0 + 10_000, t0 + 50_000, corr)
    path = export.write(tmp_path / "ranges.sqlite")
    for lang, words in (("en", "the most frequent ranges in this trace"), ("zh", "最常见的区间")):
        page, document = _report(path, lang)
        assert document.trace.marker_names == ["sample", "decode step"]
        summary = _text(_section(page, "sec-summary"))
        assert words in summary and "--steps nvtx:NAME" in summary
        assert "--steps nvtx:sample, --steps 'nvtx:decode step'" in summary


@pytest.mark.skipif(
    not (SHARED / "traces" / "msprof" / "msinsight-msprof-db").exists(), reason="needs ../shared"
)
def test_ascend_section_shows_no_raw_values() -> None:
    page, document = _report(SHARED / "traces" / "msprof" / "msinsight-msprof-db" / "msprof_0.db")
    assert [step.step for step in document.ascend.time_breakdown] == [None]  # no step number
    ascend = _text(_section(page, "sec-ascend"))
    assert "None" not in ascend and "{" not in ascend


def test_checked_rules_list_the_not_applicable_ones_apart() -> None:
    page, document = _report(H2D28)
    statuses = [rule.status for rule in document.recommendations.checked]
    assert {"not_fired", "not_applicable"} <= set(statuses)
    shown = re.findall(r"<td[^>]*>(did not fire|not applicable)</td>", _section(page, "sec-checked"))
    assert len(shown) == len(statuses)
    assert shown == sorted(shown, key=lambda status: status == "not applicable")  # the fired-not first
