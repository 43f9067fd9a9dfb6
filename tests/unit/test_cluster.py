"""The cross-rank view on hand-built multi-rank traces: per-rank table, slow rank, arrival skew of
matched collectives, pipeline stage balance (docs/metrics.md, "Cluster")."""

from __future__ import annotations

import html
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from ascend_builder import collective, metadata, python_op, task, write_rank
from kineto_builder import kernel, nccl_kernel, step, write_trace

from tracekit.analysis.analyze import analyze
from tracekit.analysis.cluster import CLUSTER_DEFINITIONS, cluster_block, z_scores
from tracekit.analysis.document import Document
from tracekit.readers import read_trace, read_traces
from tracekit.report.formulas import CLUSTER_DEFINITIONS_ZH
from tracekit.report.html.cluster import render_cluster_html
from tracekit.rules import recommend_cluster
from tracekit.simulate.ranks import load_ranks

COMPUTE_US = {0: 50, 1: 60, 2: 90}  # rank 2 computes longest: the others wait for it at the all-reduce


def _kineto_rank(tmp_path: Path, rank: int, compute_us: float, second_start: float = 160) -> Document:
    """One step [0, 200) µs: compute [10, 10 + c), all-reduce [10 + c, 150), a second all-reduce at
    `second_start` for 10 µs."""
    events = [
        step(1, 0, 200),
        kernel("gemm", 10, compute_us),
        nccl_kernel("allreduce", 10 + compute_us, 140 - compute_us, 1 << 20, group_size=3),
        nccl_kernel("allreduce", second_start, 10, 1 << 20, group_size=3),
    ]
    header = {"distributedInfo": {"backend": "nccl", "rank": rank, "world_size": 3}}
    return analyze(read_trace(write_trace(tmp_path / f"rank{rank}.json", events, header=header)))


@pytest.fixture
def three_ranks(tmp_path: Path) -> dict:
    documents = [_kineto_rank(tmp_path, r, COMPUTE_US[r], 161 if r == 2 else 160) for r in (1, 0, 2)]
    return cluster_block(documents)


def test_ranks_come_from_distributed_info_and_each_row_is_exact(three_ranks: dict) -> None:
    assert (three_ranks["ranks"], three_ranks["rank_source"]) == (3, "distributedInfo")
    rows = {row["rank"]: row for row in three_ranks["per_rank"]}
    assert [row["rank"] for row in three_ranks["per_rank"]] == [1, 0, 2]  # the documents' order
    first = rows[0]
    assert first["step_p50_ns"] == 200_000
    assert first["window_ns"] == 160_000  # [10, 170)
    assert (first["compute_ns"], first["communication_ns"], first["exposed_ns"]) == (50_000, 100_000, 100_000)
    assert (first["copies_ns"], first["idle_ns"]) == (0, 10_000)  # [150, 160)
    assert rows[2]["idle_ns"] == 11_000  # [150, 161)


def test_slow_rank_is_the_one_the_others_wait_for(three_ranks: dict) -> None:
    slow = three_ranks["slow_rank"]
    assert (slow["rank"], slow["metric"], slow["slow"]) == (2, "compute", True)
    assert slow["value_ns"] == 90_000
    assert slow["others_median_ns"] == 55_000
    assert slow["excess_share"] == pytest.approx(35 / 55)
    compute = np.array([60, 50, 90], dtype=float)
    assert slow["z_compute"] == pytest.approx((90 - compute.mean()) / compute.std())
    assert slow["z_step"] is None  # every rank's step is 200 µs: no spread
    # one step: without its 35 µs excess every rank's step would end 35 µs earlier
    assert (slow["baseline_step_ns"], slow["predicted_step_ns"]) == (200_000, 165_000)
    assert slow["speedup"] == pytest.approx(200 / 165)


