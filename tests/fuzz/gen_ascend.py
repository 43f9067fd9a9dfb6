"""Bad inputs for the Ascend reader: msprof / torch_npu timelines, summary CSVs, profiler DBs, folders."""

from __future__ import annotations

import codecs
import gzip
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

from ascend_builder import (
    KERNEL_HEADER,
    PIDS,
    api,
    kernel_row,
    metadata,
    python_op,
    task,
    write_csv,
    write_json,
    write_rank,
)
from gen_gpu import BIG, RAW, damaged

Builder = Callable[[Path], None]
STEP_20 = "ProfilerStep#12345678901234567890"


# --- timeline (trace_view.json / msprof_*.json) ----------------------------------------------------


def timeline_events() -> list[dict]:
    """Two steps: a launch, an AI_CORE task and an H2D copy each (µs as decimal strings)."""
    events: list[dict] = []
    for n in range(2):
        t = 100 + n * 1000
        events += [
            python_op(f"ProfilerStep#{n + 1}", f"{t}.000", 900.0),
            api("AscendCL@aclnnAdd", f"{t + 10}.000", 5.0, connection=n + 1),
            task("aclnnAdd_AddAiCore_Add", f"{t + 50}.500", 100.0, connection=n + 1),
            task(
                "MEMCPY_ASYNC",
                f"{t + 300}.000",
                20.0,
                "MEMCPY_ASYNC",
                **{"size(B)": 4096, "operation": "H2D"},
            ),
        ]
    return events


def timeline_text(events: list[dict], raw: str = "", label: str = "NPU") -> str:
    return json.dumps(metadata(label) + events).replace(json.dumps(RAW), raw)


def timeline_edit(field: str, value: object, raw: str = "", index: int = 2) -> Builder:
    """The seed timeline with one field of event `index` (2: the first AI_CORE task) set or removed."""

    def build(path: Path) -> None:
        events = timeline_events()
        target = events[index]
        *parents, key = field.split(".")
        for parent in parents:
            target = target[parent]
        if value is None:
            target.pop(key)
        else:
            target[key] = value
        path.write_text(timeline_text(events, raw))

    return build


