"""The terminal summary at 80 and 120 columns (Kineto, nsys, Ascend): no line wider than the console,
every kernel and operator name whole or cut with an ellipsis on one line, no raw dict or None."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from ascend_builder import api, kernel_row, python_op, task, write_rank
from conftest import ROOT, SHARED_ABSENT, SHARED_TRACES
from kineto_builder import cpu_op, kernel, memcpy, runtime, step, write_trace
from nsys_builder import DEVICE, HTOD, PINNED, Export
from rich.console import Console

from tracekit.analysis.analyze import Options
from tracekit.analysis.document import Document
from tracekit.api import analyze_trace
from tracekit.readers import read_traces
from tracekit.report.terminal import render_summary
from tracekit.report.terminal_operators import TERMINAL_ROWS

WIDTHS = (80, 120)
LONG_KERNEL = (
    "void at::native::vectorized_elementwise_kernel<4, at::native::CUDAFunctor_add<float>, "
    "at::detail::Array<char*, 3> >(int, at::native::CUDAFunctor_add<float>, at::detail::Array<char*, 3>)"
)
GEMM_KERNEL = "sm90_xmma_gemm_bf16bf16_bf16f32_f32_tn_n_tilesize128x128x64_warpgroupsize1x1x1_execute_kernel"
ASCEND_KERNEL = "aclnnForeachAddListV2_ForeachAddListV2_ForeachAddList_very_long_fused_operator_name"


def _kineto(tmp: Path) -> Path:
    events = []
    for n in range(3):
        t0 = 1000.0 * n
        events.append(step(n + 1, t0, 900.0))
        events.append(cpu_op("aten::add_with_a_long_operator_name_for_the_table", t0 + 10, 300.0, n + 1))
        for i, name in enumerate((LONG_KERNEL, GEMM_KERNEL, "short_kernel")):
            corr = 100 * n + i + 1
            events.append(runtime("cudaLaunchKernel", t0 + 20 + 50 * i, 10.0, corr, n + 1))
            events.append(kernel(name, t0 + 40 + 60 * i, 30.0 + 10 * i, corr))
        events.append(memcpy("Memcpy HtoD (Pinned -> Device)", t0 + 400, 5.0, 4096))
    return write_trace(tmp / "long_names.pt.trace.json", events)


def _nsys(tmp: Path) -> Path:
    export = Export()
    for n in range(4):
        t0 = 1_000_000 * (n + 1)
        export.nvtx("decode_step_with_a_name", t0, t0 + 900_000)
        for i, name in enumerate((LONG_KERNEL, GEMM_KERNEL)):
            corr = export.call("cudaLaunchKernel", t0 + 1000 + 5000 * i, t0 + 3000 + 5000 * i)
            export.kernel(name, t0 + 10_000 + 60_000 * i, t0 + 50_000 + 60_000 * i, corr)
        export.memcpy(t0 + 200_000, t0 + 201_000, 8192, HTOD, PINNED, DEVICE)
    return export.write(tmp / "long_names.sqlite")


def _ascend(tmp: Path) -> Path:
    events, kernels = [python_op("ProfilerStep#1", "0.000", 900.0)], []
    for i, name in enumerate((ASCEND_KERNEL, "MatMulV2", "hcom_allReduce__271_0_1_and_more_text_here")):
        start = f"{100 + 200 * i}.000"
        events += [api("AscendCL@aclnnLaunch", f"{50 + 200 * i}.000", 20.0), task(name, start, 80.0 + i)]
        kernels.append(kernel_row(name, start, f"{80.0 + i}", state="dynamic", dtypes="INT64;FLOAT"))
    return write_rank(tmp, 0, events, kernels)


BUILDERS = {"kineto": _kineto, "nsys": _nsys, "ascend": _ascend}


def _summary(path: Path, width: int, options: Options | None = None) -> tuple[str, Document]:
    document = analyze_trace(read_traces(path)[0], options or Options()).document
    out = io.StringIO()
    render_summary(document, Console(file=out, width=width, color_system=None, legacy_windows=False))
    return out.getvalue(), document


def _shown_names(document: Document) -> list[str]:
    names = [h.name for d in document.devices for h in d.hotspots]
    names += [op.name for d in document.devices for op in (d.operators or [])[:TERMINAL_ROWS]]
    return names + [h.name for h in document.host.cpu_op_hotspots if not document.devices]


def _whole_or_cut(name: str, lines: list[str]) -> bool:
    """`name` whole on a line, or a prefix of it (8 characters or more, starting a cell) right before
    an ellipsis."""
    for line in lines:
        if name in line:
            return True
        for end in (i for i, char in enumerate(line) if char == "…"):
            starts = range(max(0, end - len(name)), end - 7)
            if any(name.startswith(line[k:end]) and (k == 0 or line[k - 1] == " ") for k in starts):
                return True
    return False


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("kind", BUILDERS)
def test_summary_fits_the_width_and_keeps_names_on_one_line(tmp_path: Path, kind: str, width: int) -> None:
    output, document = _summary(BUILDERS[kind](tmp_path), width)
    lines = output.splitlines()
    assert max(len(line) for line in lines) <= width
    names = _shown_names(document)
    assert len(names) >= 2 and max(map(len, names)) > 40  # the trace has long names to show
    for name in names:
        assert _whole_or_cut(name, lines), f"{name!r} split over lines at {width} columns"
    assert "None" not in output and "{" not in output  # no raw dict or None reaches the terminal


@pytest.mark.parametrize("width", WIDTHS)
def test_long_kernel_names_are_cut_with_an_ellipsis(tmp_path: Path, width: int) -> None:
    output, _ = _summary(_kineto(tmp_path), width, Options(full_kernel_names=True))
    cut = [line for line in output.splitlines() if "void at::native::" in line]
    assert len(cut) == 1 and cut[0].rstrip().endswith("…")
    assert LONG_KERNEL not in output  # 190 characters do not fit in either width


def test_without_steps_the_summary_suggests_the_step_marker(tmp_path: Path) -> None:
    output, document = _summary(_nsys(tmp_path), 120)
    (tmp_path / "long_names.sqlite").unlink()
    assert document.steps.count == 0
    assert document.trace.marker_names == ["decode_step_with_a_name"]
    assert "--steps nvtx:NAME" in output and "--steps nvtx:decode_step_with_a_name" in output
    marked, marked_document = _summary(_nsys(tmp_path), 120, Options(step_marker="decode_step_with_a_name"))
    assert marked_document.steps.count == 4 and marked_document.trace.marker_names == []
    assert "nvtx:NAME" not in marked


def test_not_applicable_rules_are_listed_apart(tmp_path: Path) -> None:
    output, document = _summary(_kineto(tmp_path), 1000)  # one line per list
    statuses = {r.id: r.status for r in document.recommendations.checked}
    lines = output.splitlines()
    fired_not = next(line for line in lines if line.startswith("checked, did not fire:"))
    not_applicable = next(line for line in lines if line.startswith("not applicable"))
    for rule, status in statuses.items():
        listed_in = not_applicable if status == "not_applicable" else fired_not
        assert rule in listed_in.replace(",", " ").split()


def test_no_recommendation_is_a_sentence_not_an_empty_table(tmp_path: Path) -> None:
    events = []
    for n in range(4):  # one long kernel per step, launched early: nothing to gain
        t0 = 10_000.0 * n
        events += [step(n + 1, t0, 9900.0), runtime("cudaLaunchKernel", t0 + 5, 5.0, n + 1)]
        events.append(kernel("gemm", t0 + 20, 9800.0, n + 1))
    path = write_trace(tmp_path / "busy.json", events)
    output, document = _summary(path, 80)
    assert document.recommendations.fired == []
    assert "Recommendations: none" in output
    assert "┏" not in output and "recommendation │" not in output


@pytest.mark.parametrize("width", WIDTHS)
def test_sample_trace_fits(width: int) -> None:
    output, document = _summary(ROOT / "sample_traces" / "h2d28_separate.pt.trace.json.gz", width)
    assert max(len(line) for line in output.splitlines()) <= width
    assert all(_whole_or_cut(name, output.splitlines()) for name in _shown_names(document))


def _cli(*args: str, columns: int | None) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"} | (
        {"COLUMNS": str(columns)} if columns else {}
    )
    done = subprocess.run([sys.executable, "-m", "tracekit", *args], capture_output=True, text=True, env=env,
                          timeout=120)  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    return done.stdout.splitlines()


def test_columns_is_honoured_when_piped() -> None:
    trace = str(ROOT / "sample_traces" / "h2d28_separate.pt.trace.json.gz")
    narrow = _cli("analyze", trace, "--no-json", "--no-html", columns=80)
    assert max(map(len, narrow)) <= 80
    assert (
        max(map(len, _cli("analyze", trace, "--no-json", "--no-html", columns=None))) > 80
    )  # 120 by default


@pytest.mark.parametrize("width", WIDTHS)
def test_diff_and_check_fit_the_width(width: int) -> None:
    gpu = ROOT / "tests" / "data" / "gpu"
    eager, graph = str(gpu / "decode_eager.pt.trace.json.gz"), str(gpu / "decode_graph.pt.trace.json.gz")
    diff = _cli("diff", eager, graph, columns=width)
    assert max(map(len, diff)) <= width
    assert _whole_or_cut("at::native::vectorized_elementwise_kernel", diff)
    check = _cli("check", graph, "--baseline", eager, columns=width)
    assert max(map(len, check)) <= width
    assert any(line.split()[:1] == ["step.p50"] for line in check)  # a metric row kept on one line


REAL_TRACES = [
    "kineto/kineto-tbplugin-resnet50/worker0.1623143089861.pt.trace.json.gz",
    "nsys/nsys-ai-fixtures/h100_2gpu_1s.sqlite",
    "msprof/msinsight-torchnpu-level2/rank0_ascend_pt",
    "msprof/msinsight-msprof-db/msprof_0.db",  # its time breakdown has no step number
]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("relative", REAL_TRACES)
def test_real_traces_fit_and_show_no_raw_values(relative: str, width: int) -> None:
    path = SHARED_TRACES / relative
    if not path.exists():
        pytest.skip(SHARED_ABSENT)
    output, document = _summary(path, width)
    lines = output.splitlines()
    assert max(map(len, lines)) <= width
    assert all(_whole_or_cut(name, lines) for name in _shown_names(document))
    assert not [line for line in lines if re.search(r"\bNone\b|\{'|\[\{", line)]
