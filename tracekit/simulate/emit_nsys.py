"""Write a simulated timeline as an Nsight Systems SQLite export (schema 3.20, nsys 2025.3).

Tables and columns follow shared/docs/formats-nsys.md §A.2: strings interned in `StringIds`;
`CUPTI_ACTIVITY_KIND_KERNEL` (collectives too: NCCL kernels, whose sizes an export does not carry),
`_MEMCPY` (copyKind 1 HtoD / 2 DtoH, nsys memory kinds 0 pageable, 1 pinned, 2 device) and
`_RUNTIME` (API names with their `_vNNNN` suffix), joined by `correlationId`; each inference an
`NVTX_EVENTS` push/pop range `ProfilerStep#N` (eventType 59) on its thread; `TARGET_INFO_GPU`,
`TARGET_INFO_SESSION_START_TIME`, `ANALYSIS_DETAILS`, `PROCESSES`, `ThreadNames`, `META_DATA_EXPORT`
and the two enum tables readers fall back on. Times are integer ns on the session clock. Rows go in
with `executemany` in chunks as the records arrive.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

from tracekit.simulate.emit_kineto import NCCL_KERNELS
from tracekit.simulate.machine import Device
from tracekit.simulate.output import bulk_database
from tracekit.simulate.timeline import PREP_NAME, Api, Record, RecordKind, Unit

SESSION_START_NS = 1_795_219_200 * 10**9  # 2026-11-21T00:00:00Z
OFFSET_NS = 500_000_000  # the first simulated event, on the session clock
PID = 9527
GLOBAL_PID = (1 << 48) | (PID << 24)
CHUNK = 50_000
API_NAMES = {
    Api.LAUNCH: "cudaLaunchKernel_v7000",
    Api.MEMCPY: "cudaMemcpyAsync_v3020",
    Api.MEMCPY_BATCH: "cudaMemcpyBatchAsync_v12080",
    Api.SYNCHRONIZE: "cudaStreamSynchronize_v3020",
}
PAGEABLE, PINNED, DEVICE = 0, 1, 2
HTOD, DTOH = 1, 2

SCHEMA = """
CREATE TABLE StringIds (id INTEGER NOT NULL PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE ENUM_CUDA_MEMCPY_OPER (id INTEGER NOT NULL PRIMARY KEY, name TEXT, label TEXT);
CREATE TABLE ENUM_CUDA_MEM_KIND (id INTEGER NOT NULL PRIMARY KEY, name TEXT, label TEXT);
CREATE TABLE META_DATA_EXPORT (name TEXT NOT NULL, value TEXT);
CREATE TABLE TARGET_INFO_SESSION_START_TIME (utcEpochNs INTEGER, utcTime TEXT, localTime TEXT);
CREATE TABLE ANALYSIS_DETAILS (globalVid INTEGER NOT NULL, duration INTEGER NOT NULL,
    startTime INTEGER NOT NULL, stopTime INTEGER NOT NULL);
CREATE TABLE PROCESSES (globalPid INTEGER, pid INTEGER, name TEXT);
CREATE TABLE ThreadNames (nameId INTEGER NOT NULL, priority INTEGER, globalTid INTEGER);
CREATE TABLE TARGET_INFO_GPU (vmId INTEGER NOT NULL, id INTEGER NOT NULL, name TEXT, busLocation TEXT,
    isDiscrete INTEGER, l2CacheSize INTEGER, totalMemory INTEGER, memoryBandwidth INTEGER,
    clockRate INTEGER, smCount INTEGER, pwGpuId INTEGER, uuid TEXT, luid INTEGER, chipName TEXT,
    cuDevice INTEGER, ctxswDevPath TEXT, ctrlDevPath TEXT, revision INTEGER, nodeMask INTEGER,
    constantMemory INTEGER, maxIPC INTEGER, maxRegistersPerBlock INTEGER, maxShmemPerBlock INTEGER,
    maxShmemPerBlockOptin INTEGER, maxShmemPerSm INTEGER, maxRegistersPerSm INTEGER,
    threadsPerWarp INTEGER, asyncEngines INTEGER, maxWarpsPerSm INTEGER, maxBlocksPerSm INTEGER,
    maxThreadsPerBlock INTEGER, maxBlockDimX INTEGER, maxBlockDimY INTEGER, maxBlockDimZ INTEGER,
    maxGridDimX INTEGER, maxGridDimY INTEGER, maxGridDimZ INTEGER, computeMajor INTEGER,
    computeMinor INTEGER, smMajor INTEGER, smMinor INTEGER);
CREATE TABLE CUPTI_ACTIVITY_KIND_RUNTIME (start INTEGER NOT NULL, end INTEGER NOT NULL,
    eventClass INTEGER NOT NULL, globalTid INTEGER, correlationId INTEGER, nameId INTEGER NOT NULL,
    returnValue INTEGER NOT NULL, callchainId INTEGER);
CREATE TABLE CUPTI_ACTIVITY_KIND_KERNEL (start INTEGER NOT NULL, end INTEGER NOT NULL,
    deviceId INTEGER NOT NULL, contextId INTEGER NOT NULL, greenContextId INTEGER,
    streamId INTEGER NOT NULL, correlationId INTEGER, globalPid INTEGER, demangledName INTEGER NOT NULL,
    shortName INTEGER NOT NULL, mangledName INTEGER, launchType INTEGER, cacheConfig INTEGER,
    registersPerThread INTEGER NOT NULL, gridX INTEGER NOT NULL, gridY INTEGER NOT NULL,
    gridZ INTEGER NOT NULL, blockX INTEGER NOT NULL, blockY INTEGER NOT NULL, blockZ INTEGER NOT NULL,
    staticSharedMemory INTEGER NOT NULL, dynamicSharedMemory INTEGER NOT NULL,
    localMemoryPerThread INTEGER NOT NULL, localMemoryTotal INTEGER NOT NULL, gridId INTEGER NOT NULL,
    sharedMemoryExecuted INTEGER, graphNodeId INTEGER, sharedMemoryLimitConfig INTEGER);
CREATE TABLE CUPTI_ACTIVITY_KIND_MEMCPY (start INTEGER NOT NULL, end INTEGER NOT NULL,
    deviceId INTEGER NOT NULL, contextId INTEGER NOT NULL, greenContextId INTEGER,
    streamId INTEGER NOT NULL, correlationId INTEGER, globalPid INTEGER, bytes INTEGER NOT NULL,
    copyKind INTEGER NOT NULL, deprecatedSrcId INTEGER, srcKind INTEGER, dstKind INTEGER,
    srcDeviceId INTEGER, srcContextId INTEGER, dstDeviceId INTEGER, dstContextId INTEGER,
    migrationCause INTEGER, graphNodeId INTEGER, virtualAddress INTEGER, copyCount INTEGER);
CREATE TABLE NVTX_EVENTS (start INTEGER NOT NULL, end INTEGER, eventType INTEGER NOT NULL,
    rangeId INTEGER, category INTEGER, color INTEGER, text TEXT, globalTid INTEGER,
    endGlobalTid INTEGER, textId INTEGER, domainId INTEGER, uint64Value INTEGER, int64Value INTEGER,
    doubleValue REAL, uint32Value INTEGER, int32Value INTEGER, floatValue REAL, jsonTextId INTEGER,
    jsonText TEXT, binaryData TEXT);
"""
MEMCPY_KINDS = [
    (0, "CUDA_MEMCPY_KIND_UNKNOWN", "Unknown"),
    (1, "CUDA_MEMCPY_KIND_HTOD", "Host-to-Device"),
    (2, "CUDA_MEMCPY_KIND_DTOH", "Device-to-Host"),
    (8, "CUDA_MEMCPY_KIND_DTOD", "Device-to-Device"),
]
MEMORY_KINDS = [
    (0, "CUDA_MEMOPR_MEMORY_KIND_PAGEABLE", "Pageable"),
    (1, "CUDA_MEMOPR_MEMORY_KIND_PINNED", "Pinned"),
    (2, "CUDA_MEMOPR_MEMORY_KIND_DEVICE", "Device"),
    (7, "CUDA_MEMOPR_MEMORY_KIND_UNKNOWN", "Unknown"),
]
_INSERTS = {
    "CUPTI_ACTIVITY_KIND_RUNTIME": 8,
    "CUPTI_ACTIVITY_KIND_KERNEL": 28,
    "CUPTI_ACTIVITY_KIND_MEMCPY": 21,
    "NVTX_EVENTS": 20,
}


def global_tid(instance: int) -> int:
    """nsys' packed thread id of an instance's host thread (PID in bits 24-47, TID below)."""
    return GLOBAL_PID | (PID + 1 + instance)


def write_nsys(
    path: Path, records: Iterable[Record], device: Device, instances: int, *, batch_h2d: bool
) -> int:
    """Write the SQLite export; returns the number of activity rows."""
    with bulk_database(path, SCHEMA) as db:
        rows = _Rows(db, batch_h2d)
        for record in records:
            rows.add(record)
        threads = [(rows.string(f"instance {i}"), 0, global_tid(i)) for i in range(instances)]
        rows.flush()
        _describe(db, rows, device, threads)
    return rows.count


class _Rows:
    """Buffers rows per table and interns strings; flushes with executemany every CHUNK rows."""

    def __init__(self, db: sqlite3.Connection, batch_h2d: bool) -> None:
        self._db, self._pinned = db, batch_h2d
        self._buffers: dict[str, list[tuple]] = {table: [] for table in _INSERTS}
        self.strings: dict[str, int] = {}
        self.count = 0
        self.first, self.last = None, 0

    def string(self, value: str) -> int:
        code = self.strings.get(value)
        if code is None:
            code = self.strings[value] = len(self.strings) + 1
        return code

    def add(self, r: Record) -> None:
        start = OFFSET_NS + r.start_ns
        end = start + r.dur_ns
        self.first = start if self.first is None else min(self.first, start)
        self.last = max(self.last, end)
        if r.kind == RecordKind.API:
            correlation = r.correlation if r.correlation >= 0 else None
            row = (
                start,
                end,
                0,
                global_tid(r.instance),
                correlation,
                self.string(API_NAMES[Api(r.api)]),
                0,
                None,
            )
            self._put("CUPTI_ACTIVITY_KIND_RUNTIME", row)
        elif r.kind in (RecordKind.STEP, RecordKind.PREP):
            text = f"ProfilerStep#{r.step}" if r.kind == RecordKind.STEP else PREP_NAME
            row = (start, end, 59, None, None, None, text, global_tid(r.instance))
            self._put("NVTX_EVENTS", row + (None,) * 12)
        elif r.kind in (RecordKind.OP, RecordKind.COLLECTIVE):
            name = self.string(NCCL_KERNELS[r.name] if r.kind == RecordKind.COLLECTIVE else r.name)
            row = (start, end, 0, 1, None, r.stream, r.correlation, GLOBAL_PID, name, name, None, 1, 0, 32,
                   r.cores, 1, 1, 256, 1, 1, 0, 0, 0, 0, r.correlation, 0, None, 0)  # fmt: skip
            self._put("CUPTI_ACTIVITY_KIND_KERNEL", row)
        else:
            self._put("CUPTI_ACTIVITY_KIND_MEMCPY", self._copy(r, start, end))

    def _copy(self, r: Record, start: int, end: int) -> tuple:
        host = PINNED if self._pinned or r.unit == Unit.D2H else PAGEABLE
        kind, src, dst = (HTOD, host, DEVICE) if r.unit == Unit.H2D else (DTOH, DEVICE, PINNED)
        return (start, end, 0, 1, None, r.stream, r.correlation, GLOBAL_PID, r.nbytes, kind, None, src, dst,
                0, 1, 0, 1, 0, None, None, 1)  # fmt: skip

    def _put(self, table: str, row: tuple) -> None:
        buffer = self._buffers[table]
        buffer.append(row)
        self.count += 1
        if len(buffer) >= CHUNK:
            self._write(table)

    def flush(self) -> None:
        for table in self._buffers:
            self._write(table)
        self._db.executemany("INSERT INTO StringIds VALUES (?, ?)", [(c, v) for v, c in self.strings.items()])

    def _write(self, table: str) -> None:
        buffer = self._buffers[table]
        if buffer:
            marks = ", ".join("?" * _INSERTS[table])
            self._db.executemany(f"INSERT INTO {table} VALUES ({marks})", buffer)
            buffer.clear()


def _describe(db: sqlite3.Connection, rows: _Rows, device: Device, threads: list[tuple]) -> None:
    """Session, process, thread, GPU and export metadata."""
    db.executemany("INSERT INTO ENUM_CUDA_MEMCPY_OPER VALUES (?, ?, ?)", MEMCPY_KINDS)
    db.executemany("INSERT INTO ENUM_CUDA_MEM_KIND VALUES (?, ?, ?)", MEMORY_KINDS)
    db.execute(
        "INSERT INTO TARGET_INFO_SESSION_START_TIME VALUES (?, ?, ?)",
        (SESSION_START_NS, "2026-11-21T00:00:00", "2026-11-21T00:00:00"),
    )
    first = rows.first or 0
    db.execute(
        "INSERT INTO ANALYSIS_DETAILS VALUES (?, ?, ?, ?)", (1 << 48, rows.last - first, first, rows.last)
    )
    db.execute("INSERT INTO PROCESSES VALUES (?, ?, ?)", (GLOBAL_PID, PID, "python3"))
    db.executemany("INSERT INTO ThreadNames VALUES (?, ?, ?)", threads)
    gpu = [1 << 48, 0, device.name, "0000:01:00.0", 1, 0, 0, 0, 0, device.cube_cores + device.vector_cores]
    db.execute(f"INSERT INTO TARGET_INFO_GPU VALUES ({', '.join('?' * 41)})", gpu + [None] * 31)
    meta = [
        ("EXPORT_PRODUCT_NAME", "NVIDIA Nsight Systems"),
        ("EXPORT_PRODUCT_VERSION", "2025.3.2.0"),
        ("EXPORT_SCHEMA_VERSION", "3.20.3"),
        ("EXPORT_PARAM_INPUT_FILE", "tracekit-simulate"),
    ]
    db.executemany("INSERT INTO META_DATA_EXPORT VALUES (?, ?)", meta)
