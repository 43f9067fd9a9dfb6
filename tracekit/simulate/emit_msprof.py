"""Write a simulated timeline as a native Ascend msprof output tree (shared/docs/formats-msprof.md).

    PROF_000001_{YYYYMMDDhhmmssmmm}_{16 chars}/
    ├── device_0/info.json.0                     core counts (DeviceInfo ai_core_num, aiv_num, ...)
    └── mindstudio_profiler_output/
        ├── msprof_{YYYYMMDDhhmmss}.json         timeline: a bare JSON array of trace events
        └── op_summary_{YYYYMMDDhhmmss}.csv      one row per compute task

Timeline: pids are msprof's packed `(pid << 10) | (sort index << 5) | device`, each named by
`process_name` metadata; `CANN` holds the host calls (`AscendCL@aclrtMemcpyAsync`, `Node@launch`,
...) on one thread per instance, `Ascend Hardware` the device tasks on one thread per stream
(`Stream N`), copies as `MEMCPY_ASYNC` tasks of type `PCIE_DMA_SQE` with `operation`, `size(B)`.
A call and its task share `connection_id` and are joined by a `HostToDevice` flow. Inferences are
`ProfilerStep#N` ranges of an `MsprofTx` process. `ts` is a decimal string of µs with three
decimals, `dur` a number of µs: both exact to the nanosecond. Written as the records arrive.
A rank of a multi-rank run gets its own PROF_* tree with `profiler_info_{rank}.json` (its rank id)
and its collectives as HCCL ops (`hcom_allReduce__N_0_1`, ... with `count` and `data_type`) on
the `HCCL` process.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from tracekit.simulate.machine import FIRST_STREAM, Device
from tracekit.simulate.output import BUFFER_BYTES, atomic_directory
from tracekit.simulate.timeline import PREP_NAME, Api, Record, RecordKind, Unit
from tracekit.simulate.workload import Workload

EPOCH_NS = 1_795_219_200 * 10**9  # 2026-11-21T00:00:00Z: msprof timestamps are Unix-epoch µs
STAMP = "20261121000000"  # the files' %Y%m%d%H%M%S, matching EPOCH_NS
APP_PID = 9527
DEVICE_ID = 0
NO_MODEL = 4294967295
CANN_PID = (APP_PID << 10) | (7 << 5) | DEVICE_ID
HARDWARE_PID = (APP_PID << 10) | (13 << 5) | DEVICE_ID
TX_PID = (APP_PID << 10) | (3 << 5) | DEVICE_ID
HCCL_PID = (APP_PID << 10) | (17 << 5) | DEVICE_ID
HCCL_THREAD = 0
HCCL_OPS = {"allreduce": "allReduce", "send": "send", "recv": "receive"}
FLOAT_BYTES = 4
TASK_TYPES = {Unit.CUBE: "AI_CORE", Unit.VECTOR: "AI_VECTOR_CORE", Unit.AICPU: "AI_CPU"}
OPERATIONS = {Unit.H2D: "host to device", Unit.D2H: "device to host"}
API_CALLS = {  # name, Mode, level
    Api.LAUNCH: ("Node@launch", "launch", "node"),
    Api.MEMCPY: ("AscendCL@aclrtMemcpyAsync", "ACL_RTS", "acl"),
    Api.MEMCPY_BATCH: ("AscendCL@aclrtMemcpyBatch", "ACL_RTS", "acl"),
    Api.SYNCHRONIZE: ("AscendCL@aclrtSynchronizeStream", "ACL_RTS", "acl"),
}
OP_SUMMARY_HEADER = (
    "Device_id,Model ID,Task ID,Stream ID,Op Name,OP Type,OP State,Task Type,Task Start Time(us),"
    "Task Duration(us),Task Wait Time(us),Block Num,Mix Block Num,HF32 Eligible,Input Shapes,"
    "Input Data Types,Input Formats,Output Shapes,Output Data Types,Output Formats,Context ID\n"
)


@dataclass(frozen=True)
class MsprofRun:
    """What the tree needs besides the records: the device, the workload, batch, instances, seed."""

    device: Device
    workload: Workload
    batch: int
    instances: int
    seed: int
    rank: int | None = None  # the rank id of a multi-rank run


def prof_name(seed: int) -> str:
    """`PROF_000001_{17-digit time}_{16 chars}`; the random part comes from the seed."""
    letters = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"))
    suffix = "".join(np.random.default_rng(seed).choice(letters, 16))
    return f"PROF_000001_{STAMP}000_{suffix}"


def write_msprof(root: Path, records: Iterable[Record], run: MsprofRun) -> Path:
    """Write the PROF_* tree under `root`; returns its path."""
    target = root / prof_name(run.seed + (run.rank or 0))
    with atomic_directory(target) as tree:
        _write_device_info(tree / "device_0" / f"info.json.{DEVICE_ID}", run.device)
        if run.rank is not None:
            (tree / f"profiler_info_{run.rank}.json").write_text(json.dumps({"rank_id": run.rank}) + "\n")
        output = tree / "mindstudio_profiler_output"
        output.mkdir()
        with (
            open(output / f"msprof_{STAMP}.json", "wb", buffering=BUFFER_BYTES) as timeline,
            open(output / f"op_summary_{STAMP}.csv", "wb", buffering=BUFFER_BYTES) as summary,
        ):
            _Writer(timeline, summary, run).write(records)
    return target


def us(ns: int) -> str:
    """Nanoseconds as µs with three decimals, exactly."""
    return f"{ns // 1000}.{ns % 1000:03d}"


def _write_device_info(path: Path, device: Device) -> None:
    path.parent.mkdir(parents=True)
    info = {
        "DeviceInfo": [
            {
                "id": DEVICE_ID,
                "ai_cpu_core_num": device.aicpu_cores,
                "ai_core_num": device.cube_cores,
                "aiv_num": device.vector_cores,
                "hwts_frequency": "100",
                "aic_frequency": "1800",
                "aiv_frequency": "1800",
            }
        ],
        "pid": str(APP_PID),
    }
    path.write_text(json.dumps(info, indent=1) + "\n")


class _Writer:
    """Streams the timeline array and the op_summary rows side by side."""

    def __init__(self, timeline: BinaryIO, summary: BinaryIO, run: MsprofRun) -> None:
        self._timeline, self._summary, self._run = timeline, summary, run
        self._first = True
        self._task_ids: dict[int, int] = {}
        self._previous_end: int | None = None
        self._operators = {op.name: op for op in run.workload.operators}

    def write(self, records: Iterable[Record]) -> None:
        self._timeline.write(b"[\n")
        self._summary.write(OP_SUMMARY_HEADER.encode())
        for event in _metadata(self._run.instances, self._run.rank is not None):
            self._event(event)
        for record in records:
            self._record(record)
        self._timeline.write(b"\n]\n")

    def _event(self, text: str) -> None:
        self._timeline.write((text if self._first else ",\n" + text).encode())
        self._first = False

    def _record(self, r: Record) -> None:
        ts = f'"{us(EPOCH_NS + r.start_ns)}"'
        if r.kind in (RecordKind.STEP, RecordKind.PREP):
            name = f"ProfilerStep#{r.step}" if r.kind == RecordKind.STEP else PREP_NAME
            self._event(
                f'{{"name": "{name}", "pid": {TX_PID}, "tid": {_thread(r.instance)}, '
                f'"ts": {ts}, "dur": {us(r.dur_ns)}, "args": {{}}, "ph": "X"}}'
            )
        elif r.kind == RecordKind.API:
            self._api(r, ts)
        elif r.kind == RecordKind.COLLECTIVE:
            self._event(
                f'{{"name": "hcom_{HCCL_OPS[r.name]}__{r.correlation}_0_1", "pid": {HCCL_PID}, '
                f'"tid": {HCCL_THREAD}, "ts": {ts}, "dur": {us(r.dur_ns)}, "args": {{"connection_id": '
                f'{r.correlation}, "count": {r.nbytes // FLOAT_BYTES}, "data_type": "FP32"}}, "ph": "X"}}'
            )
        else:
            self._task(r, ts)

    def _api(self, r: Record, ts: str) -> None:
        name, mode, level = API_CALLS[Api(r.api)]
        thread = _thread(r.instance)
        link = f', "connection_id": {r.correlation}' if r.correlation >= 0 else ""
        self._event(
            f'{{"name": "{name}", "pid": {CANN_PID}, "tid": {thread}, "ts": {ts}, "dur": {us(r.dur_ns)}, '
            f'"args": {{"Thread Id": {thread}, "Mode": "{mode}", "level": "{level}", '
            f'"id": "{name.partition("@")[2]}", "item_id": "0"{link}}}, "ph": "X"}}'
        )
        if r.correlation >= 0:
            self._event(
                f'{{"name": "HostToDevice{r.correlation}", "ph": "s", "cat": "HostToDevice", '
                f'"id": "{r.correlation}", "pid": {CANN_PID}, "tid": {thread}, "ts": {ts}}}'
            )

    def _task(self, r: Record, ts: str) -> None:
        task_id = self._task_ids.get(r.stream, 0)
        self._task_ids[r.stream] = task_id + 1
        common = (
            f'"pid": {HARDWARE_PID}, "tid": {r.stream}, "ts": {ts}, "dur": {us(r.dur_ns)}, '
            f'"args": {{"Model Id": {NO_MODEL}, '
        )
        tail = (
            f'"Physic Stream Id": {r.stream}, "Task Id": {task_id}, "Batch Id": 0, '
            f'"Subtask Id": {NO_MODEL}, "connection_id": {r.correlation}'
        )
        if r.kind == RecordKind.OP:
            task_type = TASK_TYPES[r.unit]
            self._event(
                f'{{"name": {json.dumps(r.name)}, {common}"Task Type": "{task_type}", {tail}}}, "ph": "X"}}'
            )
            self._summary_row(r, task_id)
        else:
            bandwidth = r.nbytes / r.dur_ns if r.dur_ns else 0.0
            self._event(
                f'{{"name": "MEMCPY_ASYNC", {common}"Task Type": "PCIE_DMA_SQE", {tail}, '
                f'"size(B)": {r.nbytes}, "bandwidth(GB/s)": {bandwidth:.4f}, '
                f'"operation": "{OPERATIONS[r.unit]}"}}, "ph": "X"}}'
            )
        self._event(
            f'{{"name": "HostToDevice{r.correlation}", "ph": "f", "id": "{r.correlation}", "ts": {ts}, '
            f'"cat": "HostToDevice", "pid": {HARDWARE_PID}, "tid": {r.stream}, "bp": "e"}}'
        )

    def _summary_row(self, r: Record, task_id: int) -> None:
        """One op_summary row; the wait is msprof's: idle time after the previous row of the device."""
        wait = 0 if self._previous_end is None else max(0, r.start_ns - self._previous_end)
        self._previous_end = r.start_ns + r.dur_ns
        operator = self._operators[r.name]
        state = "dynamic" if operator.dynamic else "static"
        dtype = operator.dtype
        shape = f'"{self._run.batch},{r.cores}"'
        cells = (
            DEVICE_ID, NO_MODEL, task_id, r.stream, r.name, _op_type(r.name), state,
            TASK_TYPES[r.unit], f"{us(EPOCH_NS + r.start_ns)}\t", us(r.dur_ns), us(wait), r.cores, 0, "NO",
            shape, dtype, "ND", shape, dtype, "ND", "N/A",
        )  # fmt: skip
        self._summary.write((",".join(map(str, cells)) + "\n").encode())


