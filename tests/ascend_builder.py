"""Build tiny Ascend profiler outputs in tests: timelines (µs as decimal strings), CSVs, rank dirs.

The pids are deliberately not msprof's packed numbers: readers must map processes by name.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

PIDS = {"Python": 7, "CANN": 5, "Ascend Hardware": 3, "HCCL": 9, "Overlap Analysis": 11, "QoS": 13}
HOST_TID = 42

KERNEL_HEADER = [
    "Step Id",
    "Model ID",
    "Task ID",
    "Stream ID",
    "Name",
    "Type",
    "OP State",
    "Accelerator Core",
    "Start Time(us)",
    "Duration(us)",
    "Wait Time(us)",
    "Block Dim",
    "Mix Block Dim",
    "Input Shapes",
    "Input Data Types",
]
STEP_TRACE_HEADER = [
    "Step",
    "Computing",
    "Communication(Not Overlapped)",
    "Overlapped",
    "Communication",
    "Free",
    "Stage",
    "Bubble",
    "Communication(Not Overlapped and Exclude Receive)",
    "Preparing",
]


def metadata(device_label: str = "NPU") -> list[dict]:
    """process_name / process_labels / thread_name metadata for the standard layers."""
    events: list[dict] = []
    for name, pid in PIDS.items():
        events.append({"ph": "M", "name": "process_name", "pid": pid, "tid": 0, "args": {"name": name}})
        label = "CPU" if name in ("Python", "CANN") else device_label
        events.append({"ph": "M", "name": "process_labels", "pid": pid, "tid": 0, "args": {"labels": label}})
    events.append(
        {
            "ph": "M",
            "name": "thread_name",
            "pid": PIDS["HCCL"],
            "tid": 0,
            "args": {"name": "Group 0 Communication"},
        }
    )
    events.append(
        {"ph": "M", "name": "thread_name", "pid": PIDS["HCCL"], "tid": 1, "args": {"name": "Plane 0"}}
    )
    return events


def task(
    name: str,
    ts: str,
    dur: float,
    task_type: str = "AI_CORE",
    stream: int = 2,
    connection: int | None = None,
    **extra: object,
) -> dict:
    """A device task on Ascend Hardware (new format: Physic Stream Id)."""
    args: dict = {"Model Id": 4294967295, "Task Type": task_type, "Physic Stream Id": stream, "Task Id": 1}
    if connection is not None:
        args["connection_id"] = connection
    args.update(extra)
    return {
        "name": name,
        "pid": PIDS["Ascend Hardware"],
        "tid": stream,
        "ts": ts,
        "dur": dur,
        "args": args,
        "ph": "X",
    }


def api(name: str, ts: str, dur: float, connection: int | None = None) -> dict:
    """A CANN API call (`AscendCL@...`, `Node@launch`) on the host thread."""
    args: dict = {"Thread Id": HOST_TID}
    if connection is not None:
        args["connection_id"] = connection
    return {"name": name, "pid": PIDS["CANN"], "tid": HOST_TID, "ts": ts, "dur": dur, "args": args, "ph": "X"}


def python_op(name: str, ts: str, dur: float) -> dict:
    """A framework operator (or ProfilerStep#N) in the Python layer."""
    return {
        "ph": "X",
        "name": name,
        "pid": PIDS["Python"],
        "tid": HOST_TID,
        "ts": ts,
        "dur": dur,
        "cat": "cpu_op",
        "args": {},
    }


def collective(name: str, ts: str, dur: float, connection: int | None = None, plane: bool = False) -> dict:
    """A collective on the HCCL layer (group thread), or one of its sub-tasks on a plane."""
    args = {} if connection is None else {"connection_id": connection}
    return {
        "name": name,
        "pid": PIDS["HCCL"],
        "tid": 1 if plane else 0,
        "ts": ts,
        "dur": dur,
        "args": args,
        "ph": "X",
    }


def overlap(name: str, ts: str, dur: float) -> dict:
    """An Overlap Analysis event: Computing, Communication, Communication(Not Overlapped), Free."""
    tid = ["Computing", "Communication", "Communication(Not Overlapped)", "Free"].index(name)
    return {"name": name, "pid": PIDS["Overlap Analysis"], "tid": tid, "ts": ts, "dur": dur, "ph": "X"}


def flow(connection: int, ts_host: str, ts_device: str) -> list[dict]:
    """The HostToDevice launch arrow msprof draws from a CANN call to its device task (not a copy)."""
    name = f"HostToDevice{connection}"
    return [
        {
            "name": name,
            "ph": "s",
            "cat": "HostToDevice",
            "id": str(connection),
            "pid": PIDS["CANN"],
            "tid": HOST_TID,
            "ts": ts_host,
        },
        {
            "name": name,
            "ph": "f",
            "cat": "HostToDevice",
            "id": str(connection),
            "pid": PIDS["Ascend Hardware"],
            "tid": 2,
            "ts": ts_device,
            "bp": "e",
        },
    ]


def write_json(path: Path, value: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value))
    return path


