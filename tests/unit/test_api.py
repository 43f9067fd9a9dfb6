"""The Python API (tracekit.load / tracekit.analyze, docs/python.md) on tiny traces built here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from ascend_builder import task, write_rank
from kineto_builder import kernel, memcpy, runtime, step, write_trace

import tracekit
from tracekit.analysis.document import Document
from tracekit.errors import TraceError
from tracekit.model.schema import CopyDirection, Kind, MemoryKind

# Two 100 us steps; device ops [10, 30] [60, 64] [110, 140] [150, 155] us: bubbles 30, 46 and 10 us.
# The copy and the second gemm are launched after their bubble began (host_wait); relu before (other).
EVENTS = [
    step(1, 0, 100),
    step(2, 100, 100),
    runtime("cudaLaunchKernel", 5, 2, correlation=1),
    kernel("gemm", 10, 20, correlation=1),
    runtime("cudaMemcpyAsync", 55, 2, correlation=2),
    memcpy("Memcpy HtoD (Pageable -> Device)", 60, 4, 4096, correlation=2),
    runtime("cudaLaunchKernel", 105, 2, correlation=3),
    kernel("gemm", 110, 30, correlation=3),
    runtime("cudaLaunchKernel", 120, 2, correlation=4),
    kernel("relu", 150, 5, correlation=4),
]


@pytest.fixture
def trace_path(tmp_path: Path) -> Path:
    return write_trace(tmp_path / "tiny.json", EVENTS)


@pytest.fixture
def analysis(trace_path: Path) -> tracekit.Analysis:
    return tracekit.analyze(tracekit.load(trace_path))


def test_load_gives_a_trace_whose_frame_has_readable_enums(trace_path: Path) -> None:
    trace = tracekit.load(trace_path)
    assert isinstance(trace, tracekit.Trace) and trace.format == "kineto"
    frame = trace.to_pandas()
    assert frame.columns.tolist() == trace.events.column_names
    assert frame["start_ns"].dtype == "int64" and frame["dur_ns"].dtype == "int64"
    assert list(frame["kind"].cat.categories) == [k.name.lower() for k in Kind]
    assert list(frame["copy_direction"].cat.categories) == [d.name.lower() for d in CopyDirection]
    assert list(frame["src_memory"].cat.categories) == [m.name.lower() for m in MemoryKind]
    # the categories are in code order: the codes are the canonical table's
    assert frame["kind"].cat.codes.tolist() == trace.events.column("kind").to_pylist()
    copy = frame[frame["kind"] == "memcpy"].iloc[0]
    assert (copy["copy_direction"], copy["src_memory"], copy["dst_memory"]) == ("h2d", "pageable", "device")
    assert (copy["start_ns"], copy["dur_ns"], copy["bytes"]) == (60_000, 4_000, 4096)
    assert frame["kind"].value_counts()[["kernel", "memcpy", "runtime", "step"]].tolist() == [3, 1, 4, 2]


def test_analysis_tables_hold_the_trace_numbers(analysis: tracekit.Analysis) -> None:
    assert analysis.steps.to_dict("list") == {
        "step": [1, 2],
        "start_ns": [0, 100_000],
        "end_ns": [100_000, 200_000],
        "duration_ns": [100_000, 100_000],
    }
    bubbles = analysis.bubbles
    assert bubbles[["start_ns", "dur_ns"]].values.tolist() == [
        [30_000, 30_000],
        [64_000, 46_000],
        [140_000, 10_000],
    ]
    assert bubbles["cause"].tolist() == ["host_wait", "host_wait", "other"]
    assert (bubbles["device"] == 0).all()
    hotspots = analysis.hotspots
    assert hotspots[["name", "count", "total_ns", "max_ns"]].values.tolist() == [
        ["gemm", 2, 50_000, 30_000],
        ["relu", 1, 5_000, 5_000],
    ]
    copies = analysis.copies.set_index("direction")
    assert copies.loc["h2d", ["count", "total_ns", "bytes", "pageable_count"]].tolist() == [1, 4_000, 4096, 1]
    assert copies.loc["d2h", "count"] == 0 and pd.isna(copies.loc["d2h", "bandwidth_gbps"])


def test_typed_attributes_read_the_document(analysis: tracekit.Analysis) -> None:
    document = analysis.document
    assert analysis.source.endswith("tiny.json") and analysis.format == "kineto"
    assert analysis.devices == [0]
    assert (analysis.step_count, analysis.step_p50_ns) == (2, 100_000)
    assert isinstance(document, Document)
    assert analysis.speedup == document.recommendations.plan.speedup
    assert analysis.predicted_step_ns == document.recommendations.plan.predicted_step_ns
    fired = document.recommendations.fired
    assert analysis.recommendations["id"].tolist() == [f.id for f in fired]
    assert analysis.recommendations["rank"].tolist() == list(range(1, len(fired) + 1))


def test_reprs_are_one_line_not_the_whole_table(trace_path: Path, analysis: tracekit.Analysis) -> None:
    assert repr(tracekit.load(trace_path)) == f"Trace(source={str(trace_path)!r}, format='kineto', events=10)"
    speedup = analysis.speedup
    assert repr(analysis) == (
        f"Analysis(source={str(trace_path)!r}, format='kineto', devices=[0], steps=2, speedup={speedup})"
    )


def test_options_reach_the_analysis(trace_path: Path) -> None:
    analysis = tracekit.analyze(trace_path, top=1, steps=(2, 2), lang="zh")
    assert analysis.hotspots[["name", "count"]].values.tolist() == [["gemm", 1]]  # step 2: one gemm
    assert analysis.steps["step"].tolist() == [2]
    assert analysis.document.options.steps == [2, 2]
    assert analysis.document.recommendations.lang == "zh"
    wide = tracekit.analyze(trace_path, bubble_threshold="20us")
    assert wide.bubbles["dur_ns"].tolist() == [30_000, 46_000]
    assert wide.document.devices[0].bubbles.total_ns == 76_000


def test_json_and_html_outputs(analysis: tracekit.Analysis, tmp_path: Path) -> None:
    text = analysis.to_json(tmp_path / "out" / "a.json")
    assert json.loads((tmp_path / "out" / "a.json").read_text()) == json.loads(text)
    assert json.loads(text)["schema"] == "tracekit.analysis/1"
    written = analysis.to_html(tmp_path / "a.zh.html", lang="zh")
    page = written.read_text()
    assert page.startswith("<!DOCTYPE html>") and 'lang="zh' in page


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"top": 0}, "top must be a positive integer"),
        ({"steps": "x"}, "not a step range: 'x'"),
        ({"steps": "nvtx:"}, "needs a range name"),
        ({"device": "Abacus"}, "device 'Abacus' is not in the hardware table"),
        ({"unprofiled_step": "0ms"}, "unprofiled_step must be a positive duration"),
        ({"bubble_threshold": "soon"}, "bubble_threshold: not a duration"),
        ({"kernel_names": "long"}, "kernel_names must be 'short' or 'full'"),
        ({"lang": "fr"}, "lang must be one of"),
    ],
)
def test_bad_arguments_are_value_errors(trace_path: Path, arguments: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        tracekit.analyze(trace_path, **arguments)
    with pytest.raises(ValueError, match=message):  # checked before a path is read
        tracekit.analyze(trace_path.with_name("absent.json"), **arguments)


def test_bad_trace_is_a_trace_error_naming_the_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text("")
    with pytest.raises(TraceError, match=r"empty\.json: "):
        tracekit.load(empty)


def test_several_ranks_load_as_a_list(tmp_path: Path) -> None:
    write_rank(tmp_path / "job", 0, [task("MatMul", "10.000", 5.0)])
    write_rank(tmp_path / "job", 1, [task("MatMul", "10.000", 7.0), task("Add", "20.000", 1.0)])
    traces = tracekit.load(tmp_path / "job")
    assert isinstance(traces, list) and [t.metadata["ascend"]["rank"] for t in traces] == [0, 1]
    analyses = tracekit.analyze(traces)
    assert [a.hotspots["total_ns"].sum() for a in analyses] == [5_000, 8_000]


def test_a_folder_of_kineto_ranks_loads_as_a_list_in_name_order(tmp_path: Path) -> None:
    (tmp_path / "ranks").mkdir()
    write_trace(tmp_path / "ranks" / "rank1.json", [step(1, 0, 50), kernel("k", 10, 7)])
    write_trace(tmp_path / "ranks" / "rank0.json", [step(1, 0, 50), kernel("k", 10, 5)])
    (tmp_path / "ranks" / "notes.txt").write_text("not a trace")
    traces = tracekit.load(tmp_path / "ranks")
    assert [Path(t.source).name for t in traces] == ["rank0.json", "rank1.json"]
    assert [t.to_pandas()["dur_ns"].max() for t in traces] == [50_000, 50_000]
    assert [a.hotspots["total_ns"].tolist() for a in tracekit.analyze(traces)] == [[5_000], [7_000]]


def test_import_and_cli_help_do_not_load_pandas() -> None:
    probe = "import sys, tracekit, tracekit.cli.main; print('pandas' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
    assert tracekit.load.__module__ == "tracekit.api"
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = tracekit.nothing


def test_the_document_is_the_cli_s(tmp_path: Path) -> None:
    sample = Path(__file__).resolve().parents[2] / "sample_traces" / "h2d28_separate.pt.trace.json.gz"
    out = tmp_path / "cli.json"
    command = [sys.executable, "-m", "tracekit", "analyze", str(sample), "--json", str(out), "--no-html"]
    subprocess.run(command, capture_output=True, text=True, check=True, timeout=120)
    analysis = tracekit.analyze(sample)
    assert json.loads(analysis.to_json()) == json.loads(out.read_text())
    assert analysis.recommendations["id"].tolist()[:2] == ["h2d-batch", "graph-launch"]  # the plan's changes
