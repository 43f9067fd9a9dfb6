"""SQLite exports: torch_npu `ascend_pytorch_profiler_*.db` and msprof `msprof_*.db` (times in ns).

Strings are ids into STRING_IDS. Device tasks come from TASK, operator details from
COMPUTE_TASK_INFO (joined on globalTaskId), collectives from COMMUNICATION_OP, host API calls from
CANN_API (launch link: connectionId), framework operators and steps from PYTORCH_API, and the
Overlap Analysis layer from OVERLAP_ANALYSIS. Column names differ between versions (blockDim /
blockNum / block_dim); they are looked up, never assumed.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from contextlib import closing
from pathlib import Path

from tracekit.errors import TraceError
from tracekit.model.schema import NONE, CopyDirection, Kind, MemoryKind
from tracekit.model.steps import STEP_NAME
from tracekit.readers.ascend.rows import EventRows, OpAttributes
from tracekit.readers.ascend.timeline import HARDWARE, OVERLAP, OVERLAP_NAMES, device_task_kind
from tracekit.readers.ascend.values import to_int, us_to_ns

_API_LEVELS = {"acl": "AscendCL", "node": "Node", "hccl": "Hccl", "runtime": "Runtime", "model": "Model"}
_MEMCPY_OPERATIONS = {0: CopyDirection.H2H, 1: CopyDirection.H2D, 2: CopyDirection.D2H, 3: CopyDirection.D2D}
_ENDPOINTS = {
    CopyDirection.H2D: (MemoryKind.HOST, MemoryKind.DEVICE),
    CopyDirection.D2H: (MemoryKind.DEVICE, MemoryKind.HOST),
    CopyDirection.D2D: (MemoryKind.DEVICE, MemoryKind.DEVICE),
    CopyDirection.H2H: (MemoryKind.HOST, MemoryKind.HOST),
}
_STEP_TRACE_COLUMNS = {
    "computing": "computing", "communication_not_overlapped": "communication_not_overlapped",
    "overlapped": "overlapped", "communication": "communication", "free": "free", "stage": "stage",
    "bubble": "bubble", "preparing": "preparing",
}  # fmt: skip


class _Database:
    """A read-only connection with the string table and column look-up."""

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        self.connection = connection
        self.tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        self.strings: dict[int, str] = (
            dict(connection.execute("SELECT id, value FROM STRING_IDS"))
            if "STRING_IDS" in self.tables
            else {}
        )

    def columns(self, table: str) -> list[str]:
        return [row[1] for row in self.connection.execute(f'PRAGMA table_info("{table}")')]

    def pick(self, table: str, *names: str) -> str | None:
        """The first of `names` that is a column of `table`."""
        present = self.columns(table)
        return next((n for n in names if n in present), None)

    def text(self, value: object) -> str:
        if value is None:
            return ""
        if isinstance(value, str) and not value.lstrip("-").isdigit():
            return value
        return self.strings.get(int(value), f"<string {value}>")

    def rows(self, sql: str) -> list[tuple]:
        try:
            return self.connection.execute(sql).fetchall()
        except sqlite3.Error as exc:
            raise TraceError(self.path, f"unexpected profiler DB schema ({exc})") from None


def read_database(path: Path, rows: EventRows, default_device: int) -> dict[str, object]:
    """Append the events of one profiler DB to `rows`; returns what it says about the run."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise TraceError(path, f"unreadable SQLite database ({exc})") from None
    with closing(connection):
        db = _Database(path, connection)
        if not {"TASK", "STRING_IDS"} <= db.tables:
            raise TraceError(path, "not an Ascend profiler DB (no TASK / STRING_IDS tables)")
        device = _device(db, default_device)
        communication = _communication_ops(db, rows, device)
        _tasks(db, rows, device, communication)
        _cann_api(db, rows)
        steps = _pytorch_api(db, rows)
        if not steps:
            _step_time(db, rows)
        _overlap(db, rows, device)
        info = {"devices": [device]}
        if "NPU_INFO" in db.tables:
            info["chips"] = sorted({str(name) for _, name in db.rows("SELECT id, name FROM NPU_INFO")})
        if "RANK_DEVICE_MAP" in db.tables:
            ranks = db.rows("SELECT rankId FROM RANK_DEVICE_MAP")
            if ranks:
                info["rank"] = int(ranks[0][0])
        return info