def test_arrival_skew_of_matched_collectives(three_ranks: dict) -> None:
    skew = three_ranks["collectives"]
    assert skew["matched"] == 2
    (row,) = skew["by_type"]
    assert (row["type"], row["matched"]) == ("all_reduce", 2)
    assert (row["skew_ns"]["max"], row["skew_ns"]["p50"], row["skew_total_ns"]) == (40_000, 1_000, 41_000)
    assert row["duration_spread_ns"]["max"] == 40_000  # rank 0 waits 40 µs longer inside its kernel
    assert (row["most_often_last_rank"], row["last_share"]) == (2, 1.0)
    largest = skew["largest"][0]
    assert (largest["step"], largest["sequence"], largest["skew_ns"]) == (1, 0, 40_000)
    assert (largest["earliest_rank"], largest["latest_rank"]) == (0, 2)


def test_two_ranks_use_the_relative_rule_not_z_scores(tmp_path: Path) -> None:
    documents = [_kineto_rank(tmp_path, 0, 50), _kineto_rank(tmp_path, 1, 52)]
    slow = cluster_block(documents)["slow_rank"]
    assert (slow["rank"], slow["excess_share"], slow["z_compute"]) == (1, pytest.approx(0.04), None)
    assert slow["slow"] is False  # 4 % is under the 5 % threshold
    assert z_scores([1.0, 2.0]) == [None, None]
    assert z_scores([1.0, 2.0, 3.0]) == pytest.approx([-1.224744871391589, 0.0, 1.224744871391589])


def _stage(tmp_path: Path, rank: int, compute_us: float) -> Document:
    """Two steps of a pipeline stage: compute, then a send of its activations."""
    events = []
    for n, t0 in ((1, 0), (2, 200)):
        events += [step(n, t0, 200), kernel("stage", t0 + 10, compute_us)]
        events.append(nccl_kernel("send", t0 + 10 + compute_us, 20, 1024, group_size=2))
    header = {"distributedInfo": {"rank": rank, "world_size": 2}}
    return analyze(read_trace(write_trace(tmp_path / f"stage{rank}.json", events, header=header)))


def test_pipeline_throughput_is_one_over_the_slowest_stage(tmp_path: Path) -> None:
    pipeline = cluster_block([_stage(tmp_path, 0, 30), _stage(tmp_path, 1, 60)])["pipeline"]
    assert pipeline["applicable"] is True
    # per step: compute + the 20 µs send (matched on both ranks: the shortest duration is the transfer)
    assert [s["stage_ns"] for s in pipeline["stages"]] == [50_000, 80_000]
    assert (pipeline["slowest_rank"], pipeline["slowest_ns"], pipeline["mean_ns"]) == (1, 80_000, 65_000)
    assert pipeline["balance"] == pytest.approx(65 / 80)
    assert pipeline["throughput_per_s"] == pytest.approx(1e9 / 80_000)
    assert pipeline["balanced_throughput_per_s"] == pytest.approx(1e9 / 65_000)


def test_all_reduce_ranks_are_not_a_pipeline(three_ranks: dict) -> None:
    assert three_ranks["pipeline"]["applicable"] is False


def _ascend_rank(parent: Path, rank: int, compute_us: float) -> None:
    """Step [0, 300) µs: a kernel [20, 20 + c), an HCCL all-reduce of 1024 fp16 from 20 + c to 250."""
    reduce = collective("hcom_allReduce__1_0_1", f"{1000020 + compute_us}", 230 - compute_us)
    reduce["args"].update({"count": 1024, "data_type": "FP16"})
    events = [
        *metadata(),
        python_op("ProfilerStep#7", "1000000.000", 300),
        task("MatMul", "1000020.000", compute_us),
        reduce,
    ]
    write_rank(parent, rank, events)


