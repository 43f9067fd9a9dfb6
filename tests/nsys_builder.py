"""Tiny Nsight Systems SQLite exports built in tests, in the real tables' shape (formats-nsys.md §A.2)."""

from __future__ import annotations

import json
import sqlite3
import struct
from pathlib import Path

PID = 4242
GLOBAL_PID = (1 << 56) | (PID << 24)  # nsys packs the pid in bits 24..47, a vm id above
GLOBAL_TID = GLOBAL_PID | PID  # the main thread: tid == pid

TABLES = {
    "StringIds": "id INTEGER PRIMARY KEY, value TEXT NOT NULL",
    "CUPTI_ACTIVITY_KIND_KERNEL": "start INT, end INT, deviceId INT, contextId INT, streamId INT, "
    "correlationId INT, globalPid INT, demangledName INT, shortName INT, gridX INT",
    "CUPTI_ACTIVITY_KIND_MEMCPY": "start INT, end INT, deviceId INT, contextId INT, streamId INT, "
    "correlationId INT, globalPid INT, bytes INT, copyKind INT, srcKind INT, dstKind INT",
    "CUPTI_ACTIVITY_KIND_MEMSET": "start INT, end INT, deviceId INT, contextId INT, streamId INT, "
    "correlationId INT, globalPid INT, value INT, bytes INT, memKind INT",
    "CUPTI_ACTIVITY_KIND_RUNTIME": "start INT, end INT, eventClass INT, globalTid INT, correlationId INT, "
    "nameId INT, returnValue INT",
    "CUPTI_ACTIVITY_KIND_GRAPH_TRACE": "start INT, end INT, deviceId INT, contextId INT, streamId INT, "
    "correlationId INT, globalPid INT, graphId INT, graphExecId INT",
    "NVTX_EVENTS": "start INT, end INT, eventType INT, rangeId INT, text TEXT, globalTid INT, textId INT",
}
HTOD, DTOH, PAGEABLE, PINNED, DEVICE = 1, 2, 0, 1, 2
NVTX_PAYLOAD_COLUMNS = ", domainId INT, jsonText TEXT, binaryData TEXT"
"""NVTX_EVENTS' payload columns (binaryData is declared TEXT in real exports and holds a BLOB)."""
NCCL_DOMAIN = 1
NCCL_SCHEMAS = [  # NVTX_PAYLOAD_SCHEMAS of nsys-ai-fixtures/h100_2gpu_1s.sqlite (each row twice there)
    (1, 16777218, None, 1, None, 4, 24, None),
    (1, 16777230, None, 1, None, 1, 8, None),
    (1, 16777220, None, 1, None, 2, 16, None),
    (1, 16777226, None, 1, None, 3, 24, None),
    (1, 16777225, None, 1, None, 3, 24, None),
    (1, 16777227, None, 1, None, 4, 24, None),
]
NCCL_SCHEMA_ENTRIES = [  # its NVTX_PAYLOAD_SCHEMA_ENTRIES: (domain, schema, idx, flags, type, name, ...)
    (1, 16777218, 0, None, 18, "NCCL communicator ID", None, None, None),
    (1, 16777218, 1, None, 5, "No. of ranks", None, None, 8),
    (1, 16777218, 2, None, 5, "Rank", None, None, 12),
    (1, 16777218, 3, None, 5, "CUDA device", None, None, 16),
    (1, 16777220, 0, None, 18, "NCCL communicator ID", None, None, None),
    (1, 16777220, 1, None, 22, "Message size [bytes]", None, None, 8),
    (1, 16777225, 0, None, 18, "NCCL communicator ID", None, None, None),
    (1, 16777225, 1, None, 22, "Message size [bytes]", None, None, 8),
    (1, 16777225, 2, None, 5, "Peer rank", None, None, 16),
    (1, 16777226, 0, None, 18, "NCCL communicator ID", None, None, None),
    (1, 16777226, 1, None, 22, "Message size [bytes]", None, None, 8),
    (1, 16777226, 2, None, 5, "Peer rank", None, None, 16),
    (1, 16777227, 0, None, 18, "NCCL communicator ID", None, None, None),
    (1, 16777227, 1, None, 5, "No. of ranks", None, None, 8),
    (1, 16777227, 2, None, 5, "Rank", None, None, 12),
    (1, 16777227, 3, None, 5, "CUDA device", None, None, 16),
    (1, 16777230, 0, None, 18, "NCCL communicator ID", None, None, None),
]
COMM_INIT, COLLECTIVE, SEND, RECV = 16777218, 16777220, 16777225, 16777226
"""Schema ids by layout: comm init (communicator, ranks, rank, device), communicator + message size,
and the two with a peer rank."""
SCHEMA_TABLES = {
    "NVTX_PAYLOAD_SCHEMAS": "domainId INTEGER, schemaId INTEGER, name TEXT, type INTEGER, flags INTEGER, "
    "numEntries INTEGER, payloadSize INTEGER, alignTo INTEGER",
    "NVTX_PAYLOAD_SCHEMA_ENTRIES": "domainId INTEGER NOT NULL, schemaId INTEGER NOT NULL, "
    "idx INTEGER NOT NULL, flags INTEGER, type INTEGER, name TEXT, description TEXT, "
    "arrayOrUnionDetail INTEGER, offset INTEGER",
}
_STRUCT_CODES = {5: "i", 18: "Q", 22: "Q"}


