"""Multi-rank scenarios: the model gives the truth its file states, and every format's traces carry it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tracekit.model.schema import Kind
from tracekit.readers import read_traces
from tracekit.simulate.ranks import load_ranks, rank_scenario_names, simulate_ranks, truth
from tracekit.simulate.scenarios import scenario_names

SCENARIOS = ["ranks_pipeline", "ranks_slow_rank", "ranks_tp_allreduce"]
FORMATS = ["kineto", "nsys", "msprof"]
TIMES = ("compute", "collective", "wait", "step_p50")


def test_the_multi_rank_scenarios_are_listed_apart() -> None:
    assert rank_scenario_names() == SCENARIOS
    assert not set(SCENARIOS) & set(scenario_names())  # the single-device loader does not take them


@pytest.mark.parametrize("name", SCENARIOS)
def test_the_model_gives_the_truth_of_the_scenario_file(name: str) -> None:
    scenario = load_ranks(name)
    known = truth(simulate_ranks(scenario))
    stated = scenario.truth
    assert [rank["collectives"] for rank in known] == stated["collectives"]
    assert [rank["collective_bytes"] for rank in known] == stated["collective_bytes"]
    for time in TIMES:
        if f"{time}_us" in stated:
            assert [rank[f"{time}_ns"] for rank in known] == [us * 1000 for us in stated[f"{time}_us"]]


def simulate(name: str, format_name: str, output: Path) -> str:
    command = [sys.executable, "-m", "tracekit", "simulate", name, "--format", format_name, "-o", str(output)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def rank_traces(folder: Path) -> list:
    """The traces of the folder's ranks, in rank order (file names give it for nsys)."""
    paths = sorted(folder.iterdir())
    return read_traces(folder) if paths[0].is_dir() else [trace for p in paths for trace in read_traces(p)]


def columns(trace) -> dict[str, np.ndarray]:
    events = trace.events
    return {name: events.column(name).to_numpy() for name in ("kind", "start_ns", "dur_ns", "bytes", "step")}


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], tuple[Path, str]]:
    """Every scenario in every format: its folder and what `tracekit simulate` printed."""
    root = tmp_path_factory.mktemp("ranks")
    return {
        (name, fmt): (root / name / fmt, simulate(name, fmt, root / name / fmt))
        for name in SCENARIOS
        for fmt in FORMATS
    }


@pytest.mark.parametrize("format_name", FORMATS)
@pytest.mark.parametrize("name", SCENARIOS)
def test_each_rank_trace_carries_its_collectives_and_time(written: dict, name: str, format_name: str) -> None:
    folder, _ = written[(name, format_name)]
    stated = load_ranks(name).truth
    traces = rank_traces(folder)
    assert len(traces) == 2
    for rank, trace in enumerate(traces):
        c = columns(trace)
        collectives, kernels = c["kind"] == Kind.COMMUNICATION, c["kind"] == Kind.KERNEL
        assert collectives.sum() == stated["collectives"][rank]
        assert c["dur_ns"][kernels].sum() == stated["compute_us"][rank] * 1000
        if "collective_us" in stated:
            assert c["dur_ns"][collectives].sum() == stated["collective_us"][rank] * 1000
        if format_name != "nsys":  # an nsys export carries no collective sizes
            assert c["bytes"][collectives].sum() == stated["collective_bytes"][rank]
        assert (c["kind"] == Kind.STEP).sum() == load_ranks(name).steps


@pytest.mark.parametrize("format_name", ["kineto", "msprof"])
def test_each_trace_names_its_rank(written: dict, format_name: str) -> None:
    folder, _ = written[("ranks_tp_allreduce", format_name)]
    traces = rank_traces(folder)
    if format_name == "kineto":
        assert [t.metadata["distributed"] for t in traces] == [
            {"rank": rank, "world_size": 2, "backend": "nccl"} for rank in (0, 1)
        ]
    else:
        assert [t.metadata["ascend"]["rank"] for t in traces] == [0, 1]


@pytest.mark.parametrize("format_name", FORMATS)
def test_the_fast_rank_waits_for_the_slow_one_at_every_collective(written: dict, format_name: str) -> None:
    folder, _ = written[("ranks_slow_rank", format_name)]
    starts, ends = [], []
    for trace in rank_traces(folder):
        c = columns(trace)
        collectives = c["kind"] == Kind.COMMUNICATION
        starts.append(c["start_ns"][collectives])
        ends.append(c["start_ns"][collectives] + c["dur_ns"][collectives])
    assert np.array_equal(ends[0], ends[1])  # a collective ends on every rank at once
    waits = starts[1] - starts[0]  # rank 0 arrives early by rank 1's extra compute
    assert set(waits.tolist()) == {load_ranks("ranks_slow_rank").truth["wait_per_collective_us"][0] * 1000}


@pytest.mark.parametrize("format_name", FORMATS)
def test_the_pipeline_runs_at_the_pace_of_its_slowest_stage(written: dict, format_name: str) -> None:
    folder, _ = written[("ranks_pipeline", format_name)]
    stated = load_ranks("ranks_pipeline").truth
    for rank, trace in enumerate(rank_traces(folder)):
        c = columns(trace)
        kernels = c["kind"] == Kind.KERNEL
        assert set(c["dur_ns"][kernels].tolist()) == {stated["stage_us"][rank] * 1000}
    c = columns(rank_traces(folder)[stated["slowest_stage"]])
    kernels = (c["kind"] == Kind.KERNEL) & (c["step"] == 2)
    periods = np.diff(c["start_ns"][kernels])
    assert set(periods.tolist()) == {stated["microbatch_period_us"] * 1000}


def test_simulate_prints_the_truth_of_each_rank(written: dict) -> None:
    _, printed = written[("ranks_slow_rank", "kineto")]
    lines = printed.splitlines()
    assert lines[-2] == (
        "truth rank 0: compute 12,800.000 us, collective 8,000.000 us, wait 4,800.000 us, collectives 32, "
        "collective_bytes 536,870,912, step_p50 5,217.000 us"
    )
    assert lines[-1].startswith("truth rank 1: compute 17,600.000 us, collective 3,200.000 us, wait 0.000 us")


def test_analyze_takes_the_simulated_ranks_folder(written: dict, tmp_path: Path) -> None:
    folder, _ = written[("ranks_tp_allreduce", "kineto")]
    command = [sys.executable, "-m", "tracekit", "analyze", str(folder), "--no-html", "--json", "-"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count('"schema": "tracekit.analysis/1"') == 2
