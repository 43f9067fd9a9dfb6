"""Build tiny Kineto traces in tests: times are given in µs, as in the format."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

HOST_PID, HOST_TID, DEVICE = 100, 100, 0


def step(n: int, ts: float, dur: float) -> dict:
    """A host-side ProfilerStep#n annotation."""
    return _host("user_annotation", f"ProfilerStep#{n}", ts, dur)


def cpu_op(name: str, ts: float, dur: float, external_id: int) -> dict:
    """A host operator with the external id its launch calls share."""
    return _host("cpu_op", name, ts, dur, {"External id": external_id})


def runtime(name: str, ts: float, dur: float, correlation: int | None = None, external_id: int = 0) -> dict:
    """A CUDA runtime call; `correlation` links it to the device work it launched."""
    args = {"External id": external_id}
    if correlation is not None:
        args["correlation"] = correlation
    return _host("cuda_runtime", name, ts, dur, args)


def kernel(name: str, ts: float, dur: float, correlation: int | None = None, stream: int = 7) -> dict:
    """A kernel on device 0."""
    return _device("kernel", name, ts, dur, stream, correlation)


NCCL_KERNELS = {
    "allreduce": "ncclDevKernel_AllReduce_Sum_f32_RING_LL",
    "_allgather_base": "ncclDevKernel_AllGather_RING_LL",
    "_reduce_scatter_base": "ncclDevKernel_ReduceScatter_Sum_f32_RING_LL",
    "broadcast": "ncclDevKernel_Broadcast_RING_LL",
    "all_to_all": "ncclDevKernel_SendRecv",
    "send": "ncclDevKernel_SendRecv",
}


def nccl_kernel(
    collective: str,
    ts: float,
    dur: float,
    in_nelems: int,
    out_nelems: int | None = None,
    *,
    group_size: int = 2,
    dtype: str = "Float",
    stream: int = 20,
) -> dict:
    """An NCCL kernel on device 0 with the collective's args as Kineto copies them onto it."""
    event = _device("kernel", NCCL_KERNELS.get(collective, "ncclDevKernel_Generic"), ts, dur, stream, None)
    event["args"].update({"Collective name": collective, "In msg nelems": in_nelems,
                          "Out msg nelems": in_nelems if out_nelems is None else out_nelems,
                          "Group size": group_size, "dtype": dtype})  # fmt: skip
    return event


def memcpy(name: str, ts: float, dur: float, nbytes: int | None, correlation: int | None = None) -> dict:
    """A copy on device 0, stream 7, named like Kineto does (`Memcpy HtoD (Pageable -> Device)`)."""
    event = _device("gpu_memcpy", name, ts, dur, 7, correlation)
    if nbytes is not None:
        event["args"]["bytes"] = nbytes
    return event


def memory(
    ts: float,
    nbytes: int,
    total: int | None = None,
    *,
    device_type: int = 1,
    device_id: int = DEVICE,
    tid: int = HOST_TID,
) -> dict:
    """A `[memory]` instant as profile_memory=True writes it: `nbytes` allocated (+) or freed (-) and,
    unless None (2021 traces), the device's `Total Allocated` after it. Device Type 0 is the CPU."""
    args: dict = {"Device Type": device_type, "Device Id": device_id, "Bytes": nbytes, "Addr": 94000000}
    if total is not None:
        args["Total Allocated"] = total
        args["Total Reserved"] = max(total, 2_097_152)
    return {"ph": "i", "cat": "cpu_instant_event", "s": "t", "name": "[memory]", "pid": HOST_PID, "tid": tid,
            "ts": ts, "args": args}  # fmt: skip


def write_trace(
    path: Path, events: list[dict], *, gz: bool = False, array_form: bool = False, header: dict | None = None
) -> Path:
    """Write events as a Kineto JSON document (or a bare array), optionally gzip-compressed; `header`
    keys (e.g. distributedInfo) go beside traceEvents."""
    document: object = events if array_form else {"schemaVersion": 1, **(header or {}), "traceEvents": events}
    text = json.dumps(document).encode()
    path.write_bytes(gzip.compress(text) if gz else text)
    return path


def _host(cat: str, name: str, ts: float, dur: float, args: dict | None = None) -> dict:
    return {"ph": "X", "cat": cat, "name": name, "pid": HOST_PID, "tid": HOST_TID, "ts": ts, "dur": dur,
            "args": args or {}}  # fmt: skip


def _device(cat: str, name: str, ts: float, dur: float, stream: int, correlation: int | None) -> dict:
    args: dict = {"device": DEVICE, "stream": stream}
    if correlation is not None:
        args["correlation"] = correlation
    return {
        "ph": "X",
        "cat": cat,
        "name": name,
        "pid": DEVICE,
        "tid": stream,
        "ts": ts,
        "dur": dur,
        "args": args,
    }