def timeline_files() -> dict[str, Builder]:
    """ascend_json/<case> -> builder."""
    seed = timeline_text(timeline_events())
    host_only = [e for e in timeline_events() if e["pid"] != PIDS["Ascend Hardware"]]
    return {
        "good.trace_view.json": lambda p: p.write_text(seed),
        "ts_1e308.json": timeline_edit("ts", "1e308"),
        "ts_number_1e308.json": timeline_edit("ts", 1e308),
        "pid_2p64.json": timeline_edit("pid", BIG),
        "step_20_digits.json": timeline_edit("name", STEP_20, index=0),
        "copy_size_1e300.json": timeline_edit("args.size(B)", 1e300, index=3),
        "ts_text.json": timeline_edit("ts", "abc"),
        "ts_nan.json": timeline_edit("ts", "NaN"),
        "dur_infinity.json": timeline_edit("dur", RAW, "Infinity"),
        "ts_superscript.json": timeline_edit("ts", "²"),
        "ts_1e99999999.json": timeline_edit("ts", "1e99999999"),
        "dur_number_1e99999999.json": timeline_edit("dur", RAW, "1e99999999"),
        "dur_negative.json": timeline_edit("dur", -100.0),
        "ts_missing.json": timeline_edit("ts", None),
        "stream_2p31.json": timeline_edit("args.Physic Stream Id", 2**31),
        "device_2p31.json": lambda p: p.write_text(timeline_text(timeline_events(), label=f"NPU {2**31}")),
        "truncated.json": lambda p: p.write_text(seed[: len(seed) * 2 // 3]),
        "unterminated_array.json": lambda p: p.write_text(seed.rstrip("]")),
        "gzipped_trace_view.json": lambda p: p.write_bytes(gzip.compress(seed.encode(), mtime=0)),
        "bom.json": lambda p: p.write_bytes(codecs.BOM_UTF8 + seed.encode()),
        "metadata_only.json": lambda p: p.write_text(json.dumps(metadata())),
        "host_only.json": lambda p: p.write_text(timeline_text(host_only)),
    }


# --- summary CSVs (kernel_details.csv / op_summary_*.csv) ------------------------------------------


def kernel_rows() -> list[dict[str, str]]:
    return [
        kernel_row("aclnnAdd_AddAiCore_Add", "150.500", "100.0", step="1"),
        kernel_row("aclnnMul_MulAiCore_Mul", "1150.500", "80.0", step="2"),
    ]


def csv_edit(column: str, value: str, header: list[str] = KERNEL_HEADER) -> Builder:
    """kernel_details.csv with one cell of the first row replaced (a column not in `header` is dropped)."""

    def build(path: Path) -> None:
        rows = kernel_rows()
        rows[0][column] = value
        write_csv(path, header, [{k: v for k, v in row.items() if k in header} for row in rows])

    return build


def op_summary(path: Path) -> None:
    """An op_summary with msprof's column names and a 1e308 start."""
    aliases = {"Name": "Op Name", "Type": "OP Type", "Accelerator Core": "Task Type"}
    aliases |= {"Start Time(us)": "Task Start Time(us)", "Duration(us)": "Task Duration(us)"}
    rows = kernel_rows()
    rows[0]["Start Time(us)"] = "1e308"
    header = [aliases.get(h, h) for h in KERNEL_HEADER]
    write_csv(path, header, [{aliases.get(k, k): v for k, v in row.items()} for row in rows])


def csv_files() -> dict[str, Builder]:
    """ascend_csv/<case> -> builder (each file named as msprof names it, in a folder of its own)."""
    no_name = [h for h in KERNEL_HEADER if h != "Name"]
    return {
        "good/kernel_details.csv": lambda p: write_csv(p, KERNEL_HEADER, kernel_rows()),
        "start_1e308/kernel_details.csv": csv_edit("Start Time(us)", "1e308"),
        "start_2p64/kernel_details.csv": csv_edit("Start Time(us)", str(BIG)),
        "start_text/kernel_details.csv": csv_edit("Start Time(us)", "abc"),
        "start_nan/kernel_details.csv": csv_edit("Start Time(us)", "NaN"),
        "duration_inf/kernel_details.csv": csv_edit("Duration(us)", "inf"),
        "duration_superscript/kernel_details.csv": csv_edit("Duration(us)", "²"),
        "start_1e99999999/kernel_details.csv": csv_edit("Start Time(us)", "1e99999999"),
        "duration_negative/kernel_details.csv": csv_edit("Duration(us)", "-100"),
        "block_dim_1e300/kernel_details.csv": csv_edit("Block Dim", "1e300"),
        "step_20_digits/kernel_details.csv": csv_edit("Step Id", "12345678901234567890"),
        "stream_2p64/kernel_details.csv": csv_edit("Stream ID", str(BIG + 1)),
        "shapes_without_dtypes/kernel_details.csv": csv_edit("Input Shapes", '"4,4;4,4;4,4"'),
        "missing_name/kernel_details.csv": csv_edit("Name", "", header=no_name),
        "header_only/kernel_details.csv": lambda p: write_csv(p, KERNEL_HEADER, []),
        "bom/kernel_details.csv": lambda p: p.write_bytes(
            codecs.BOM_UTF8 + _csv_bytes(KERNEL_HEADER, kernel_rows())
        ),
        "op_summary_1e308/op_summary_0_1.csv": op_summary,
    }


def _csv_bytes(header: list[str], rows: list[dict[str, str]]) -> bytes:
    lines = [",".join(header)] + [",".join(f'"{row[h]}"' for h in header) for row in rows]
    return ("\n".join(lines) + "\n").encode()


# --- profiler SQLite DB ----------------------------------------------------------------------------

DB_SCHEMA = """
CREATE TABLE STRING_IDS (id INTEGER PRIMARY KEY, value TEXT);
CREATE TABLE TASK (startNs INTEGER, endNs INTEGER, deviceId INTEGER, connectionId INTEGER,
    globalTaskId INTEGER, globalPid INTEGER, taskType INTEGER, contextId INTEGER, streamId INTEGER,
    taskId INTEGER, modelId INTEGER);
CREATE TABLE COMPUTE_TASK_INFO (name INTEGER, globalTaskId INTEGER, blockNum INTEGER,
    mixBlockNum INTEGER, taskType INTEGER, opType INTEGER, inputDataTypes INTEGER,
    inputShapes INTEGER, opState INTEGER);
CREATE TABLE MEMCPY_INFO (globalTaskId INTEGER, size INTEGER, memcpyOperation INTEGER);
CREATE TABLE CANN_API (startNs INTEGER, endNs INTEGER, type INTEGER, globalTid INTEGER,
    connectionId INTEGER, name INTEGER);
CREATE TABLE PYTORCH_API (startNs TEXT, endNs TEXT, globalTid INTEGER, connectionId INTEGER, name INTEGER);
"""
DB_STRINGS = ["KERNEL_AICORE", "MEMCPY_ASYNC", "aclnnAdd_AddAiCore_Add", "AI_CORE", "Add", "INT64",
              "8,8", "static", "aclnnAdd", "ProfilerStep#1"]  # fmt: skip


def write_db(path: Path, *statements: str) -> None:
    """A small Ascend profiler DB (one step, one kernel, one H2D copy, one CANN call), then `statements`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    db.executescript(DB_SCHEMA)
    db.executemany("INSERT INTO STRING_IDS VALUES (?, ?)", enumerate(DB_STRINGS, 1))
    db.executemany(
        "INSERT INTO TASK VALUES (?, ?, 1, ?, ?, 0, ?, 0, 2, 0, 0)",
        [(1000, 3000, 50, 10, 1), (500, 900, 51, 11, 2)],
    )
    db.execute("INSERT INTO COMPUTE_TASK_INFO VALUES (3, 10, 20, 0, 4, 5, 6, 7, 8)")
    db.execute("INSERT INTO MEMCPY_INFO VALUES (11, 1024, 1)")
    db.execute("INSERT INTO CANN_API VALUES (200, 700, 20000, ?, 50, 9)", ((77 << 32) | 78,))
    db.execute("INSERT INTO PYTORCH_API VALUES ('100', '9500', 0, 0, 10)")
    for statement in statements:
        db.execute(statement)
    db.commit()
    db.close()


def db_sql(*statements: str) -> Builder:
    return lambda path: write_db(path, *statements)


def db_files() -> dict[str, Builder]:
    """ascend_db/<case> -> builder."""
    t = "UPDATE TASK SET"
    return {
        "good.db": db_sql(),
        "start_1e308.db": db_sql(f"{t} startNs = 1e308 WHERE rowid = 1"),
        "start_2p64.db": db_sql(f"{t} startNs = '{BIG}', endNs = '{BIG}' WHERE rowid = 1"),
        "start_text.db": db_sql(f"{t} startNs = 'abc' WHERE rowid = 1"),
        "start_null.db": db_sql(f"{t} startNs = NULL WHERE rowid = 1"),
        "end_before_start.db": db_sql(f"{t} endNs = 10 WHERE rowid = 1"),
        "device_2p31.db": db_sql(f"{t} deviceId = {2**31}"),
        "task_id_null.db": db_sql(f"{t} globalTaskId = NULL, connectionId = NULL"),
        "type_text.db": db_sql(f"{t} taskType = 'abc', streamId = 'x'"),
        "block_1e300.db": db_sql("UPDATE COMPUTE_TASK_INFO SET blockNum = 1e300"),
        "copy_size_text.db": db_sql("UPDATE MEMCPY_INFO SET size = 'big', memcpyOperation = NULL"),
        "step_20_digits.db": db_sql(f"UPDATE STRING_IDS SET value = '{STEP_20}' WHERE id = 10"),
        "pytorch_start_text.db": db_sql("UPDATE PYTORCH_API SET startNs = 'soon', endNs = NULL"),
        "cann_tid_2p64.db": db_sql(f"UPDATE CANN_API SET globalTid = '{BIG}', startNs = NULL"),
        "string_id_null.db": db_sql("INSERT INTO STRING_IDS VALUES (NULL, NULL)"),
        "shapes_without_dtypes.db": db_sql("UPDATE STRING_IDS SET value = '8,8;8,8;8,8' WHERE id = 7"),
        "missing_column.db": db_sql("ALTER TABLE TASK DROP COLUMN endNs"),
        "corrupt_page.db": damaged(db_sql(), garble_page=2),
        "truncated.db": damaged(db_sql(), keep=0.6),
        "no_rows.db": db_sql("DELETE FROM TASK", "DELETE FROM CANN_API", "DELETE FROM PYTORCH_API"),
    }


# --- rank folders ------------------------------------------------------------------------------------


def rank_with(name: str, content: Builder) -> Builder:
    """A torch_npu rank folder (valid timeline) whose ASCEND_PROFILER_OUTPUT/`name` is written by
    `content`; the builder's path is the folder holding the rank."""

    def build(path: Path) -> None:
        root = write_rank(path, 0, timeline_events())
        content(root / "ASCEND_PROFILER_OUTPUT" / name)

    return build


def folder_files() -> dict[str, Builder]:
    """ascend_dir/<case> -> builder of a folder."""
    step_header = ["Step", "Computing", "Communication(Not Overlapped)", "Free", "Stage", "Bubble"]
    step_row = {"Step": "1", "Computing": "abc", "Communication(Not Overlapped)": "1e308", "Free": "NaN",
                "Stage": "inf", "Bubble": "0"}  # fmt: skip
    return {
        "good": lambda p: write_rank(p, 0, timeline_events(), kernels=kernel_rows()),
        "bad_kernel_details": rank_with("kernel_details.csv", csv_edit("Duration(us)", "abc")),
        "missing_name_column": rank_with(
            "kernel_details.csv", csv_edit("Name", "", header=[h for h in KERNEL_HEADER if h != "Name"])
        ),
        "bad_step_trace": rank_with("step_trace_time.csv", lambda f: write_csv(f, step_header, [step_row])),
        "truncated_timeline": rank_with("trace_view.json", lambda f: f.write_text(timeline_text([])[:300])),
        "bad_profiler_info": lambda p: write_json(
            write_rank(p, 0, timeline_events()) / "profiler_info_0.json", {"rank_id": BIG, "config": []}
        ),
    }
