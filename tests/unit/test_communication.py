"""Communication per device: collective sizes read from the trace, the exclusive split of the
window, overlap, exposed communication and collectives by type (docs/metrics.md, "Communication")."""

from __future__ import annotations

from pathlib import Path

from kineto_builder import kernel, nccl_kernel, step, write_trace

from tracekit.readers import read_trace


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
