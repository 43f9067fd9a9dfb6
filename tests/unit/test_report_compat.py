"""Today's `tracekit report` renders analysis documents written by the previous release (commit
4577585, tests/data/compat/README.md): the fields added since (devices[].communication,
trace.marker_names, whatif.fuse_elementwise, whatif.pipeline workers, ...) are absent there, and
their sections and rules must be absent or not applicable, never a crash (issue 17)."""

from __future__ import annotations

import gzip
import hashlib
import html
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT
from rich.console import Console

from tracekit.analysis.document import Document
from tracekit.cli.report import load_analysis
from tracekit.formatting import fmt_ns
from tracekit.report.terminal import render_summary
from tracekit.rules import recommend

COMPAT = ROOT / "tests" / "data" / "compat"
OLD_DOCUMENTS = sorted(COMPAT.glob("*.analysis.json*"))


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tracekit", *args], capture_output=True, text=True, timeout=120
    )


def _old(path: Path) -> dict:
    data = path.read_bytes()
    return json.loads(gzip.decompress(data) if path.suffix == ".gz" else data)


def _document(path: Path) -> Document:
    """The old document as `tracekit report` reads it."""
    return load_analysis(path)


def _section(page: str, name: str) -> str:
    """The text of the report section `sec-<name>` (tags stripped, entities decoded)."""
    match = re.search(rf'id="sec-{name}".*?(?=<section|$)', page, re.S)
    assert match, f"no section sec-{name}"
    return html.unescape(re.sub(r"<[^>]+>", " ", match.group(0)))


def test_the_old_documents_lack_the_fields_added_since() -> None:
    """The fixtures are what they claim: the previous release's contract, not today's."""
    assert [p.name for p in OLD_DOCUMENTS] == [
        "ascend_level1_rank0.analysis.json.gz",
        "h2d28_separate.analysis.json",
        "sim_case000_baseline.analysis.json",
    ]
    for path in OLD_DOCUMENTS:
        document = _old(path)
        assert document["schema"] == "tracekit.analysis/1"
        assert "marker_names" not in document["trace"]
        assert all("communication" not in device for device in document["devices"])
        whatif = document["devices"][0]["whatif"]
        assert "fuse_elementwise" not in whatif and "workers" not in whatif["pipeline"]


@pytest.mark.parametrize("path", OLD_DOCUMENTS, ids=lambda p: p.name.split(".")[0])
def test_report_renders_an_old_document_with_its_numbers(tmp_path: Path, path: Path) -> None:
    old = _old(path)
    source = path  # gzipped or not, as stored
    before = hashlib.sha256(source.read_bytes()).hexdigest()
    out = tmp_path / "old.html"
    result = _run("report", str(source), "--html", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.strip() == f"HTML report written to {out}"
    assert hashlib.sha256(source.read_bytes()).hexdigest() == before
    page = out.read_text()
    steps = _section(page, "steps")
    assert fmt_ns(old["steps"]["duration_ns"]["p50"]) in steps
    summary = _section(page, "summary")
    device = old["devices"][0]
    assert f"{100 * device['utilization']:.1f} %" in summary
    first = old["recommendations"]["fired"][0]
    assert html.unescape(first["title"]) in _section(page, "recommendations")
    assert 'id="sec-communication"' not in page


@pytest.mark.parametrize("path", OLD_DOCUMENTS, ids=lambda p: p.name.split(".")[0])
def test_the_rules_on_an_old_document_fire_as_the_previous_release_did(path: Path) -> None:
    """Re-evaluated (as `report` does), the same rules fire, in the same order, with the same gains;
    the rules that read a field added since are not applicable, or not fired, never a KeyError."""
    old = _old(path)
    again = recommend(_document(path))
    fired = [(f["id"], f["title"], f["gain"]["speedup"]) for f in old["recommendations"]["fired"]]
    assert [(f.id, f.title, f.gain.speedup) for f in again.fired] == fired
    checked = {c.id: (c.status, c.reason) for c in again.checked}
    newer = {
        "fuse-elementwise": "whatif.fuse_elementwise",
        "exposed-communication": "devices[].communication",
    }
    if old["devices"][0]["whatif"]["pipeline"]["applicable"]:
        newer["cpu-bound"] = "whatif.pipeline.workers"
    for rule, field in newer.items():
        assert checked[rule] == (
            "not_applicable",
            f"the analysis has no {field} (written by an older tracekit): run `tracekit analyze` on the "
            "trace again",
        )


@pytest.mark.parametrize("path", OLD_DOCUMENTS, ids=lambda p: p.name.split(".")[0])
def test_the_terminal_summary_renders_an_old_document(path: Path) -> None:
    """`report` prints no summary, but `render_summary` is the Python API's: it reads old documents too."""
    old = _old(path)
    console = Console(record=True, width=120)
    render_summary(_document(path), console)
    text = console.export_text()
    assert f"p50 {fmt_ns(old['steps']['duration_ns']['p50'])}" in text
    assert old["recommendations"]["fired"][0]["title"] in text
    assert "None" not in text


def test_check_and_diff_take_traces_not_analysis_documents(tmp_path: Path) -> None:
    """`check --baseline` and `diff` read traces (they re-analyse both sides): an analysis JSON,
    old or new, is bad input named in one line that names the trace to give instead, exit 2."""
    old = COMPAT / "h2d28_separate.analysis.json"
    trace = ROOT / "sample_traces" / "h2d28_separate.pt.trace.json.gz"
    for args in (("check", str(trace), "--baseline", str(old)), ("diff", str(old), str(trace))):
        result = _run(*args)
        assert result.returncode == 2, result.stdout
        assert result.stderr == (
            f"tracekit: error: {old}: is a tracekit.analysis document, not a trace: give the trace it was "
            "made from: sample_traces/h2d28_separate.pt.trace.json.gz\n"
        )


def test_the_chinese_report_renders_an_old_document(tmp_path: Path) -> None:
    out = tmp_path / "old.zh.html"
    result = _run("report", str(COMPAT / "h2d28_separate.analysis.json"), "--html", str(out), "--lang", "zh")
    assert result.returncode == 0, result.stderr
    checked = _section(out.read_text(), "checked")
    assert (
        checked.count("由较早版本的 tracekit 写出") == 3
    )  # fuse-elementwise, exposed-communication, cpu-bound
