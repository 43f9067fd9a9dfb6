"""The CLI on Ascend inputs: several ranks, one JSON per rank; bad inputs give exit 2 and one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from ascend_builder import KERNEL_HEADER, task, write_csv, write_rank, write_timeline


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tracekit", *args], capture_output=True, text=True, cwd=cwd, timeout=120
    )


def test_two_ranks_give_one_json_and_one_summary_each(tmp_path: Path) -> None:
    runs = tmp_path / "job"
    write_rank(runs, 0, [task("MatMul", "10.000", 5.0)])
    write_rank(runs, 1, [task("MatMul", "10.000", 7.0), task("Add", "20.000", 1.0)])
    result = _run("analyze", str(runs), "--json", str(tmp_path / "out" / "job.json"), "--no-html")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("tracekit analysis of") == 2
    documents = [json.loads((tmp_path / "out" / f"job.rank{n}.json").read_text()) for n in (0, 1)]
    assert [d["devices"][0]["busy_ns"] for d in documents] == [5000, 8000]
    assert [d["trace"]["metadata"]["ascend"]["rank"] for d in documents] == [0, 1]
    assert all(d["trace"]["format"] == "ascend" and "ascend" in d for d in documents)


def test_default_output_names_carry_the_rank(tmp_path: Path) -> None:
    write_rank(tmp_path / "job", 0, [task("MatMul", "10.000", 5.0)])
    write_rank(tmp_path / "job", 3, [task("MatMul", "10.000", 5.0)])
    result = _run("analyze", "job", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == [
        "job.cluster.analysis.json",  # two ranks: the cross-rank view too
        "job.cluster.html",
        "job.rank0.analysis.json",
        "job.rank0.html",
        "job.rank3.analysis.json",
        "job.rank3.html",
    ]


def _bad(tmp_path: Path, case: str) -> tuple[Path, Path]:
    """(path to analyse, file the message must name)."""
    output = tmp_path / "rank0_ascend_pt" / "ASCEND_PROFILER_OUTPUT"
    if case == "empty_directory":
        tmp_path.joinpath("empty").mkdir()
        return tmp_path / "empty", tmp_path / "empty"
    if case == "json_not_an_array":
        bad = output / "trace_view.json"
        bad.parent.mkdir(parents=True)
        bad.write_text('{"ph": "X", "ts": "1.0"}')
        return tmp_path, bad
    if case == "json_array_not_msprof":
        bad = output / "trace_view.json"
        bad.parent.mkdir(parents=True)
        bad.write_text('[{"ph": "X", "name": "x", "ts": "1.000", "dur": 1, "pid": 1, "tid": 1, "args": {}}]')
        return bad, bad
    write_timeline(output / "trace_view.json", [task("Add", "1.000", 1.0)])
    bad = write_csv(output / "kernel_details.csv", [h for h in KERNEL_HEADER if h != "Duration(us)"], [])
    return (tmp_path, bad) if case == "csv_missing_columns" else (bad, bad)


@pytest.mark.parametrize(
    "case",
    [
        "empty_directory",
        "json_not_an_array",
        "json_array_not_msprof",
        "csv_missing_columns",
        "csv_given_directly",
    ],
)
def test_bad_ascend_input_gives_one_line_naming_the_file_and_exit_2(tmp_path: Path, case: str) -> None:
    target, named = _bad(tmp_path, case)
    result = _run("analyze", str(target), "--no-json")
    assert result.returncode == 2, result.stdout
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert str(named) in lines[0]
