"""Ascend communication.json: msprof's wait / transit / synchronization / idle per operator and its
link bandwidths, read beside the timeline, summed by collective type into the device's
communication block (`profiler`) and shown in the terminal and HTML reports (docs/metrics.md)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from ascend_builder import collective, metadata, python_op, task, write_json, write_rank
from conftest import shared_trace
from rich.console import Console

from tracekit.analysis.analyze import analyze
from tracekit.analysis.document import plain
from tracekit.readers import read_traces
from tracekit.readers.ascend.communication import operator_name
from tracekit.report.html import render_html
from tracekit.report.terminal import render_summary


def _operator(elapse: float, transit: float, wait: float, sync: float, hccs: tuple[float, float]) -> dict:
    """One communication.json operator, times in ms, HCCS (MB, ms)."""
    return {
        "Communication Time Info": {
            "Start Timestamp(us)": 1.0, "Elapse Time(ms)": elapse, "Transit Time(ms)": transit,
            "Wait Time(ms)": wait, "Synchronization Time(ms)": sync,
            "Idle Time(ms)": round(elapse - transit - wait, 6),
        },
        "Communication Bandwidth Info": {
            "HCCS": {"Transit Size(MB)": hccs[0], "Transit Time(ms)": hccs[1], "Bandwidth(GB/s)": 0},
            "RDMA": {"Transit Size(MB)": 0, "Transit Time(ms)": 0, "Bandwidth(GB/s)": 0},
        },
    }  # fmt: skip


def _rank(tmp: Path) -> Path:
    """A step with a kernel and an HCCL all-reduce, and a communication.json of two all-reduces and
    a send over two steps."""
    events = [
        *metadata(),
        python_op("ProfilerStep#1", "1000000.000", 300),
        task("MatMul", "1000020.000", 100),
        collective("hcom_allReduce__1_0_1", "1000120.000", 100),
    ]
    root = write_rank(tmp, 0, events)
    write_json(
        root / "ASCEND_PROFILER_OUTPUT" / "communication.json",
        {
            "step1": {
                "collective": {
                    "hcom_allReduce__1_0_1@123": _operator(2.0, 0.5, 1.0, 0.75, (4.0, 0.25)),
                    "Total Op Info": {"Communication Time Info": {"Elapse Time(ms)": 2.0}},
                },
                "p2p": {"hcom_send__7_0@9": _operator(1.0, 0.8, 0.0, 0.0, (8.0, 0.5))},
            },
            "step2": {
                "collective": {"hcom_allReduce__1_1_1@123": _operator(3.0, 1.5, 0.5, 0.25, (6.0, 0.75))},
                "p2p": {},
            },
        },
    )  # fmt: skip
    return root


def test_operator_names_lose_their_ids_and_group() -> None:
    assert operator_name("hcom_allReduce__586_0_1@17522688603477080586") == "hcom_allReduce"
    assert operator_name("hcom_send__822_0@13337953553061386822") == "hcom_send"


def test_operators_are_summed_by_type_with_msprof_ratios(tmp_path: Path) -> None:
    document = analyze(read_traces(_rank(tmp_path))[0])
    profiler = document.devices[0].communication.profiler
    assert profiler.operations == 3
    assert profiler.steps == ["step1", "step2"]
    reduce, send = profiler.by_type
    assert plain(reduce) == {
        "type": "all_reduce", "count": 2, "elapse_ns": 5_000_000, "transit_ns": 2_000_000,
        "wait_ns": 1_500_000, "synchronization_ns": 1_000_000, "idle_ns": 1_500_000,
        "wait_ratio": pytest.approx(1.5 / 3.5), "synchronization_ratio": pytest.approx(1 / 3),
        # 10 MB over 1 ms of HCCS transit: 10 GB/s; RDMA carried nothing
        "links": [{"link": "HCCS", "bytes": 10_000_000, "transit_ns": 1_000_000, "bandwidth_gbps": 10.0}],
    }  # fmt: skip
    assert (send.type, send.count, send.wait_ratio) == ("send_recv", 1, 0.0)
    assert send.links[0].bandwidth_gbps == pytest.approx(16.0)
    assert profiler.total_op_info.elapse_ns == 2_000_000  # the file's own total, as written


def test_a_rank_without_communication_json_has_no_profiler_part(tmp_path: Path) -> None:
    events = [*metadata(), python_op("ProfilerStep#1", "1000000.000", 300),
              collective("hcom_allReduce__1_0_1", "1000120.000", 100)]  # fmt: skip
    document = analyze(read_traces(write_rank(tmp_path, 0, events))[0])
    assert document.devices[0].communication.profiler is None
    assert "communication_json" not in document.trace.metadata["ascend"]


@pytest.mark.parametrize("width", [80, 120])
def test_terminal_and_html_show_wait_vs_transit(tmp_path: Path, width: int) -> None:
    document = analyze(read_traces(_rank(tmp_path))[0])
    out = io.StringIO()
    render_summary(document, Console(file=out, width=width, color_system=None, legacy_windows=False))
    lines = out.getvalue().splitlines()
    assert max(map(len, lines)) <= width
    reduce = next(line.split() for line in lines if line.startswith("all-reduce") and "%" in line)
    sync_idle = ["1", "ms", "1.5", "ms"] if width == 120 else []  # left out first at 80 columns
    # elapse 5 ms, transit 2, wait 1.5; wait ratio 1.5 / 3.5; HCCS 10 MB / 1 ms
    assert reduce == ["all-reduce", "2", "5", "ms", "2", "ms", "1.5", "ms", *sync_idle, "42.9", "%", "HCCS",
                      "10.00", "GB/s"]  # fmt: skip
    page = render_html(document, "en")
    section = page[page.index('<section id="sec-communication">') :]
    assert "<h3>Wait vs transit, from msprof's communication.json (step1, step2)</h3>" in section
    assert "HCCS 9.5 MiB 10.00 GB/s" in section


def _file_totals(rank: Path) -> dict[str, float]:
    """msprof's own Total Op Info over every step and group of a rank's communication.json, in ms."""
    document = json.loads((rank / "ASCEND_PROFILER_OUTPUT" / "communication.json").read_text())
    totals: dict[str, float] = {}
    for groups in document.values():
        for operators in groups.values():
            info = operators.get("Total Op Info", {}).get("Communication Time Info", {})
            for key, value in info.items():
                if key.endswith("(ms)"):
                    totals[key] = totals.get(key, 0.0) + value
    return totals


@pytest.mark.parametrize(
    "relative", ["msprof/msinsight-torchnpu-level1/rank0_ascend_pt", "msprof/msinsight-cluster/test_rank_0"]
)
def test_real_communication_json_matches_its_own_totals(relative: str) -> None:
    rank = shared_trace(relative)
    profiler = analyze(read_traces(rank)[0]).devices[0].communication.profiler
    totals = _file_totals(rank)
    fields = {"elapse_ns": "Elapse Time(ms)", "transit_ns": "Transit Time(ms)", "wait_ns": "Wait Time(ms)",
              "synchronization_ns": "Synchronization Time(ms)"}  # fmt: skip
    for key, field in fields.items():
        ours = sum(getattr(row, key) for row in profiler.by_type)
        # each operator's time rounded to the ns: at most 0.5 ns off per operator
        assert ours == pytest.approx(totals[field] * 1e6, abs=profiler.operations)


def test_real_level1_all_reduce_has_msprofs_wait_ratio_and_hccs_bandwidth() -> None:
    rank = shared_trace("msprof/msinsight-torchnpu-level1/rank0_ascend_pt")
    (reduce,) = analyze(read_traces(rank)[0]).devices[0].communication.profiler.by_type
    document = json.loads((rank / "ASCEND_PROFILER_OUTPUT" / "communication.json").read_text())
    total = document["step50"]["collective"]["Total Op Info"]
    assert (reduce.type, reduce.count) == ("all_reduce", 4)
    assert round(reduce.wait_ratio, 4) == total["Communication Time Info"]["Wait Time Ratio"]
    assert (
        round(reduce.synchronization_ratio, 4)
        == total["Communication Time Info"]["Synchronization Time Ratio"]
    )
    hccs = next(link for link in reduce.links if link.link == "HCCS")
    file_hccs = total["Communication Bandwidth Info"]["HCCS"]
    assert hccs.bytes == round(file_hccs["Transit Size(MB)"] * 1e6)
    assert hccs.bandwidth_gbps == pytest.approx(file_hccs["Transit Size(MB)"] / file_hccs["Transit Time(ms)"])