def write_timeline(path: Path, events: list[dict], device_label: str = "NPU") -> Path:
    """A bare JSON array, metadata first, as msprof and torch_npu write it."""
    return write_json(path, metadata(device_label) + events)


def kernel_row(
    name: str,
    start: str,
    dur: str,
    core: str = "AI_CORE",
    op_type: str = "",
    state: str = "static",
    wait: str = "0",
    block: str = "8",
    dtypes: str = "FLOAT",
    shapes: str = "4,4",
    step: str = "1",
    stream: str = "2",
) -> dict[str, str]:
    """One kernel_details row; the start gets msprof's trailing TAB, shapes torch_npu's extra quotes."""
    return {
        "Step Id": step,
        "Model ID": "4294967295",
        "Task ID": "1",
        "Stream ID": stream,
        "Name": name,
        "Type": op_type or name,
        "OP State": state,
        "Accelerator Core": core,
        "Start Time(us)": f"{start}\t",
        "Duration(us)": dur,
        "Wait Time(us)": wait,
        "Block Dim": block,
        "Mix Block Dim": "0",
        "Input Shapes": f'"{shapes}"',
        "Input Data Types": dtypes,
    }


def write_csv(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def step_trace_row(
    step: int,
    computing: str,
    not_overlapped: str,
    communication: str,
    free: str,
    stage: str,
    bubble: str = "0",
    preparing: str = "0",
) -> dict[str, str]:
    """One step_trace_time.csv row (µs)."""
    return {
        "Step": str(step),
        "Computing": computing,
        "Communication(Not Overlapped)": not_overlapped,
        "Overlapped": "0",
        "Communication": communication,
        "Free": free,
        "Stage": stage,
        "Bubble": bubble,
        "Communication(Not Overlapped and Exclude Receive)": not_overlapped,
        "Preparing": preparing,
    }


def write_rank(
    parent: Path,
    rank: int,
    events: list[dict],
    kernels: list[dict[str, str]] | None = None,
    step_trace: list[dict[str, str]] | None = None,
    device_info: dict | None = None,
) -> Path:
    """A torch_npu rank directory `rank{N}_ascend_pt/` with ASCEND_PROFILER_OUTPUT/ and profiler_info."""
    root = parent / f"rank{rank}_ascend_pt"
    output = root / "ASCEND_PROFILER_OUTPUT"
    write_timeline(output / "trace_view.json", events)
    write_json(root / f"profiler_info_{rank}.json", {"rank_id": rank, "config": {}})
    if kernels is not None:
        write_csv(output / "kernel_details.csv", KERNEL_HEADER, kernels)
    if step_trace is not None:
        write_csv(output / "step_trace_time.csv", STEP_TRACE_HEADER, step_trace)
    if device_info is not None:
        write_json(
            root / "PROF_000001_20250101000000000_ABCDEFGHIJKLMNOP" / "device_0" / "data" / "info.json.0",
            {"DeviceInfo": [device_info]},
        )
    return root


# --- profiler databases (ascend_pytorch_profiler_*.db, msprof_*.db) ---------------------------------

DB_TABLES = {
    "STRING_IDS": "id INTEGER PRIMARY KEY, value TEXT",
    "TASK": "startNs, endNs, deviceId, connectionId, globalTaskId, globalPid, taskType, contextId, streamId, "
    "taskId, modelId",
    "COMPUTE_TASK_INFO": "name, globalTaskId, blockNum, mixBlockNum, taskType, opType, inputDataTypes, "
    "inputShapes, opState, waitNs",
    "MEMCPY_INFO": "globalTaskId, size, memcpyOperation",
    "CANN_API": "startNs, endNs, type, globalTid, connectionId, name",
    "ENUM_API_TYPE": "id INTEGER PRIMARY KEY, name TEXT",
    "PYTORCH_API": "startNs TEXT, endNs TEXT, globalTid, connectionId, name",  # torch_npu's text times
    "COMMUNICATION_OP": "opName, startNs, endNs, connectionId",
    "OVERLAP_ANALYSIS": "id INTEGER PRIMARY KEY, deviceId, startNs, endNs, type",
    "STEP_TIME": "id, startNs, endNs",
    "NPU_INFO": "id, name",
    "RANK_DEVICE_MAP": "rankId, deviceId",
}
"""Tables of a torch_npu profiler DB with the columns the reader reads (formats-msprof.md §DB). The
event columns are declared without a type, so each cell keeps the SQLite type it was given (the
real DBs declare INTEGER, which turns texts of digits into integers)."""


class ProfilerDb:
    """Rows for a fake profiler DB; strings are interned in STRING_IDS (`string`)."""

    def __init__(self) -> None:
        self.strings: dict[str, int] = {}
        self.rows: dict[str, list[tuple]] = {}

    def string(self, text: str) -> int:
        return self.strings.setdefault(text, len(self.strings) + 1)

    def add(self, table: str, *row: object) -> None:
        """One row of `table`, its values in the order of DB_TABLES (strings as given: use `string`
        for ids)."""
        self.rows.setdefault(table, []).append(row)

    def write(self, path: Path, tables: dict[str, str] | None = None) -> Path:
        """The DB as a file: STRING_IDS and TASK always, the other tables when they got rows."""
        import sqlite3

        schema = {**DB_TABLES, **(tables or {})}
        path.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(path) as db:
            self.rows.setdefault("TASK", [])
            self.rows["STRING_IDS"] = [(i, s) for s, i in self.strings.items()]
            for name, rows in self.rows.items():
                db.execute(f"CREATE TABLE {name} ({schema[name]})")
                width = len(schema[name].split(","))
                db.executemany(f"INSERT INTO {name} VALUES ({', '.join('?' * width)})", rows)
        return path


def mixed_profiler_db(path: Path) -> Path:
    """A DB with every kind of row the reader tells apart, and cells of every SQLite type: FFTS+ parent
    and sub-tasks, kernels (one COMPUTE_TASK_INFO id twice: the last row wins), copies, a collective
    and its tasks, device-side waits, API calls of three levels, framework ops with text times and
    steps, Overlap Analysis spans; NULLs, sentinels, texts of digits, reals and names stored as text."""
    db = ProfilerDb()
    s = db.string
    ai_core, memcpy, wait, hccl = s("KERNEL_AICORE"), s("MEMCPY_ASYNC"), s("EVENT_WAIT_SQE"), s("HCCL")
    for i in range(6):  # kernels 10..15 on stream 2, each with its compute info
        db.add("TASK", 1000 + 1000 * i, 1800 + 1000 * i, 1, 50 + i, 10 + i, 0, ai_core, 2**32 - 1, 2, i, 0)
        name, core = s(f"aclnnOp{i % 3}_Kernel"), s("AI_CORE" if i % 2 else "AI_VECTOR_CORE")
        db.add(
            "COMPUTE_TASK_INFO",
            name,
            10 + i,
            8 * i,
            0,
            core,
            s(f"Op{i % 3}"),
            s("FLOAT16"),
            s('"8,8"'),
            s("static"),
            i,
        )
    db.add(
        "COMPUTE_TASK_INFO",
        s("aclnnOp0_Redefined"),
        10,
        99,
        1,
        s("MIX_AIC"),
        s("Op0"),
        s("FLOAT"),
        s("4"),
        s("dynamic"),
        7,
    )
    db.add("COMPUTE_TASK_INFO", s("no_id"), None, 1, 1, s("AI_CORE"), s("X"), s("X"), s("X"), s("X"), 0)
    db.add("TASK", 8000, 9000, 1, 60, 20, 0, s("FFTS_PLUS"), 2**32 - 1, 3, 7, 0)  # FFTS+ parent
    db.add("TASK", 8000, 8400, 1, 60, 21, 0, ai_core, 0, 3, 7, 0)  # its sub-tasks
    db.add("TASK", 8400, 9000, 1, 60, 22, 0, ai_core, 1, 3, 7, 0)
    db.add("TASK", 9500, 9900, 1, 61, 30, 0, memcpy, 2**32 - 1, 4, 8, 0)
    db.add("TASK", 9900, 9950, None, 62, 31, 0, memcpy, 2**32 - 1, 4, 9, 0)  # no device: the DB's
    db.add("MEMCPY_INFO", 30, 4096, 1)
    db.add("MEMCPY_INFO", 31, 512, 3)
    db.add("TASK", 10_000, 12_000, 1, 70, 40, 0, s("C_CORE_SQE"), 2**32 - 1, 5, 10, 0)  # a collective's task
    db.add("TASK", 10_000, 11_000, 1, 70, 41, 0, wait, 2**32 - 1, 5, 11, 0)
    db.add("TASK", "12500", "13000", 1, 71, 42, 0, str(hccl), 2**32 - 1, 5, 12, 0)  # digit texts
    db.add("TASK", 13_000, 12_000, 1, 72, 43, 0, ai_core, 2**32 - 1, 2, 13, 0)  # end before start
    db.add("TASK", None, 14_000, 1, 73, 44, 0, ai_core, 2**32 - 1, 2, 14, 0)  # dropped, counted
    db.add("TASK", 14_000, 14_500.5, 1, 74, 45, 0, ai_core, 2**32 - 1, 2, 15, 0)  # a real end: dropped
    db.add("TASK", 15_000, 15_200, 2**31, 75, 46, 0, "PlainText", 2**32 - 1, 2, 16, 0)  # device out of range
    db.add("COMMUNICATION_OP", s("hcom_allReduce__1"), 10_000, 12_000, 70)
    db.add("COMMUNICATION_OP", s("hcom_broadcast__2"), 12_400, 13_100, None)
    levels = {20000: "acl", 15000: "runtime", 5000: "node"}
    for key, level in levels.items():
        db.add("ENUM_API_TYPE", key, level)
    tid = (77 << 32) | 78
    for i, (level, call) in enumerate(
        [(20000, "aclnnOp0"), (15000, "aclrtSynchronizeStream"), (5000, "Op1")]
    ):
        db.add("CANN_API", 500 + 1000 * i, 700 + 1000 * i, level, tid, 50 + i, s(call))
    db.add("CANN_API", 4000, 4100, 99, -5, 53, s("aclnnOp2"))  # unknown level, bad tid
    db.add("CANN_API", 4200, 4300, 20000, tid, "0053", "a name stored as text")
    db.add("PYTORCH_API", "100", "7000", tid, None, s("ProfilerStep#2"))
    db.add("PYTORCH_API", "7000", "16000", tid, None, s("ProfilerStep#3"))
    db.add("PYTORCH_API", "200", "900", tid, 0, s("aten::add"))
    db.add("PYTORCH_API", "1e3", "2000", tid, 0, s("aten::mul"))  # an exponent: 1000 ns
    db.add("PYTORCH_API", "300", "800", tid, 0, 99999)  # an id with no string
    db.add("STEP_TIME", 2, 100, 7000)
    for i, kind in enumerate([0, 1, 2, 3, 4, None]):
        db.add("OVERLAP_ANALYSIS", i, 1 if i % 2 else None, 1000 * i, 1000 * i + 500, kind)
    db.add("NPU_INFO", 0, "Ascend910B4")
    db.add("RANK_DEVICE_MAP", 3, 1)
    return db.write(path)