def test_an_ascend_cluster_gives_the_same_view(tmp_path: Path) -> None:
    _ascend_rank(tmp_path, 0, 100)
    _ascend_rank(tmp_path, 1, 40)
    cluster = cluster_block([analyze(t) for t in read_traces(tmp_path)])
    assert cluster["rank_source"] == "ascend"
    rows = {row["rank"]: row for row in cluster["per_rank"]}
    assert (rows[0]["compute_ns"], rows[0]["exposed_ns"], rows[0]["window_ns"]) == (100_000, 130_000, 230_000)
    assert (rows[1]["compute_ns"], rows[1]["exposed_ns"]) == (40_000, 190_000)
    assert (cluster["slow_rank"]["rank"], cluster["slow_rank"]["slow"]) == (0, True)
    (row,) = cluster["collectives"]["by_type"]
    assert (row["type"], row["skew_ns"]["max"], row["most_often_last_rank"]) == ("all_reduce", 60_000, 0)


def test_ascend_hccl_bytes_give_the_algorithm_bandwidth(tmp_path: Path) -> None:
    _ascend_rank(tmp_path, 0, 100)
    (trace,) = read_traces(tmp_path)
    (row,) = analyze(trace).devices[0].communication.collectives
    assert (row.bytes, row.algbw_gbps, row.busbw_gbps) == (2048, pytest.approx(2048 / 130_000), None)


