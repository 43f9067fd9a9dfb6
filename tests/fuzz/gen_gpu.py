"""Bad inputs for the GPU readers (Kineto / Chrome JSON, nsys SQLite, JSON and stats CSV), from valid seeds.

Every builder takes the output path and writes one small file; `make_corpus.py` runs them all.
"""

from __future__ import annotations

import codecs
import gzip
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

from kineto_builder import cpu_op, kernel, memcpy, memory, runtime, step
from nsys_builder import DEVICE, HTOD, PAGEABLE, Export

RAW = "__RAW__"  # a placeholder string replaced by a literal that json.dumps cannot write
BIG = 18446744073709551615  # 2**64 - 1
Builder = Callable[[Path], None]


# --- Kineto / Chrome JSON -------------------------------------------------------------------------


def kineto_events() -> list[dict]:
    """Three steps, each a launch, a kernel and a pageable H2D copy (times in µs)."""
    events: list[dict] = []
    for n in range(3):
        t = 100.0 + n * 1000
        events += [
            step(n + 1, t, 900),
            cpu_op("aten::mm", t + 10, 50, n + 1),
            runtime("cudaLaunchKernel", t + 20, 10, correlation=n + 1, external_id=n + 1),
            kernel("void gemm<float>(int)", t + 100, 200, correlation=n + 1),
            memcpy("Memcpy HtoD (Pageable -> Device)", t + 400, 50, 4096),
            memory(t + 5, 4096, 8192),
        ]
    return events


def kineto_text(events: list[dict], raw: str = "", schema: object = 1, array: bool = False) -> str:
    """The trace as JSON text; `raw` replaces the placeholder string RAW."""
    document: object = events if array else {"schemaVersion": schema, "traceEvents": events}
    return json.dumps(document).replace(json.dumps(RAW), raw)


def first(events: list[dict], cat: str) -> dict:
    return next(e for e in events if e.get("cat") == cat)


def kineto_edit(field: str, value: object, raw: str = "", cat: str = "kernel") -> Builder:
    """The seed with one field of the first `cat` event (dotted: args.x) set to `value`."""

    def build(path: Path) -> None:
        events = kineto_events()
        target = first(events, cat)
        *parents, key = field.split(".")
        for parent in parents:
            target = target[parent]
        if value is None:
            target.pop(key)
        else:
            target[key] = value
        path.write_text(kineto_text(events, raw))

    return build


def end_past_int64(path: Path) -> None:
    """A kernel whose start and duration fit in int64 ns but whose end does not."""
    events = kineto_events()
    first(events, "kernel").update(ts=9.0e15, dur=9.0e15)
    path.write_text(kineto_text(events))


