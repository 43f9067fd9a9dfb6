"""Communication and the cluster view on the shared msprof data against msprof's own numbers:
step_trace_time.csv (what msprof-analyze's cluster_step_trace_time.csv gathers) and the
cluster_analysis_output of the msinsight GPT-3 cluster (docs/metrics.md, "Communication", "Cluster")."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from conftest import SHARED_TRACES, shared_trace

from tracekit.analysis.analyze import analyze
from tracekit.analysis.cluster import cluster_block
from tracekit.model.schema import Kind
from tracekit.readers import read_traces
from tracekit.rules import CHANGES, recommend

LEVEL1 = SHARED_TRACES / "msprof" / "msinsight-torchnpu-level1"
CLUSTER = SHARED_TRACES / "msprof" / "msinsight-cluster"
US = 1000


def _needs(path: Path) -> Path:
    """The shared folder, or skip with the reason (tests/conftest.py)."""
    return shared_trace(str(path.relative_to(SHARED_TRACES)))


def _step_trace(rank_dir: Path) -> dict[str, float]:
    with (rank_dir / "ASCEND_PROFILER_OUTPUT" / "step_trace_time.csv").open() as handle:
        (row,) = csv.DictReader(handle)
    return {key: float(value) * US for key, value in row.items() if key != "Step"}


@pytest.fixture(scope="module")
def level1() -> list:
    return read_traces(_needs(LEVEL1))


def _first_compute_or_communication(trace) -> int:
    kind, start = trace.events.column("kind").to_numpy(), trace.events.column("start_ns").to_numpy()
    return int(start[np.isin(kind, [Kind.KERNEL, Kind.COMMUNICATION])].min())


@pytest.mark.parametrize("rank", [0, 1])
def test_communication_and_free_match_step_trace_time(level1: list, rank: int) -> None:
    trace = level1[rank]
    block = analyze(trace).devices[0].communication
    split = block.split
    msprof = _step_trace(LEVEL1 / f"rank{rank}_ascend_pt")
    assert block.communication_ns == round(msprof["Communication"])  # to the ns: the same HCCL op spans
    assert split.compute_ns == pytest.approx(msprof["Computing"], abs=25)
    assert block.exposed_ns == pytest.approx(msprof["Communication(Not Overlapped)"], abs=25)
    # msprof's Free is counted from the first compute or communication task, W from the first copy
    lead = _first_compute_or_communication(trace) - analyze(trace).devices[0].window.start_ns
    assert split.copies_ns + split.idle_ns - lead == pytest.approx(msprof["Free"], abs=US)


def test_the_training_step_is_mostly_exposed_hccl(level1: list) -> None:
    cluster = cluster_block([analyze(trace) for trace in level1])
    shares = [row["exposed_ns"] / row["window_ns"] for row in cluster["per_rank"]]
    assert [round(s, 3) for s in shares] == [0.722, 0.702]
    (row,) = cluster["collectives"]["by_type"]
    assert (row["type"], row["matched"]) == ("all_reduce", 4)
    # one clock on both ranks: the start skew and the clock-free duration spread agree
    largest = cluster["collectives"]["largest"][0]
    assert largest["skew_ns"] == pytest.approx(largest["duration_spread_ns"], rel=0.01)
    assert cluster["slow_rank"]["slow"] is False  # compute 8.874 ms vs 8.878 ms


def _cluster_rows() -> dict[int, dict[str, float]]:
    path = _needs(CLUSTER) / "cluster_analysis_output" / "cluster_step_trace_time.csv"
    with path.open() as handle:
        rows = [row for row in csv.DictReader(handle) if row["Type"] == "rank"]
    return {int(row["Index"]): row for row in rows}


def test_per_rank_profiler_numbers_match_msprof_analyze_cluster_output() -> None:
    ranks = [_needs(CLUSTER / f"test_rank_{n}") for n in (0, 1)]
    documents = [analyze(trace) for path in ranks for trace in read_traces(path)]
    cluster = cluster_block(documents)
    expected = _cluster_rows()
    assert cluster["rank_source"] == "ascend"
    for row in cluster["per_rank"]:
        theirs, ours = expected[row["rank"]], row["profiler"]
        assert ours["communication_ns"] == pytest.approx(float(theirs["Communication"]) * US, abs=1)
        assert ours["free_ns"] == pytest.approx(float(theirs["Free"]) * US, abs=1)
        assert ours["computing_ns"] == pytest.approx(float(theirs["Computing"]) * US, abs=1)
        assert ours["communication_not_overlapped_ns"] == pytest.approx(
            float(theirs["Communication(Not Overlapped)"]) * US, abs=1
        )


@pytest.mark.parametrize("rank", [0, 1])
def test_exposed_communication_is_the_top_finding_of_the_hccl_bound_step(level1: list, rank: int) -> None:
    top = recommend(analyze(level1[rank], changes=CHANGES)).fired[0]
    assert top.id == "exposed-communication"
    assert top.gain.removable_share == pytest.approx([0.7223, 0.7024][rank], abs=1e-4)