def test_analyze_on_several_ranks_writes_the_cluster_view(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    for rank, compute in COMPUTE_US.items():
        events = [
            step(1, 0, 200),
            kernel("gemm", 10, compute),
            nccl_kernel("allreduce", 10 + compute, 140 - compute, 1 << 20, group_size=3),
        ]
        header = {"distributedInfo": {"rank": rank, "world_size": 3}}
        write_trace(run / f"rank{rank}.pt.trace.json", events, header=header)
    command = [sys.executable, "-m", "tracekit", "analyze", str(run), "--jobs", "1"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "slow rank: rank 2, compute 90 us" in " ".join(result.stdout.split())
    document = json.loads((tmp_path / "reports" / "run.cluster.analysis.json").read_text())
    assert document["schema"] == "tracekit.cluster/1"
    assert [row["compute_ns"] for row in document["cluster"]["per_rank"]] == [50_000, 60_000, 90_000]
    assert [f["id"] for f in document["recommendations"]["fired"]] == ["slow-rank"]
    assert "1. Fix the slow rank (straggler) (x1.21 step time)" in " ".join(result.stdout.split())
    page = (tmp_path / "reports" / "run.cluster.html").read_text()
    assert "Rank 2 is slow" in page and "Fix the slow rank (straggler) (x1.21)" in page


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_cluster_report_shows_every_section(three_ranks: dict, lang: str) -> None:
    page = render_cluster_html(three_ranks, lang, [])
    for key in ("cl.sec.ranks", "cl.sec.slow", "cl.sec.skew", "cl.sec.recommendations"):
        assert f'id="{key.replace(".", "-")}"' in page
    assert "cl.sec.pipeline".replace(".", "-") not in page  # all-reduce ranks: no pipeline section
    assert page.count('class="chart"') == 1
    shown = {"en": CLUSTER_DEFINITIONS, "zh": CLUSTER_DEFINITIONS_ZH}[lang]["cluster.collectives"]
    assert html.escape(shown, quote=True) in page  # the formulas in the page's language


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory):
    """The cluster block of a multi-rank scenario simulated in a format (tracekit simulate)."""
    root = tmp_path_factory.mktemp("simulated")

    def cluster_of(name: str, format_name: str) -> dict:
        out = root / name / format_name
        command = [
            sys.executable,
            "-m",
            "tracekit",
            "simulate",
            name,
            "--format",
            format_name,
            "-o",
            str(out),
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        paths = sorted(out.iterdir())
        traces = read_traces(out) if paths[0].is_dir() else [t for p in paths for t in read_traces(p)]
        return cluster_block([analyze(trace) for trace in traces])

    return cluster_of


@pytest.mark.parametrize("format_name", ["kineto", "nsys", "msprof"])
def test_the_simulated_slow_rank_is_found_with_its_truth(simulated, format_name: str) -> None:
    truth = load_ranks("ranks_slow_rank").truth
    cluster = simulated("ranks_slow_rank", format_name)
    slow = cluster["slow_rank"]
    assert (slow["rank"], slow["metric"], slow["slow"]) == (truth["slow_rank"], "compute", True)
    assert slow["value_ns"] == truth["compute_us"][1] * 1000
    assert slow["excess_ns"] == (truth["compute_us"][1] - truth["compute_us"][0]) * 1000
    assert slow["baseline_step_ns"] == truth["step_p50_us"][1] * 1000
    # 150 µs less compute before each of the 8 all-reduces of a step: 7 + 8 x (400 + 100) + 10 µs
    assert slow["predicted_step_ns"] == (7 + 8 * 500 + 10) * 1000
    (row,) = cluster["collectives"]["by_type"]
    assert (row["type"], row["matched"], row["most_often_last_rank"]) == ("all_reduce", 32, 1)
    assert row["skew_ns"]["p50"] == row["skew_ns"]["max"] == truth["wait_per_collective_us"][0] * 1000
    assert cluster["pipeline"]["applicable"] is False


@pytest.mark.parametrize("format_name", ["kineto", "nsys", "msprof"])
def test_the_simulated_pipeline_imbalance_and_its_throughput(simulated, format_name: str) -> None:
    truth = load_ranks("ranks_pipeline").truth
    pipeline = simulated("ranks_pipeline", format_name)["pipeline"]
    assert (pipeline["applicable"], pipeline["slowest_rank"]) == (True, truth["slowest_stage"])
    period_ns = truth["microbatch_period_us"] * 1000  # 500 µs compute + its 50 µs transfer
    microbatches = load_ranks("ranks_pipeline").microbatches
    assert pipeline["slowest_ns"] == microbatches * period_ns
    assert pipeline["throughput_per_s"] * microbatches == pytest.approx(1e9 / period_ns)  # 1818 / s
    balanced_ns = (sum(truth["stage_us"]) / 2 + 50) * 1000  # 400 + 50 µs per micro-batch
    assert pipeline["balanced_throughput_per_s"] * microbatches == pytest.approx(1e9 / balanced_ns)


def test_the_slow_rank_rule_fires_with_the_step_it_would_give(three_ranks: dict) -> None:
    recommendations = recommend_cluster(three_ranks)
    (finding,) = recommendations["fired"]
    assert (finding["id"], finding["rank"]) == ("slow-rank", 1)
    assert finding["gain"]["speedup"] == pytest.approx(200 / 165)
    assert (finding["gain"]["baseline_step_ns"], finding["gain"]["predicted_step_ns"]) == (200_000, 165_000)
    assert "Rank 2 spends 35 us more in compute" in finding["summary"]
    assert {c["id"]: c["status"] for c in recommendations["checked"]} == {"stage-balance": "not_applicable"}


def test_the_stage_balance_rule_fires_on_the_simulated_pipeline(simulated) -> None:
    recommendations = recommend_cluster(simulated("ranks_pipeline", "kineto"), "zh")
    fired = {f["id"]: f for f in recommendations["fired"]}
    stage = fired["stage-balance"]
    assert stage["group"] == "throughput"
    assert stage["gain"]["speedup"] == pytest.approx(550 / 450)  # 1 / mean stage vs 1 / slowest
    assert stage["title"] == "在 rank 之间平衡流水线阶段"
    assert list(fired) == ["stage-balance"]  # the stages differ by design: no slow rank


def test_the_simulated_slow_rank_is_recommended_first(simulated) -> None:
    (finding,) = recommend_cluster(simulated("ranks_slow_rank", "msprof"))["fired"]
    assert finding["id"] == "slow-rank"
    assert finding["gain"]["speedup"] == pytest.approx(5217 / 4017)


def test_the_pipeline_report_shows_its_stages_not_a_slow_rank(simulated) -> None:
    cluster = simulated("ranks_pipeline", "kineto")
    page = render_cluster_html(cluster, "en", recommend_cluster(cluster)["fired"])
    assert 'id="cl-sec-pipeline"' in page and 'id="cl-sec-slow"' not in page
    assert "1. Balance the pipeline stages across ranks (x1.22)" in page
