"""The command line as users run it: exit codes, one-line errors, outputs, untouched inputs."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT
from kineto_builder import kernel, runtime, step, write_trace

from tracekit.cli import main as cli_main

SAMPLE = ROOT / "sample_traces" / "h2d28_separate.pt.trace.json.gz"


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tracekit", *args], capture_output=True, text=True, cwd=cwd, timeout=120
    )


def _bad_inputs(tmp: Path) -> dict[str, Path]:
    good = gzip.decompress(SAMPLE.read_bytes())
    files = {
        "empty": (tmp / "empty.json", b""),
        "truncated_gzip": (tmp / "cut.json.gz", SAMPLE.read_bytes()[:4000]),
        "truncated_json": (tmp / "cut.json", good[: len(good) // 2]),
        "not_a_trace": (tmp / "config.json", b'{"learning_rate": 0.1}'),
        "binary": (tmp / "weights.bin", bytes(range(256)) * 10),
    }
    for path, data in files.values():
        path.write_bytes(data)
    paths = {name: path for name, (path, _) in files.items()}
    paths["empty_array"] = write_trace(tmp / "none.json", [], array_form=True)
    paths["empty_events"] = write_trace(tmp / "none_object.json", [])
    paths["missing"] = tmp / "does_not_exist.json"
    paths["sqlite_not_nsys"] = tmp / "app.sqlite"
    with sqlite3.connect(paths["sqlite_not_nsys"]) as db:
        db.execute("CREATE TABLE users (id INT)")
    paths["nsys_report"] = tmp / "run.nsys-rep"
    paths["nsys_report"].write_bytes(b"NVIDIA Tegra Profiler Report 2025@1\x00\x01")
    paths["nsys_summary_csv"] = tmp / "r_cuda_gpu_kern_sum.csv"
    paths["nsys_summary_csv"].write_text("Time (%),Total Time (ns),Instances,Name\n1.0,5,1,k\n")
    return paths


@pytest.mark.parametrize(
    "case",
    [
        "empty",
        "truncated_gzip",
        "truncated_json",
        "not_a_trace",
        "binary",
        "empty_array",
        "empty_events",
        "missing",
        "sqlite_not_nsys",
        "nsys_report",
        "nsys_summary_csv",
    ],
)
def test_bad_input_gives_one_line_naming_the_file_and_exit_2(tmp_path: Path, case: str) -> None:
    path = _bad_inputs(tmp_path)[case]
    result = _run("analyze", str(path), "--no-json")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert str(path) in lines[0]


def test_host_only_trace_gives_the_host_side_analysis_with_a_warning(tmp_path: Path) -> None:
    path = write_trace(tmp_path / "cpu_only.json", [step(1, 0, 9), runtime("cudaMalloc", 1, 2)])
    out = tmp_path / "cpu_only.analysis.json"
    result = _run("analyze", str(path), "--json", str(out), "--no-html")
    assert result.returncode == 0, result.stderr
    assert "warning: no device activity" in result.stdout
    document = json.loads(out.read_text())
    assert document["devices"] == [] and document["steps"]["count"] == 1


@pytest.mark.parametrize(
    "option",
    [
        ["--steps", "9:x"],
        ["--steps", "5:3"],
        ["--bubble-threshold", "fast"],
        ["--format", "nsys"],
        ["--format", "vtune"],
        ["--steps", "nvtx:"],
        ["--steps", "nvtx:no_such_range"],
        ["--gap-threshold", "soon"],
        ["--kernel-names", "medium"],
        ["--unprofiled-step", "soon"],
        ["--unprofiled-step", "0"],
        ["--bogus"],
    ],
)
def test_bad_options_give_one_line_and_exit_2(option: list[str]) -> None:
    result = _run("analyze", str(SAMPLE), "--no-json", *option)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_analyze_prints_summary_and_writes_json_without_touching_the_input(tmp_path: Path) -> None:
    before = hashlib.sha256(SAMPLE.read_bytes()).hexdigest()
    out = tmp_path / "deep" / "result.json"
    result = _run(
        "analyze", str(SAMPLE), "--json", str(out), "--no-html", "--top", "3", "--bubble-threshold", "10us"
    )
    assert result.returncode == 0, result.stderr
    assert "Utilization" in result.stdout and "busy_ns / |W|" in result.stdout  # its definition
    document = json.loads(out.read_text())
    assert document["schema"] == "tracekit.analysis/1"
    assert document["options"] == {
        "top": 3,
        "bubble_threshold_ns": 10_000,
        "gap_threshold_ns": 500_000_000,
        "steps": None,
        "step_marker": None,
        "kernel_names": "short",
        "device": None,
        "unprofiled_step_ns": None,
    }
    assert len(document["devices"][0]["hotspots"]) == 3
    assert [p.name for p in out.parent.iterdir()] == ["result.json"]  # no temporary file left
    assert hashlib.sha256(SAMPLE.read_bytes()).hexdigest() == before


def test_a_json_name_ending_in_gz_is_written_gzipped_and_reported(tmp_path: Path) -> None:
    plain, packed = tmp_path / "x.analysis.json", tmp_path / "x.analysis.json.gz"
    for out in (plain, packed):
        result = _run("analyze", str(SAMPLE), "--json", str(out), "--no-html")
        assert result.returncode == 0, result.stderr
    assert gzip.decompress(packed.read_bytes()) == plain.read_bytes()
    result = _run("report", str(packed))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "x.html").is_file()


def test_rank_labels_go_before_json_and_gz() -> None:
    from tracekit.cli.report import json_output_path

    trace = Path("t.json")
    assert json_output_path(trace, "out/a.analysis.json.gz", "rank1") == Path("out/a.analysis.rank1.json.gz")
    assert json_output_path(trace, "out/a.json", "rank0") == Path("out/a.rank0.json")
    assert json_output_path(trace, "out/a.json.gz", "") == Path("out/a.json.gz")


def test_default_json_goes_to_reports_folder(tmp_path: Path) -> None:
    result = _run("analyze", str(SAMPLE), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "reports" / "h2d28_separate.pt.trace.analysis.json").is_file()


def test_json_to_stdout_and_step_range(tmp_path: Path) -> None:
    result = _run("analyze", str(SAMPLE), "--json", "-", "--steps", "5:6")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["steps"]["count"] == 2
    assert document["devices"][0]["h2d"]["count"] == 56


def test_format_override_reads_a_cpu_only_trace(tmp_path: Path) -> None:
    path = write_trace(tmp_path / "cpu.json", [step(1, 0, 9), runtime("cudaMalloc", 1, 2), kernel("k", 3, 1)])
    result = _run("analyze", str(path), "--json", "-", "--format", "chrome")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["trace"]["format"] == "chrome"


def test_formats_and_version_commands() -> None:
    formats = _run("formats")
    assert formats.returncode == 0 and "kineto" in formats.stdout and "chrome" in formats.stdout
    assert _run("version").stdout.strip() == "0.1.0"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_shows_for_a_large_file_at_a_terminal_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    large, small = tmp_path / "large.json", tmp_path / "small.json"
    with large.open("wb") as file:
        file.truncate(cli_main.PROGRESS_MIN_BYTES)  # sparse: its size without its bytes
    small.write_text("[]")
    cases = ((large, _Terminal(), True), (large, io.StringIO(), False), (small, _Terminal(), False))
    for path, stderr, shown in cases:
        monkeypatch.setattr(sys, "stderr", stderr)
        with cli_main._progress(path) as advance:
            advance("analysing")
        assert ("large.json" in stderr.getvalue()) == shown, (path, type(stderr))