def kineto_files() -> dict[str, Builder]:
    """kineto/<case> -> builder."""
    seed = kineto_text(kineto_events())
    host_only = [e for e in kineto_events() if e["pid"] != 0]
    step_name = "ProfilerStep#12345678901234567890"
    return {
        "good.json": lambda p: p.write_text(seed),
        "ts_1e308.json": kineto_edit("ts", 1e308),
        "pid_2p64.json": kineto_edit("pid", BIG),
        "step_20_digits.json": kineto_edit("name", step_name, cat="user_annotation"),
        "memory_bytes_1e300.json": kineto_edit("args.Bytes", 1e300, cat="cpu_instant_event"),
        "ts_text.json": kineto_edit("ts", "abc"),
        "ts_nan.json": kineto_edit("ts", RAW, "NaN"),
        "dur_infinity.json": kineto_edit("dur", RAW, "Infinity"),
        "dur_nan_string.json": kineto_edit("dur", "NaN"),
        "ts_superscript.json": kineto_edit("ts", "²"),
        "ts_1e99999999.json": kineto_edit("ts", RAW, "1e99999999"),
        "dur_negative.json": kineto_edit("dur", -50),
        "end_past_int64.json": end_past_int64,
        "ts_missing.json": kineto_edit("ts", None),
        "device_2p31.json": kineto_edit("args.device", 2**31),
        "name_number.json": kineto_edit("name", 12),
        "args_list.json": kineto_edit("args", []),
        "schema_999.json": lambda p: p.write_text(kineto_text(kineto_events(), schema=999)),
        "truncated.json": lambda p: p.write_text(seed[: len(seed) // 2]),
        "truncated.json.gz": lambda p: p.write_bytes(gzip.compress(seed.encode(), mtime=0)[:400]),
        "unterminated_array.json": lambda p: p.write_text(
            kineto_text(kineto_events(), array=True).rstrip("]")
        ),
        "bom.json": lambda p: p.write_bytes(codecs.BOM_UTF8 + seed.encode()),
        "empty_array.json": lambda p: p.write_text("[]"),
        "empty_events.json": lambda p: p.write_text('{"traceEvents": []}'),
        "host_only.json": lambda p: p.write_text(kineto_text(host_only)),
        "events_not_list.json": lambda p: p.write_text('{"traceEvents": 5}'),
        "events_not_objects.json": lambda p: p.write_text('{"traceEvents": [1, "x", null, []]}'),
        "not_json.json": lambda p: p.write_bytes(b"{\x00\xff garbage"),
    }


# --- nsys SQLite ----------------------------------------------------------------------------------

KERNEL = "CUPTI_ACTIVITY_KIND_KERNEL"


def nsys_export() -> Export:
    """Two NVTX steps, two kernels with their launches, one pageable H2D copy (ns)."""
    e = Export()
    e.nvtx("ProfilerStep#1", 50, 950)
    e.nvtx("ProfilerStep#2", 950, 2000)
    e.kernel("void gemm<float>(int)", 120, 220, e.call("cudaLaunchKernel_v7000", 100, 110))
    e.memcpy(310, 410, 1000, HTOD, PAGEABLE, DEVICE, e.call("cudaMemcpyAsync_v3020", 300, 305))
    e.kernel("void gemm<float>(int)", 1800, 1900, e.call("cudaLaunchKernel_v7000", 1700, 1710))
    return e


def nsys_sql(*statements: str) -> Builder:
    """The seed export with SQL statements applied."""

    def build(path: Path) -> None:
        nsys_export().write(path)
        with sqlite3.connect(path) as db:
            for statement in statements:
                db.execute(statement)
        db.close()

    return build


def damaged(build: Builder, keep: float = 1.0, garble_page: int = 0) -> Builder:
    """A file cut to a share of its size, or with one 4 KiB page overwritten."""

    def damage(path: Path) -> None:
        build(path)
        data = bytearray(path.read_bytes())
        if garble_page:
            start = 4096 * garble_page
            data[start : start + 4096] = bytes((i * 37) % 251 for i in range(4096))[: len(data) - start]
        path.write_bytes(bytes(data[: int(len(data) * keep)]))

    return damage


def host_only_export(path: Path) -> None:
    e = Export()
    e.call("cudaMalloc_v3020", 100, 200)
    e.call("cudaFree_v3020", 300, 400)
    e.write(path)


def nsys_files() -> dict[str, Builder]:
    """nsys/<case> -> builder."""
    k = f"UPDATE {KERNEL} SET"
    enum = "CREATE TABLE ENUM_CUDA_MEMCPY_OPER (id INT, name TEXT, label TEXT)"
    gpu = "CREATE TABLE TARGET_INFO_GPU (id INT, name TEXT, smCount INT, memoryBandwidth INT, clockRate INT)"
    return {
        "good.sqlite": nsys_sql(),
        "start_1e308.sqlite": nsys_sql(f"{k} start = 1e308 WHERE rowid = 1"),
        "start_2p64.sqlite": nsys_sql(f"{k} start = '{BIG}', end = '{BIG}' WHERE rowid = 1"),
        "pid_2p64.sqlite": nsys_sql(f"{k} globalPid = '{BIG}'"),
        "start_text.sqlite": nsys_sql(f"{k} start = 'abc' WHERE rowid = 1"),
        "start_null.sqlite": nsys_sql(f"{k} start = NULL WHERE rowid = 1"),
        "end_before_start.sqlite": nsys_sql(f"{k} end = start - 50 WHERE rowid = 1"),
        "end_int64_max.sqlite": nsys_sql(f"UPDATE CUPTI_ACTIVITY_KIND_MEMCPY SET end = {2**63 - 1}"),
        "device_2p31.sqlite": nsys_sql(f"{k} deviceId = {2**31}"),
        "name_id_unknown.sqlite": nsys_sql(f"{k} demangledName = 9999, shortName = 'x'"),
        "missing_column.sqlite": nsys_sql(f"ALTER TABLE {KERNEL} DROP COLUMN end"),
        "corrupt_page.sqlite": damaged(nsys_sql(), garble_page=3),
        "truncated.sqlite": damaged(nsys_sql(), keep=0.5),
        "analysis_details_null.sqlite": nsys_sql(
            "CREATE TABLE ANALYSIS_DETAILS (startTime INT, stopTime INT)",
            "INSERT INTO ANALYSIS_DETAILS VALUES (NULL, NULL)",
        ),
        "enum_null_id.sqlite": nsys_sql(
            enum, "INSERT INTO ENUM_CUDA_MEMCPY_OPER VALUES (NULL, 'CUDA_MEMCPY_KIND_HTOD', 'HtoD')"
        ),
        "target_info_blob.sqlite": nsys_sql(
            gpu, "INSERT INTO TARGET_INFO_GPU VALUES (0, x'00ff10', 132, 1, 1)"
        ),
        "schema_99.sqlite": nsys_sql(
            "CREATE TABLE META_DATA_EXPORT (name TEXT, value TEXT)",
            "INSERT INTO META_DATA_EXPORT VALUES ('EXPORT_SCHEMA_VERSION', '99')",
        ),
        "quoted_table_name.sqlite": nsys_sql("""CREATE TABLE "odd'name" (a INT)"""),
        "no_events.sqlite": lambda p: Export().write(p),
        "host_only.sqlite": host_only_export,
    }


# --- nsys JSON export ------------------------------------------------------------------------------


def nsys_json_edit(field: str, value: object, raw: str = "") -> Builder:
    """The seed's JSON export with one field of the first kernel's CudaEvent changed (None: removed)."""

    def build(path: Path) -> None:
        nsys_export().write_json(path)
        lines = [json.loads(line) for line in path.read_text().splitlines()]
        event = next(line["CudaEvent"] for line in lines if "kernel" in line.get("CudaEvent", {}))
        if value is None:
            event.pop(field)
        else:
            event[field] = value
        text = "\n".join(json.dumps(line, separators=(",", ":")) for line in lines) + "\n"
        path.write_text(text.replace(json.dumps(RAW), raw))

    return build


def nsys_json_files() -> dict[str, Builder]:
    """nsys_json/<case> -> builder."""

    def seed(path: Path) -> None:
        nsys_export().write_json(path)

    def cut(path: Path) -> None:
        seed(path)
        path.write_text(path.read_text()[:-120])

    return {
        "good.json": seed,
        "start_1e308.json": nsys_json_edit("startNs", 1e308),
        "start_2p64.json": nsys_json_edit("startNs", str(BIG)),
        "start_text.json": nsys_json_edit("startNs", "abc"),
        "start_nan.json": nsys_json_edit("startNs", RAW, "NaN"),
        "start_1e99999999.json": nsys_json_edit("startNs", RAW, "1e99999999"),
        "start_missing.json": nsys_json_edit("startNs", None),
        "end_before_start.json": nsys_json_edit("endNs", "20"),
        "device_2p31.json": nsys_json_edit("deviceId", 2**31),
        "truncated.json": cut,
        "strings_only.json": lambda p: p.write_text('{"data":["","k"],"files":[]}\n'),
    }


# --- nsys stats CSV (cuda_gpu_trace) ---------------------------------------------------------------

CSV_HEADER = "Start (ns),Duration (ns),CorrId,Bytes (MB),SrcMemKd,DstMemKd,Device,Strm,Name"
CSV_ROWS = [
    "1500,2250,11,,,,NVIDIA H100 (0),7,void gemm<float>(int)",
    "5000,1000,12,0.004,Pageable,Device,NVIDIA H100 (0),7,[CUDA memcpy Host-to-Device]",
    "9000,2250,13,,,,NVIDIA H100 (0),7,void gemm<float>(int)",
]


def csv_edit(column: str, value: str, header: str = CSV_HEADER, row: int = 0) -> Builder:
    """The seed CSV with one cell of the first kernel (or of `row`) replaced."""

    def build(path: Path) -> None:
        index = CSV_HEADER.split(",").index(column)
        rows = [r.split(",") for r in CSV_ROWS]
        rows[row][index] = value
        path.write_text("\n".join([header, *(",".join(r) for r in rows)]) + "\n")

    return build


def reordered(path: Path) -> None:
    order = [8, 0, 1, 2, 3, 4, 5, 6, 7]
    lines = [line.split(",") for line in [CSV_HEADER, *CSV_ROWS]]
    path.write_text("\n".join(",".join(line[i] for i in order) for line in lines) + "\n")


def nsys_csv_files() -> dict[str, Builder]:
    """nsys_csv/<case> -> builder."""
    seed = "\n".join([CSV_HEADER, *CSV_ROWS]) + "\n"
    return {
        "good_cuda_gpu_trace.csv": lambda p: p.write_text(seed),
        "start_1e308.csv": csv_edit("Start (ns)", "1e308"),
        "start_2p64.csv": csv_edit("Start (ns)", str(BIG)),
        "start_text.csv": csv_edit("Start (ns)", "abc"),
        "start_nan.csv": csv_edit("Start (ns)", "NaN"),
        "duration_inf.csv": csv_edit("Duration (ns)", "inf"),
        "duration_superscript.csv": csv_edit("Duration (ns)", "²"),
        "start_1e99999999.csv": csv_edit("Start (ns)", "1e99999999"),
        "duration_negative.csv": csv_edit("Duration (ns)", "-2250"),
        "bytes_1e300.csv": csv_edit("Bytes (MB)", "1e300", row=1),
        "device_2p31.csv": csv_edit("Device", f"NVIDIA H100 ({2**31})"),
        "columns_reordered.csv": reordered,
        "missing_duration.csv": lambda p: p.write_text(seed.replace("Duration (ns),", "Dur,")),
        "header_only.csv": lambda p: p.write_text(CSV_HEADER + "\n"),
        "bom.csv": lambda p: p.write_bytes(codecs.BOM_UTF8 + seed.encode()),
    }