def read_step_trace_db(path: Path) -> list[dict[str, int | str | None]]:
    """analysis.db StepTraceTime (µs), as step_trace_time entries in ns."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
            present = [row[1] for row in connection.execute('PRAGMA table_info("StepTraceTime")')]
            data = connection.execute("SELECT * FROM StepTraceTime").fetchall()
    except sqlite3.Error as exc:
        raise TraceError(path, f"unreadable analysis DB ({exc})") from None
    result = []
    for row in data:
        values = dict(zip(present, row, strict=False))
        entry: dict[str, int | str | None] = {"step": str(values.get("step", ""))}
        for key, column in _STEP_TRACE_COLUMNS.items():
            entry[f"{key}_ns"] = us_to_ns(repr(values[column])) if values.get(column) is not None else None
        result.append(entry)
    return result


def _device(db: _Database, default: int) -> int:
    devices = Counter(r[0] for r in db.rows("SELECT deviceId FROM TASK"))
    return int(devices.most_common(1)[0][0]) if devices else default


def _communication_ops(db: _Database, rows: EventRows, device: int) -> set[int]:
    """Collectives as COMMUNICATION rows; returns their connection ids."""
    if "COMMUNICATION_OP" not in db.tables:
        return set()
    found = db.rows("SELECT opName, startNs, endNs, connectionId FROM COMMUNICATION_OP")
    for name, start, end, connection in found:
        rows.add(
            db.text(name), int(start), int(end) - int(start), Kind.COMMUNICATION, device=device,
            correlation=to_int(connection), layer="HCCL",
        )  # fmt: skip
    return {to_int(connection) for *_, connection in found}


def _compute_info(db: _Database) -> dict[int, tuple[str, OpAttributes]]:
    if "COMPUTE_TASK_INFO" not in db.tables:
        return {}
    table = "COMPUTE_TASK_INFO"
    picks = {
        "name": db.pick(table, "name"),
        "core": db.pick(table, "taskType"),
        "op_type": db.pick(table, "opType"),
        "dtypes": db.pick(table, "inputDataTypes"),
        "shapes": db.pick(table, "inputShapes"),
        "block": db.pick(table, "blockDim", "blockNum", "block_dim"),
        "mix": db.pick(table, "mixBlockDim", "mixBlockNum", "mix_block_dim"),
        "state": db.pick(table, "opState", "op_state"),
        "wait": db.pick(table, "waitNs"),
    }
    chosen = ", ".join(c or "NULL" for c in picks.values())
    sql = f"SELECT globalTaskId, {chosen} FROM {table}"
    info = {}
    for task, name, core, op_type, dtypes, shapes, block, mix, state, wait in db.rows(sql):
        info[int(task)] = (
            db.text(name),
            OpAttributes(
                core_type=db.text(core),
                op_type=db.text(op_type),
                op_state=db.text(state) if state is not None else "",
                input_dtypes=db.text(dtypes),
                input_shapes=db.text(shapes).replace('"', ""),
                block_dim=to_int(block) if block is not None else NONE,
                mix_block_dim=to_int(mix) if mix is not None else NONE,
                wait_ns=to_int(wait) if wait is not None else NONE,
            ),
        )
    return info


def _memcpy_info(db: _Database) -> dict[int, tuple[int, int]]:
    if "MEMCPY_INFO" not in db.tables:
        return {}
    sql = "SELECT globalTaskId, size, memcpyOperation FROM MEMCPY_INFO"
    return {int(task): (to_int(size), to_int(operation)) for task, size, operation in db.rows(sql)}


def _tasks(db: _Database, rows: EventRows, device: int, communication: set[int]) -> None:
    """Device tasks. A task without compute info launched by a collective (same connection id) is a
    MARKER, unless it is a device-side wait: the collective's COMMUNICATION row already covers it."""
    compute = _compute_info(db)
    copies = _memcpy_info(db)
    context = "contextId" if "contextId" in db.columns("TASK") else "NULL"
    columns = "startNs, endNs, deviceId, connectionId, globalTaskId, taskType, streamId, taskId"
    sql = f"SELECT {columns}, {context} FROM TASK"
    found = db.rows(sql)
    with_subtasks = {(r[6], r[7], r[3]) for r in found if to_int(r[8]) != NONE}
    for start, end, task_device, connection, task_id, task_type_id, stream, number, sub in found:
        task_type = db.text(task_type_id)
        common = {
            "device": to_int(task_device) if task_device is not None else device,
            "stream": to_int(stream), "thread": to_int(stream), "correlation": to_int(connection),
            "layer": HARDWARE, "task_type": task_type,
        }  # fmt: skip
        start, dur = int(start), int(end) - int(start)
        if to_int(sub) == NONE and (stream, number, connection) in with_subtasks:
            # an FFTS+ parent task: its sub-tasks are the ones that ran (the timeline shows only those)
            rows.add(task_type, start, dur, Kind.MARKER, **common)
        elif task_id in compute:
            name, attributes = compute[task_id]
            row = rows.add(name, start, dur, Kind.KERNEL, **common)
            rows.set_attributes(row, attributes)
        elif task_type == "MEMCPY_ASYNC":
            size, operation = copies.get(task_id, (NONE, NONE))
            direction = _MEMCPY_OPERATIONS.get(operation, CopyDirection.OTHER)
            src, dst = _ENDPOINTS.get(direction, (MemoryKind.UNKNOWN, MemoryKind.UNKNOWN))
            rows.add(
                task_type, start, dur, Kind.MEMCPY, copy_direction=direction, src_memory=src,
                dst_memory=dst, bytes=size, **common,
            )  # fmt: skip
        else:
            kind = device_task_kind(task_type, task_type, bool(communication))
            if kind in (Kind.KERNEL, Kind.COMMUNICATION) and to_int(connection) in communication:
                kind = Kind.MARKER
            rows.add(task_type, start, dur, kind, **common)


