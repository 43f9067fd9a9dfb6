"""Every formula text a report shows comes from one catalogue (tracekit/report/formulas.py): English
from the analysis' definitions, Chinese keyed the same; the terminal and the HTML write none of their
own (issue 17 item 4)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from conftest import ROOT
from kineto_builder import kernel, memcpy, runtime, step, write_trace
from rich.console import Console

from tracekit.analysis.analyze import analyze
from tracekit.analysis.ascend import DEFINITIONS as ASCEND_DEFINITIONS
from tracekit.analysis.cluster import CLUSTER_DEFINITIONS
from tracekit.analysis.definitions import DEFINITIONS, SPLIT_PARTS
from tracekit.readers import read_trace
from tracekit.report.formulas import (
    ASCEND_DEFINITIONS_ZH,
    CLUSTER_DEFINITIONS_ZH,
    DEFINITIONS_ZH,
    formula,
    translated_formula,
)
from tracekit.report.html.copies import BLOCKING_KINDS
from tracekit.report.html.i18n import STRINGS
from tracekit.report.terminal import render_summary

REPORT = ROOT / "tracekit" / "report"
_LITERAL_KEY = re.compile(r"""(?:\bformula|\.hint)\(\s*["']([a-z0-9_.]+)["']""")


def test_both_languages_define_the_same_keys() -> None:
    assert set(DEFINITIONS_ZH) == set(DEFINITIONS)
    assert set(ASCEND_DEFINITIONS_ZH) == set(ASCEND_DEFINITIONS)
    assert set(CLUSTER_DEFINITIONS_ZH) == set(CLUSTER_DEFINITIONS)
    assert formula("cluster.pipeline", "zh") == CLUSTER_DEFINITIONS_ZH["cluster.pipeline"]
    assert all(text.strip() for text in [*DEFINITIONS.values(), *DEFINITIONS_ZH.values()])


def test_the_report_tables_hold_no_formula() -> None:
    """No `formula.` key, and no report string repeats a definition (in either language)."""
    definitions = {*DEFINITIONS.values(), *DEFINITIONS_ZH.values()}
    for lang, table in STRINGS.items():
        assert not [key for key in table if "formula." in key], lang
        assert not [key for key, text in table.items() if text in definitions], lang


def _keys_in_source() -> set[str]:
    """The keys the report modules look up literally: formula("k"), ctx.formula("k"), ctx.hint("k", ...)."""
    return {key for path in REPORT.rglob("*.py") for key in _LITERAL_KEY.findall(path.read_text())}


def test_every_key_the_reports_look_up_is_defined_in_both_languages() -> None:
    keys = _keys_in_source()
    assert {"utilization", "long_gaps", "operators.peak_share", "communication.wait_ratio"} <= keys
    keys |= {f"communication.split.{part}" for part in SPLIT_PARTS}  # looked up by f-strings
    keys |= {f"bubbles.cause.{cause}" for cause in ("sync_wait", "host_wait", "other")}
    keys |= {f"blocking.{kind}" for kind in BLOCKING_KINDS}
    cluster = {key for key in keys if key.startswith("cluster.")}
    assert cluster <= set(CLUSTER_DEFINITIONS)  # a cluster document's own definitions
    for key in keys - cluster:
        assert formula(key, "en") == DEFINITIONS[key]
        assert formula(key, "zh") == DEFINITIONS_ZH[key]


def test_no_terminal_module_writes_a_formula_of_its_own() -> None:
    for path in REPORT.glob("terminal*.py"):
        source = path.read_text()
        assert "|union" not in source and "/ |W|" not in source, path.name


def test_a_part_of_a_definition_is_the_same_text_in_the_whole() -> None:
    """The split's parts, the bandwidths and the causes are written once: the whole quotes them."""
    for part in SPLIT_PARTS:
        for lang in ("en", "zh"):
            assert f"{part}_ns = {formula(f'communication.split.{part}', lang)}" in formula(
                "communication.split", lang
            )
    wholes = {"communication.algbw_gbps": "communication.collectives", "communication.busbw_gbps":
              "communication.collectives", "communication.wait_ratio": "communication.profiler",
              "hotspots.share": "hotspots", "bubbles.cause.sync_wait": "bubbles.cause",
              "bubbles.cause.host_wait": "bubbles.cause"}  # fmt: skip
    for key, whole in wholes.items():
        assert formula(key, "en") in formula(whole, "en") and formula(key, "zh") in formula(whole, "zh")


def test_translated_formula_maps_an_english_definition_and_keeps_other_text() -> None:
    assert translated_formula(DEFINITIONS["launch.delay"], "zh") == DEFINITIONS_ZH["launch.delay"]
    assert translated_formula(DEFINITIONS["launch.delay"], "en") == DEFINITIONS["launch.delay"]
    assert translated_formula("已经是中文", "zh") == "已经是中文"
    with pytest.raises(KeyError):
        formula("no.such.key", "en")


def test_the_terminal_shows_the_definitions_beside_the_numbers(tmp_path: Path) -> None:
    """A kernel [10, 30] µs and a copy [40, 50] µs: W = 40 µs, busy 30 µs (75 %); the rows carry
    the catalogue's texts, whole, with the brackets of the window's definition kept."""
    events = [step(1, 0, 100), runtime("cudaLaunchKernel", 5, 2, 1), kernel("gemm", 10, 20, 1),
              memcpy("Memcpy HtoD (Pinned -> Device)", 40, 10, 4096)]  # fmt: skip
    document = analyze(read_trace(write_trace(tmp_path / "t.json", events)))
    out = io.StringIO()
    render_summary(document, Console(file=out, width=400, color_system=None, legacy_windows=False))
    lines = out.getvalue().splitlines()
    utilization = next(line for line in lines if line.startswith("utilization "))
    assert utilization.split()[:3] == ["utilization", "75.0", "%"]
    assert utilization.rstrip().endswith(formula("utilization"))
    window = next(line for line in lines if line.startswith("window W"))
    assert window.split()[2:4] == ["40", "us"] and window.rstrip().endswith(formula("window"))
    for key in ("busy_ns", "kernel_utilization", "bubbles.percentiles", "long_gaps", "hotspots.share"):
        assert any(formula(key) in line for line in lines), key