def payload_blob(schema_id: int, values: dict[str, int], domain: int = NCCL_DOMAIN) -> bytes:
    """A binaryData blob as nsys writes it: the 32-byte header (domain, schema, payload size, total
    size), then the payload laid out by the real schema's entries (`values` by entry name)."""
    size = next(row[6] for row in NCCL_SCHEMAS if row[1] == schema_id)
    payload = bytearray(size)
    for _, schema, _, _, kind, name, _, _, offset in NCCL_SCHEMA_ENTRIES:
        if schema == schema_id and name in values:
            struct.pack_into("<" + _STRUCT_CODES[kind], payload, offset or 0, values[name])
    return struct.pack("<QQQQ", domain, schema_id, size, 32 + size) + bytes(payload)


class Export:
    """Rows for a fake export; `write` creates only the tables that got rows (as nsys does)."""

    def __init__(self) -> None:
        self.strings: dict[str, int] = {}
        self.rows: dict[str, list[tuple]] = {}
        self.correlation = 0

    def string(self, text: str) -> int:
        return self.strings.setdefault(text, len(self.strings) + 1)

    def call(self, name: str, start: int, end: int, global_tid: int = GLOBAL_TID) -> int:
        """A CUDA API call; returns its correlation id."""
        self.correlation += 1
        row = (start, end, 0, global_tid, self.correlation, self.string(name), 0)
        self._add("CUPTI_ACTIVITY_KIND_RUNTIME", row)
        return self.correlation

    def kernel(
        self, name: str, start: int, end: int, correlation: int = 0, stream: int = 7, pid: int = GLOBAL_PID
    ):
        row = (
            start,
            end,
            0,
            1,
            stream,
            correlation,
            pid,
            self.string(name),
            self.string(name.split("<")[0]),
            1,
        )
        self._add("CUPTI_ACTIVITY_KIND_KERNEL", row)

    def memcpy(self, start: int, end: int, size: int, kind: int, src: int, dst: int, correlation: int = 0):
        row = (start, end, 0, 1, 7, correlation, GLOBAL_PID, size, kind, src, dst)
        self._add("CUPTI_ACTIVITY_KIND_MEMCPY", row)

    def memset(self, start: int, end: int, size: int, memory: int, correlation: int = 0):
        self._add(
            "CUPTI_ACTIVITY_KIND_MEMSET", (start, end, 0, 1, 7, correlation, GLOBAL_PID, 0, size, memory)
        )

    def graph(self, start: int, end: int, graph_id: int, correlation: int = 0):
        self._add(
            "CUPTI_ACTIVITY_KIND_GRAPH_TRACE", (start, end, 0, 1, 7, correlation, GLOBAL_PID, graph_id, 1)
        )

    def nvtx(self, text: str, start: int, end: int | None, event_type: int = 59):
        self._add("NVTX_EVENTS", (start, end, event_type, 0, text, GLOBAL_TID, None))

    def nvtx_payload(
        self,
        text: str,
        start: int,
        end: int | None,
        blob: bytes | None = None,
        json_text: str | None = None,
        global_tid: int = GLOBAL_TID,
    ) -> None:
        """An NVTX push/pop range with a payload (NCCL's ranges); the export then has the payload
        columns and NCCL's real schema tables."""
        row = (start, end, 59, 0, text, global_tid, None, NCCL_DOMAIN, json_text, blob)
        self._add("NVTX_EVENTS", row)
        if "NVTX_PAYLOAD_SCHEMAS" not in self.rows:
            self.table("NVTX_PAYLOAD_SCHEMAS", SCHEMA_TABLES["NVTX_PAYLOAD_SCHEMAS"], NCCL_SCHEMAS * 2)
            entries = SCHEMA_TABLES["NVTX_PAYLOAD_SCHEMA_ENTRIES"]
            self.table("NVTX_PAYLOAD_SCHEMA_ENTRIES", entries, NCCL_SCHEMA_ENTRIES * 2)

    def table(self, name: str, columns: str, rows: list[tuple]) -> None:
        """Any other table, e.g. an enum table or DIAGNOSTIC_EVENT."""
        TABLES.setdefault(name, columns)
        for row in rows:
            self._add(name, row)

    def write(self, path: Path, tables: tuple[str, ...] = ()) -> Path:
        """The export as an SQLite file; `tables` are created even when empty."""
        with sqlite3.connect(path) as db:
            self.rows["StringIds"] = [(i, s) for s, i in self.strings.items()]
            for name in {*self.rows, *tables}:
                rows = self.rows.get(name, [])
                columns = TABLES[name]
                if name == "NVTX_EVENTS" and any(len(row) > 7 for row in rows):
                    columns += NVTX_PAYLOAD_COLUMNS
                    rows = [row + (None,) * (10 - len(row)) for row in rows]
                db.execute(f"CREATE TABLE {quoted(name)} ({columns})")
                if rows:
                    marks = ", ".join("?" * len(rows[0]))
                    db.executemany(f"INSERT INTO {quoted(name)} VALUES ({marks})", rows)
        return path

    def write_json(self, path: Path) -> Path:
        """The same rows as `nsys export --type json` writes them: strings first, one event per line,
        64-bit integers as strings."""
        strings = [""] * (len(self.strings) + 1)
        for text, index in self.strings.items():
            strings[index] = text
        lines = [{"data": strings, "files": []}]
        lines += [self._json_event(table, row) for table, rows in self.rows.items() for row in rows]
        lines.append({"data": []})
        path.write_text("\n".join(json.dumps(line, separators=(",", ":")) for line in lines if line) + "\n")
        return path

    def _json_event(self, table: str, row: tuple) -> dict | None:
        if table == "CUPTI_ACTIVITY_KIND_RUNTIME":
            start, end, event_class, tid, corr, name, _ = row
            call = {
                "startNs": str(start),
                "endNs": str(end),
                "correlationId": corr,
                "eventClass": event_class,
            }
            return {"Type": 48, "TraceProcessEvent": call | {"name": str(name), "globalTid": str(tid)}}
        if table == "NVTX_EVENTS":
            start, end, event_type, _, text, tid, _ = row[:7]
            nvtx = {"Type": event_type, "Timestamp": str(start), "Text": text, "GlobalTid": str(tid)}
            return {
                "Type": event_type,
                "NvtxEvent": nvtx | ({} if end is None else {"EndTimestamp": str(end)}),
            }
        if table not in _JSON_ACTIVITY:
            return None
        start, end, device, _, stream, corr, pid = row[:7]
        common = {"startNs": str(start), "endNs": str(end), "correlationId": corr, "deviceId": device}
        common |= {"streamId": str(stream), "globalPid": str(pid)}
        event_type, detail = _JSON_ACTIVITY[table](row[7:])
        return {"Type": event_type, "CudaEvent": common | detail}

    def _add(self, table: str, row: tuple) -> None:
        self.rows.setdefault(table, []).append(row)