def _op_type(name: str) -> str:
    """The operator's type: its name without the `_N` instance suffix and any `_qualifier`."""
    base = name.rsplit("_", 1)[0] if name.rsplit("_", 1)[-1].isdigit() else name
    return base.split("_", 1)[0]


def _thread(instance: int) -> int:
    return APP_PID + 1 + instance


def _metadata(instances: int, communication: bool = False) -> list[str]:
    """process_name / process_labels / process_sort_index of each layer, thread_name of each thread."""
    processes = ((CANN_PID, "CANN", "CPU", 7), (HARDWARE_PID, "Ascend Hardware", f"NPU {DEVICE_ID}", 13),
                 (TX_PID, "MsprofTx", "CPU", 3))  # fmt: skip
    events = []
    if communication:
        processes += ((HCCL_PID, "HCCL", f"NPU {DEVICE_ID}", 17),)
        events.append(_meta("thread_name", HCCL_PID, HCCL_THREAD, {"name": "Group 0 Communication"}))
    for pid, name, label, index in processes:
        events += [
            _meta("process_name", pid, 0, {"name": name}),
            _meta("process_labels", pid, 0, {"labels": label}),
            _meta("process_sort_index", pid, 0, {"sort_index": index}),
        ]
    for instance in range(instances):
        thread, stream = _thread(instance), FIRST_STREAM + instance
        events += [
            _meta("thread_name", CANN_PID, thread, {"name": f"Thread {thread}"}),
            _meta("thread_name", HARDWARE_PID, stream, {"name": f"Stream {stream}"}),
            _meta("thread_name", TX_PID, thread, {"name": f"Thread {thread}"}),
        ]
    return events


def _meta(name: str, pid: int, tid: int, args: dict) -> str:
    return json.dumps({"name": name, "pid": pid, "tid": tid, "args": args, "ph": "M"})