def _cann_api(db: _Database, rows: EventRows) -> None:
    if "CANN_API" not in db.tables:
        return
    levels = {}
    if "ENUM_API_TYPE" in db.tables:
        levels = {
            int(i): _API_LEVELS.get(str(n), str(n).capitalize())
            for i, n in db.rows("SELECT * FROM ENUM_API_TYPE")
        }
    for start, end, api_type, tid, connection, name in db.rows(
        "SELECT startNs, endNs, type, globalTid, connectionId, name FROM CANN_API"
    ):
        label = f"{levels.get(to_int(api_type), 'Api')}@{db.text(name)}"
        kind = Kind.SYNC if "Synchroni" in label else Kind.RUNTIME
        process, thread = _split_tid(tid)
        rows.add(
            label, int(start), int(end) - int(start), kind, process=process, thread=thread,
            correlation=to_int(connection), layer="CANN",
        )  # fmt: skip


def _pytorch_api(db: _Database, rows: EventRows) -> int:
    """Framework operators; returns the number of ProfilerStep#N spans found."""
    if "PYTORCH_API" not in db.tables:
        return 0
    steps = 0
    for start, end, tid, name in db.rows("SELECT startNs, endNs, globalTid, name FROM PYTORCH_API"):
        text = db.text(name)
        begin, finish = to_int(start), to_int(end)
        if begin == NONE or finish == NONE:
            continue
        step = STEP_NAME.match(text)
        steps += step is not None
        process, thread = _split_tid(tid)
        rows.add(
            text, begin, finish - begin, Kind.STEP if step else Kind.CPU_OP, process=process, thread=thread,
            step=int(step.group(1)) if step else NONE, layer="Python",
        )  # fmt: skip
    return steps


def _step_time(db: _Database, rows: EventRows) -> None:
    if "STEP_TIME" not in db.tables:
        return
    for step, start, end in db.rows("SELECT id, startNs, endNs FROM STEP_TIME"):
        rows.add(f"ProfilerStep#{step}", int(start), int(end) - int(start), Kind.STEP, step=to_int(step))


def _overlap(db: _Database, rows: EventRows, device: int) -> None:
    if "OVERLAP_ANALYSIS" not in db.tables:
        return
    for task_device, start, end, kind in db.rows(
        "SELECT deviceId, startNs, endNs, type FROM OVERLAP_ANALYSIS"
    ):
        if 0 <= to_int(kind) < len(OVERLAP_NAMES):
            rows.add(
                OVERLAP_NAMES[int(kind)], int(start), int(end) - int(start), Kind.MARKER,
                device=to_int(task_device) if task_device is not None else device, layer=OVERLAP,
            )  # fmt: skip


def _split_tid(global_tid: object) -> tuple[int, int]:
    """(process, thread) from msprof's globalTid = pid << 32 | tid."""
    value = to_int(global_tid)
    return (value >> 32, value & 0xFFFFFFFF) if value >= 0 else (NONE, NONE)
