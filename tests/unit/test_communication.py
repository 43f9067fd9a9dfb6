"""Communication per device: collective sizes read from the trace, the exclusive split of the
window, overlap, exposed communication and collectives by type (docs/metrics.md, "Communication")."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.compute as pc
import pytest
from kineto_builder import cpu_op, kernel, memcpy, nccl_kernel, runtime, step, write_trace

from tracekit.analysis.analyze import analyze
from tracekit.analysis.communication import SPLIT_PRIORITY, bus_factor, collective_type
from tracekit.analysis.document import plain
from tracekit.analysis.document.communication import Communication
from tracekit.analysis.document.device import Device
from tracekit.analysis.document.recommendations import Recommendations
from tracekit.readers import read_trace
from tracekit.readers.chunked import driver, split
from tracekit.readers.kineto import stream
from tracekit.rules import CHANGES, recommend


def test_nccl_kernel_args_give_message_bytes_collective_and_group_size(tmp_path: Path) -> None:
    events = [
        step(1, 0, 100),
        kernel("gemm", 10, 20),
        nccl_kernel("allreduce", 20, 30, 1000, group_size=4, dtype="BFloat16"),
        nccl_kernel("_allgather_base", 60, 10, 100, 400, dtype="Float"),
        nccl_kernel("send", 80, 5, 7, dtype="no-such-dtype"),
    ]
    header = {"distributedInfo": {"backend": "nccl", "rank": 3, "world_size": 4}}
    trace = read_trace(write_trace(tmp_path / "r3.json", events, header=header))
    rows = trace.events.select(["name", "bytes", "collective", "group_size"]).to_pylist()[1:]
    assert [(r["bytes"], r["collective"], r["group_size"]) for r in rows] == [
        (-1, "", -1),
        (2000, "allreduce", 4),  # 1000 bf16 elements
        (1600, "_allgather_base", 2),  # the gathered output: 400 fp32 elements
        (-1, "send", 2),  # unknown dtype: size unknown
    ]
    assert trace.metadata["distributed"] == {"rank": 3, "world_size": 4, "backend": "nccl"}


def _device(tmp_path: Path, events: list[dict]) -> Device:
    document = analyze(read_trace(write_trace(tmp_path / "t.json", events)))
    return document.devices[0]


def _one_step(tmp_path: Path) -> Device:
    """Window [10, 80] µs: compute [10, 30] + [50, 60], all-reduce [20, 40], copy [35, 45],
    all-gather [70, 80]."""
    return _device(
        tmp_path,
        [
            step(1, 0, 100),
            kernel("gemm", 10, 20),
            nccl_kernel("allreduce", 20, 20, 1000, group_size=4),
            memcpy("Memcpy HtoD (Pinned -> Device)", 35, 10, 4096),
            kernel("gemm", 50, 10),
            nccl_kernel("_allgather_base", 70, 10, 100, 400, group_size=2),
        ],
    )


def test_split_is_exclusive_in_priority_order_and_sums_to_the_window(tmp_path: Path) -> None:
    block = _one_step(tmp_path).communication
    assert plain(block.split) == {
        "window_ns": 70_000,
        "compute_ns": 30_000,
        "communication_ns": 20_000,  # [30, 40] + [70, 80]: the all-reduce's first half runs under compute
        "copies_ns": 5_000,  # [40, 45]: [35, 40] is under the all-reduce
        "idle_ns": 15_000,  # [45, 50] + [60, 70]
    }
    assert SPLIT_PRIORITY == ("compute", "communication", "copies", "idle")


def test_overlap_ratio_and_exposed_communication(tmp_path: Path) -> None:
    block = _one_step(tmp_path).communication
    assert block.communication_ns == 30_000
    assert block.overlap_ns == 10_000
    assert block.overlap_ratio == pytest.approx(1 / 3)
    assert block.exposed_ns == 20_000
    assert block.exposed_share == pytest.approx(20 / 70)


def test_collectives_by_type_with_nccl_bus_bandwidth(tmp_path: Path) -> None:
    rows = {row.type: row for row in _one_step(tmp_path).communication.collectives}
    assert list(rows) == ["all_reduce", "all_gather"]
    reduce, gather = rows["all_reduce"], rows["all_gather"]
    assert (reduce.count, reduce.total_ns, reduce.busy_ns, reduce.bytes) == (
        1,
        20_000,
        20_000,
        4000,
    )
    assert reduce.algbw_gbps == pytest.approx(4000 / 20_000)
    assert reduce.busbw_gbps == pytest.approx(4000 / 20_000 * 2 * 3 / 4)  # 2(n-1)/n, n = 4
    assert gather.bytes == 1600  # the gathered output
    assert gather.busbw_gbps == pytest.approx(1600 / 10_000 * 1 / 2)  # (n-1)/n, n = 2


def test_instances_carry_type_step_and_sequence(tmp_path: Path) -> None:
    events = [step(1, 0, 100), step(2, 100, 100)]
    events += [nccl_kernel("allreduce", t, 5, 10) for t in (10, 20, 110, 120, 130)]
    events += [nccl_kernel("broadcast", 30, 5, 10)]
    instances = _device(tmp_path, events).communication.instances
    assert instances.total == 6
    assert instances.type == [
        "all_reduce",
        "all_reduce",
        "broadcast",
        "all_reduce",
        "all_reduce",
        "all_reduce",
    ]
    assert instances.step == [1, 1, 1, 2, 2, 2]
    assert instances.sequence == [0, 1, 0, 0, 1, 2]
    assert instances.start_ns[:3] == [10_000, 20_000, 30_000]
    assert instances.end_ns[:3] == [15_000, 25_000, 35_000]
    assert instances.bytes[0] == 40


def test_a_trace_without_communication_has_an_empty_block(tmp_path: Path) -> None:
    block = _device(tmp_path, [step(1, 0, 100), kernel("gemm", 10, 20)]).communication
    assert block.split.compute_ns == block.split.window_ns == 20_000
    assert (block.communication_ns, block.overlap_ratio, block.collectives) == (0, None, [])


@pytest.mark.parametrize(
    ("name", "collective", "expected"),
    [
        ("hcom_allReduce__586_0_1", "", "all_reduce"),
        ("hcom_receive__822_0", "", "send_recv"),
        ("hcom_broadcast__483_0", "", "broadcast"),
        ("ncclKernel_SendRecv_RING_SIMPLE_Sum_int8_t", "all_to_all", "all_to_all"),
        ("ncclKernel_SendRecv_RING_SIMPLE_Sum_int8_t", "", "send_recv"),
        ("ncclDevKernel_ReduceScatter_Sum_f32_RING_LL", "", "reduce_scatter"),
        ("nccl:_all_gather_base", "", "all_gather"),
        ("ncclDevKernel_Reduce_Sum_f32_RING_LL", "", "other"),
    ],
)
def test_collective_type(name: str, collective: str, expected: str) -> None:
    assert collective_type(name, collective) == expected


def test_bus_factors_follow_nccl_tests() -> None:
    assert bus_factor("all_reduce", 8) == pytest.approx(1.75)
    assert [bus_factor(k, 8) for k in ("all_gather", "reduce_scatter", "all_to_all")] == [0.875] * 3
    assert (bus_factor("broadcast", 8), bus_factor("send_recv", 2), bus_factor("other", 8)) == (
        1.0,
        1.0,
        None,
    )
    assert bus_factor("all_reduce", 1) == 0.0


def test_a_streamed_read_keeps_the_collective_columns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(driver, "CHUNK_BYTES", 400)  # many chunks, most without an NCCL kernel
    monkeypatch.setattr(split, "QUICK_WINDOW", 128)
    events = [step(n, 100 * n, 100) for n in range(1, 13)]
    events += [kernel("gemm", 100 * n + 10, 20) for n in range(1, 13)]
    events.append(nccl_kernel("allreduce", 1250, 20, 1000, group_size=4, dtype="BFloat16"))
    text = json.dumps({"traceEvents": events, "distributedInfo": {"rank": 5, "world_size": 8}})
    path = tmp_path / "t.json"
    path.write_text(text)
    streamed = stream.read_streamed(path)
    assert isinstance(streamed, stream.Streamed)
    whole = read_trace(path)
    assert streamed.table.to_pydict() == whole.events.to_pydict()
    assert streamed.metadata["distributed"] == {"rank": 5, "world_size": 8}
    row = streamed.table.filter(pc.equal(streamed.table.column("kind"), 3)).to_pylist()[0]
    assert (row["bytes"], row["collective"], row["group_size"]) == (2000, "allreduce", 4)


def _recommended(tmp_path: Path, events: list[dict]) -> Recommendations:
    document = analyze(read_trace(write_trace(tmp_path / "r.json", events)), changes=CHANGES)
    return recommend(document)


def test_exposed_communication_fires_with_its_amdahl_bound(tmp_path: Path) -> None:
    events = [
        step(1, 0, 200),
        kernel("gemm", 10, 20),
        nccl_kernel("allreduce", 30, 80, 1 << 20, group_size=8),
    ]
    fired = {f.id: f for f in _recommended(tmp_path, events).fired}
    finding = fired["exposed-communication"]
    assert finding.gain.removable_share == pytest.approx(80 / 100)  # 80 of the 100 µs window
    assert finding.gain.speedup == pytest.approx(1 / (1 - 0.8))
    assert finding.offenders.rows[0][:3] == ["all_reduce", 1, "80 us"]
    assert finding.rank == 1


def test_communication_hidden_under_compute_does_not_fire(tmp_path: Path) -> None:
    events = [step(1, 0, 200), kernel("gemm", 10, 100), nccl_kernel("allreduce", 30, 85, 1 << 20)]
    checked = {c.id: c for c in _recommended(tmp_path, events).checked}
    assert checked["exposed-communication"].status == "not_fired"
    assert checked["exposed-communication"].reason == (
        "exposed communication is 4.8 % of the device window (fires at 10.0 %)"  # 5 of 105 µs
    )


def test_a_sendrecv_kernel_takes_the_type_of_the_c10d_operator_that_launched_it(tmp_path: Path) -> None:
    events = [
        step(1, 0, 200),
        cpu_op("c10d::alltoall_base_", 10, 20, 7),
        runtime("cudaLaunchKernel", 12, 5, correlation=1, external_id=7),
        kernel("ncclKernel_SendRecv_RING_SIMPLE_Sum_int8_t", 40, 30, correlation=1),
        runtime("cudaLaunchKernel", 50, 5, correlation=2),  # outside every c10d operator
        kernel("ncclKernel_SendRecv_RING_SIMPLE_Sum_int8_t", 80, 10, correlation=2),
    ]
    instances = _device(tmp_path, events).communication.instances
    assert instances.type == ["all_to_all", "send_recv"]


def _nsys_collectives(tmp_path: Path) -> Communication:
    """Three NCCL kernels launched inside NCCL's own NVTX ranges (nsys): a generic kernel inside
    ncclAllGather, a SendRecv kernel inside ncclAllToAll (older NCCL runs all-to-all as send/recv),
    a generic kernel inside ncclGroupEnd (names no collective: the kernel keeps its own name's type)."""
    from nsys_builder import Export

    e = Export()
    for i, (nvtx_range, kernel_name) in enumerate(
        [("ncclAllGather", "ncclDevKernel_Generic"), ("ncclAllToAll", "ncclDevKernel_SendRecv"),
         ("ncclGroupEnd", "ncclDevKernel_Generic")]
    ):  # fmt: skip
        t0 = 1000 * (i + 1)
        e.nvtx(nvtx_range, t0, t0 + 100)
        e.kernel(kernel_name, t0 + 200, t0 + 300, e.call("cudaLaunchKernel", t0 + 10, t0 + 20), stream=20)
    return analyze(read_trace(e.write(tmp_path / "nccl.sqlite"))).devices[0].communication


def test_nccl_nvtx_ranges_give_the_collective_type_on_nsys(tmp_path: Path) -> None:
    block = _nsys_collectives(tmp_path)
    assert block.instances.type == ["all_gather", "all_to_all", "other"]
    assert [(c.type, c.count, c.total_ns) for c in block.collectives] == [
        ("all_gather", 1, 100), ("all_to_all", 1, 100), ("other", 1, 100),
    ]  # fmt: skip