def two_step_export() -> Export:
    """Two NVTX steps, each: a launched kernel, a pageable async H2D, a synchronous D2H and a memset."""
    e = Export()
    for n, t in enumerate((0, 1000), 1):
        e.nvtx(f"ProfilerStep#{n}", t + 50, t + 950)
        e.kernel(
            "void gemm<float>(int)", t + 120, t + 220, e.call("cudaLaunchKernel_v7000", t + 100, t + 110)
        )
        e.memcpy(
            t + 310, t + 410, 1000, HTOD, PAGEABLE, DEVICE, e.call("cudaMemcpyAsync_v3020", t + 300, t + 305)
        )
        e.memcpy(t + 510, t + 610, 500, DTOH, DEVICE, PINNED, e.call("cudaMemcpy_v3020", t + 500, t + 700))
        e.memset(t + 810, t + 820, 64, DEVICE, e.call("cudaMemsetAsync_v3020", t + 800, t + 805))
    return e


def quoted(identifier: str) -> str:
    """An SQL identifier quoted, so tests can build tables with odd names."""
    return '"' + identifier.replace('"', '""') + '"'


_JSON_ACTIVITY = {
    "CUPTI_ACTIVITY_KIND_KERNEL": lambda r: (
        79,
        {"kernel": {"demangledName": str(r[0]), "shortName": str(r[1])}},
    ),
    "CUPTI_ACTIVITY_KIND_MEMCPY": lambda r: (
        80,
        {"memcpy": {"sizebytes": str(r[0]), "copyKind": str(r[1]), "srcKind": r[2], "dstKind": r[3]}},
    ),
    "CUPTI_ACTIVITY_KIND_MEMSET": lambda r: (
        80,
        {"memset": {"sizebytes": str(r[1]), "value": r[0], "memKind": r[2]}},
    ),
}
