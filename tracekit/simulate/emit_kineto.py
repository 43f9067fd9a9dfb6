"""Write a simulated timeline as a PyTorch-profiler (Kineto) trace, streaming, optionally gzipped.

The document has Kineto's shape: `schemaVersion`, `deviceProperties`, then `traceEvents`, one event
per line, written as the records arrive, so memory stays flat whatever the size. Host calls are
`cuda_runtime` events on one thread per instance, operators `kernel` events and copies
`gpu_memcpy` events on the instance's stream, linked by `correlation`; each inference is a
`ProfilerStep#N` annotation on its thread. Collectives are NCCL kernels on their stream with the
args Kineto copies onto them (`Collective name`, `In msg nelems`, `Out msg nelems`, `Group size`,
`dtype`), and a multi-rank trace has `distributedInfo` (rank, world size, backend) in its header.
Times are µs with three decimals: exact nanoseconds.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from tracekit.simulate.machine import Device
from tracekit.simulate.output import atomic_file
from tracekit.simulate.timeline import PREP_NAME, Api, Record, RecordKind, Unit

BASE_NS = 10**15  # 1e12 µs: far from zero like a real monotonic clock, and exact in float64 with 3 decimals
HOST_PID = 4242
DEVICE_ID = 0
API_NAMES = {
    Api.LAUNCH: "cudaLaunchKernel",
    Api.MEMCPY: "cudaMemcpyAsync",
    Api.MEMCPY_BATCH: "cudaMemcpyBatchAsync",
    Api.SYNCHRONIZE: "cudaStreamSynchronize",
}
COPY_NAMES = {
    (Unit.H2D, False): "Memcpy HtoD (Pageable -> Device)",
    (Unit.H2D, True): "Memcpy HtoD (Pinned -> Device)",
    (Unit.D2H, False): "Memcpy DtoH (Device -> Pinned)",
    (Unit.D2H, True): "Memcpy DtoH (Device -> Pinned)",
}
NCCL_KERNELS = {
    "allreduce": "ncclDevKernel_AllReduce_Sum_f32_RING_LL",
    "send": "ncclDevKernel_SendRecv",
    "recv": "ncclDevKernel_SendRecv",
}
FLOAT_BYTES = 4  # collectives carry float32 ("Float" in c10's names)


def host_tid(instance: int) -> int:
    """Thread id of an instance's host thread."""
    return HOST_PID + 1 + instance


def write_kineto(
    path: Path,
    records: Iterable[Record],
    device: Device,
    instances: int,
    *,
    batch_h2d: bool,
    gz: bool,
    distributed: dict | None = None,
) -> int:
    """Write the trace; returns the number of events written (metadata included). `distributed`:
    the rank's `distributedInfo` ({"rank", "world_size", "backend"})."""
    with atomic_file(path, gz=gz) as out:
        out.write(_header(device, distributed).encode())
        writer = _EventWriter(out, batch_h2d)
        for line in _metadata(instances):
            writer.line(line)
        for record in records:
            writer.line(writer.event(record))
        out.write(b"\n]}\n")
    return writer.count


def _header(device: Device, distributed: dict | None) -> str:
    properties = {"id": DEVICE_ID, "name": device.name, "numSms": device.cube_cores + device.vector_cores}
    head = {"schemaVersion": 1, "deviceProperties": [properties], "displayTimeUnit": "ms"}
    if distributed:
        head["distributedInfo"] = distributed
    return "\n" + json.dumps(head)[:-1] + ', "traceEvents": [\n'


def _metadata(instances: int) -> list[str]:
    lines = [
        f'{{"name": "process_name", "ph": "M", "pid": {HOST_PID}, "tid": 0, "args": {{"name": "python3"}}}}',
        f'{{"name": "process_name", "ph": "M", "pid": {DEVICE_ID}, "tid": 0, "args": {{"name": "python3"}}}}',
    ]
    lines += [
        f'{{"name": "thread_name", "ph": "M", "pid": {HOST_PID}, "tid": {host_tid(i)}, '
        f'"args": {{"name": "instance {i}"}}}}'
        for i in range(instances)
    ]
    return lines


def us(ns: int) -> str:
    """Nanoseconds as µs with three decimals, exactly."""
    return f"{ns // 1000}.{ns % 1000:03d}"


class _EventWriter:
    """Formats records as Kineto events and writes them comma-separated, one per line."""

    def __init__(self, out: BinaryIO, batch_h2d: bool) -> None:
        self._out, self._pinned = out, batch_h2d
        self._names: dict[str, str] = {}
        self.count = 0

    def line(self, text: str) -> None:
        self._out.write(((",\n" if self.count else "") + text).encode())
        self.count += 1

    def event(self, r: Record) -> str:
        ts, dur = us(BASE_NS + r.start_ns), us(r.dur_ns)
        if r.kind == RecordKind.API:
            link = f', "correlation": {r.correlation}' if r.correlation >= 0 else ""
            return (
                f'{{"ph": "X", "cat": "cuda_runtime", "name": "{API_NAMES[r.api]}", "pid": {HOST_PID}, '
                f'"tid": {host_tid(r.instance)}, "ts": {ts}, "dur": {dur}, '
                f'"args": {{"External id": {r.step}{link}}}}}'
            )
        if r.kind in (RecordKind.STEP, RecordKind.PREP):
            name = f"ProfilerStep#{r.step}" if r.kind == RecordKind.STEP else PREP_NAME
            return (
                f'{{"ph": "X", "cat": "user_annotation", "name": "{name}", "pid": {HOST_PID}, '
                f'"tid": {host_tid(r.instance)}, "ts": {ts}, "dur": {dur}, '
                f'"args": {{"External id": {r.step}}}}}'
            )
        device = (
            f'"pid": {DEVICE_ID}, "tid": {r.stream}, "ts": {ts}, "dur": {dur}, '
            f'"args": {{"External id": {r.step}, "device": {DEVICE_ID}, "stream": {r.stream}, '
            f'"correlation": {r.correlation}'
        )
        if r.kind == RecordKind.OP:
            return (
                f'{{"ph": "X", "cat": "kernel", "name": {self._name(r.name)}, {device}, '
                f'"grid": [{r.cores}, 1, 1], "block": [256, 1, 1]}}}}'
            )
        if r.kind == RecordKind.COLLECTIVE:
            nelems = r.nbytes // FLOAT_BYTES
            return (
                f'{{"ph": "X", "cat": "kernel", "name": "{NCCL_KERNELS[r.name]}", {device}, '
                f'"Collective name": "{r.name}", "In msg nelems": {nelems}, "Out msg nelems": {nelems}, '
                f'"Group size": {r.group_size}, "dtype": "Float", "grid": [1, 1, 1], "block": [512, 1, 1]}}}}'
            )
        name = COPY_NAMES[(r.unit, self._pinned)]
        bandwidth = r.nbytes / r.dur_ns if r.dur_ns else 0.0
        return (
            f'{{"ph": "X", "cat": "gpu_memcpy", "name": "{name}", {device}, "bytes": {r.nbytes}, '
            f'"memory bandwidth (GB/s)": {bandwidth:.6g}}}}}'
        )

    def _name(self, name: str) -> str:
        quoted = self._names.get(name)
        if quoted is None:
            quoted = self._names[name] = json.dumps(name)
        return quoted
