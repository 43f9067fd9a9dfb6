"""SQLite exports: torch_npu `ascend_pytorch_profiler_*.db` and msprof `msprof_*.db` (times in ns).

Strings are ids into STRING_IDS. Device tasks come from TASK, operator details from
COMPUTE_TASK_INFO (joined on globalTaskId), collectives from COMMUNICATION_OP, host API calls from
CANN_API (launch link: connectionId), framework operators and steps from PYTORCH_API, and the
Overlap Analysis layer from OVERLAP_ANALYSIS. Column names differ between versions (blockDim /
blockNum / block_dim); they are looked up, never assumed. Times go through `checked.ns`: a row whose
start or end is NULL, not an integer or out of range is dropped and counted (docs/formats.md).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import NamedTuple

from tracekit.errors import TraceError
from tracekit.model.schema import NONE, CopyDirection, Kind, MemoryKind
from tracekit.model.steps import STEP_NAME
from tracekit.readers import checked
from tracekit.readers.ascend.rows import EventRows, OpAttributes
from tracekit.readers.ascend.sqlite import Database
from tracekit.readers.ascend.timeline import HARDWARE, OVERLAP, OVERLAP_NAMES, device_task_kind
from tracekit.readers.ascend.values import to_int, us_to_ns
from tracekit.readers.names import SYNC_CALL

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


_TASK_OPTIONAL = tuple(
    (name,)
    for name in ("deviceId", "connectionId", "globalTaskId", "taskType", "streamId", "taskId", "contextId")
)
_COMPUTE_OPTIONAL = (
    ("name",), ("taskType",), ("opType",), ("inputDataTypes",), ("inputShapes",),
    ("blockDim", "blockNum", "block_dim"), ("mixBlockDim", "mixBlockNum", "mix_block_dim"),
    ("opState", "op_state"), ("waitNs",),
)  # fmt: skip


class _Task(NamedTuple):
    """One TASK row, converted."""

    start: int
    dur: int
    device: int
    connection: int
    task_id: int
    task_type: str
    stream: int
    number: int
    context: int


def read_database(path: Path, rows: EventRows, default_device: int) -> dict[str, object]:
    """Append the events of one profiler DB to `rows`; returns what it says about the run."""
    with Database(path) as db:
        if not {"TASK", "STRING_IDS"} <= db.tables:
            raise TraceError(path, "not an Ascend profiler DB (no TASK / STRING_IDS tables)")
        device = _device(db, default_device)
        communication = _communication_ops(db, rows, device)
        _tasks(db, rows, device, communication)
        _cann_api(db, rows)
        if not _pytorch_api(db, rows):
            _step_time(db, rows)
        _overlap(db, rows, device)
        info: dict[str, object] = {"devices": [device]}
        if "NPU_INFO" in db.tables:
            names = db.select("NPU_INFO", ("name",))
            info["chips"] = sorted({checked.text(name, "NPU_INFO.name") for (name,) in names})
        if "RANK_DEVICE_MAP" in db.tables:
            ranks = [
                to_int(rank, "RANK_DEVICE_MAP.rankId", 0)
                for (rank,) in db.select("RANK_DEVICE_MAP", ("rankId",))
            ]
            if ranks and ranks[0] != NONE:
                info["rank"] = ranks[0]
        return info


def read_step_trace_db(path: Path) -> list[dict[str, int | str | None]]:
    """analysis.db StepTraceTime (µs), as step_trace_time entries in ns."""
    with Database(path) as db:
        present = db.columns("StepTraceTime")
        wanted = [column for column in ("step", *_STEP_TRACE_COLUMNS.values()) if column in present]
        data = db.select("StepTraceTime", tuple(wanted))
    result = []
    for row in data:
        values = dict(zip(wanted, row, strict=True))
        entry: dict[str, int | str | None] = {
            "step": checked.text(values.get("step", ""), "StepTraceTime.step")
        }
        for key, column in _STEP_TRACE_COLUMNS.items():
            entry[f"{key}_ns"] = us_to_ns(values.get(column), f"StepTraceTime.{column}")
        result.append(entry)
    return result


def _span(start: object, end: object, table: str) -> tuple[int, int] | None:
    """(start ns, duration ns) of a row; None when a time is unusable (counted)."""
    begin, finish = checked.ns(start, f"{table}.startNs"), checked.ns(end, f"{table}.endNs")
    if checked.INVALID_NS in (begin, finish):
        return None
    return begin, finish - begin


def _device(db: Database, default: int) -> int:
    """The most frequent device id of TASK (bad ids are counted once, where the tasks are read)."""
    with checked.collecting():
        ids = Counter(
            to_int(value, "TASK.deviceId", 0, checked.INT32_MAX)
            for (value,) in db.select("TASK", (), (("deviceId",),))
        )
    ids.pop(NONE, None)
    return ids.most_common(1)[0][0] if ids else default


def _communication_ops(db: Database, rows: EventRows, device: int) -> set[int]:
    """Collectives as COMMUNICATION rows; returns their connection ids."""
    if "COMMUNICATION_OP" not in db.tables:
        return set()
    connections = set()
    for start, end, name, connection in db.select(
        "COMMUNICATION_OP", ("startNs", "endNs"), (("opName",), ("connectionId",))
    ):
        span, link = (
            _span(start, end, "COMMUNICATION_OP"),
            to_int(connection, "COMMUNICATION_OP.connectionId"),
        )
        connections.add(link)
        if span is not None:
            rows.add(
                db.text(name, "COMMUNICATION_OP.opName"), *span, Kind.COMMUNICATION, device=device,
                correlation=link, layer="HCCL",
            )  # fmt: skip
    return connections


def _compute_info(db: Database) -> dict[int, tuple[str, OpAttributes]]:
    table = "COMPUTE_TASK_INFO"
    if table not in db.tables:
        return {}
    info = {}
    for task, name, core, op_type, dtypes, shapes, block, mix, state, wait in db.select(
        table, ("globalTaskId",), _COMPUTE_OPTIONAL
    ):
        key = to_int(task, f"{table}.globalTaskId")
        if key == NONE:
            continue
        info[key] = (
            db.text(name, f"{table}.name"),
            OpAttributes(
                core_type=db.text(core, f"{table}.taskType"),
                op_type=db.text(op_type, f"{table}.opType"),
                op_state=db.text(state, f"{table}.opState"),
                input_dtypes=db.text(dtypes, f"{table}.inputDataTypes"),
                input_shapes=db.text(shapes, f"{table}.inputShapes").replace('"', ""),
                block_dim=to_int(block, f"{table}.blockDim", 0),
                mix_block_dim=to_int(mix, f"{table}.mixBlockDim", 0),
                wait_ns=to_int(wait, f"{table}.waitNs", 0),
            ),
        )
    return info


def _memcpy_info(db: Database) -> dict[int, tuple[int, int]]:
    if "MEMCPY_INFO" not in db.tables:
        return {}
    found = db.select("MEMCPY_INFO", ("globalTaskId",), (("size",), ("memcpyOperation",)))
    return {
        to_int(task, "MEMCPY_INFO.globalTaskId"): (
            to_int(size, "MEMCPY_INFO.size", 0),
            to_int(operation, "MEMCPY_INFO.memcpyOperation"),
        )
        for task, size, operation in found
    }


def _task_rows(db: Database, device: int) -> list[_Task]:
    """TASK rows with usable times, converted once."""
    tasks = []
    for start, end, on, connection, task_id, task_type, stream, number, context in db.select(
        "TASK", ("startNs", "endNs"), _TASK_OPTIONAL
    ):
        span = _span(start, end, "TASK")
        if span is None:
            continue
        on = device if on is None else to_int(on, "TASK.deviceId", 0, checked.INT32_MAX)
        tasks.append(
            _Task(
                *span,
                on,
                to_int(connection, "TASK.connectionId"),
                to_int(task_id, "TASK.globalTaskId"),
                db.text(task_type, "TASK.taskType"),
                to_int(stream, "TASK.streamId"),
                to_int(number, "TASK.taskId"),
                to_int(context, "TASK.contextId"),
            )
        )
    return tasks


def _tasks(db: Database, rows: EventRows, device: int, communication: set[int]) -> None:
    """Device tasks. A task without compute info launched by a collective (same connection id) is a
    MARKER, unless it is a device-side wait: the collective's COMMUNICATION row already covers it."""
    compute = _compute_info(db)
    copies = _memcpy_info(db)
    tasks = _task_rows(db, device)
    with_subtasks = {(t.stream, t.number, t.connection) for t in tasks if t.context != NONE}
    for task in tasks:
        common = {
            "device": task.device, "stream": task.stream, "thread": task.stream,
            "correlation": task.connection, "layer": HARDWARE, "task_type": task.task_type,
        }  # fmt: skip
        if task.context == NONE and (task.stream, task.number, task.connection) in with_subtasks:
            # an FFTS+ parent task: its sub-tasks are the ones that ran (the timeline shows only those)
            rows.add(task.task_type, task.start, task.dur, Kind.MARKER, **common)
        elif task.task_id in compute:
            name, attributes = compute[task.task_id]
            rows.add(name, task.start, task.dur, Kind.KERNEL, **common, **attributes.fields())
        elif task.task_type == "MEMCPY_ASYNC":
            size, operation = copies.get(task.task_id, (NONE, NONE))
            direction = _MEMCPY_OPERATIONS.get(operation, CopyDirection.OTHER)
            src, dst = _ENDPOINTS.get(direction, (MemoryKind.UNKNOWN, MemoryKind.UNKNOWN))
            rows.add(
                task.task_type, task.start, task.dur, Kind.MEMCPY, copy_direction=direction, src_memory=src,
                dst_memory=dst, bytes=size, **common,
            )  # fmt: skip
        else:
            kind = device_task_kind(task.task_type, task.task_type, bool(communication))
            if kind in (Kind.KERNEL, Kind.COMMUNICATION) and task.connection in communication:
                kind = Kind.MARKER
            rows.add(task.task_type, task.start, task.dur, kind, **common)


def _api_levels(db: Database) -> dict[int, str]:
    """ENUM_API_TYPE: API type id -> layer prefix (`AscendCL`, `Node`, ...)."""
    if "ENUM_API_TYPE" not in db.tables:
        return {}
    levels = {}
    for key, name in db.select("ENUM_API_TYPE", ("id", "name")):
        text = checked.text(name, "ENUM_API_TYPE.name")
        levels[to_int(key, "ENUM_API_TYPE.id")] = _API_LEVELS.get(text, text.capitalize())
    return levels


def _cann_api(db: Database, rows: EventRows) -> None:
    if "CANN_API" not in db.tables:
        return
    levels = _api_levels(db)
    for start, end, api_type, tid, connection, name in db.select(
        "CANN_API", ("startNs", "endNs"), (("type",), ("globalTid",), ("connectionId",), ("name",))
    ):
        span = _span(start, end, "CANN_API")
        if span is None:
            continue
        label = f"{levels.get(to_int(api_type, 'CANN_API.type'), 'Api')}@{db.text(name, 'CANN_API.name')}"
        process, thread = _split_tid(tid, "CANN_API.globalTid")
        rows.add(
            label, *span, Kind.SYNC if SYNC_CALL.search(label) else Kind.RUNTIME, process=process,
            thread=thread, correlation=to_int(connection, "CANN_API.connectionId"), layer="CANN",
        )  # fmt: skip


def _pytorch_api(db: Database, rows: EventRows) -> int:
    """Framework operators; returns the number of ProfilerStep#N spans found."""
    if "PYTORCH_API" not in db.tables:
        return 0
    steps = 0
    for start, end, tid, name in db.select("PYTORCH_API", ("startNs", "endNs"), (("globalTid",), ("name",))):
        span = _span(start, end, "PYTORCH_API")
        if span is None:
            continue
        text = db.text(name, "PYTORCH_API.name")
        step = STEP_NAME.match(text)
        steps += step is not None
        process, thread = _split_tid(tid, "PYTORCH_API.globalTid")
        rows.add(
            text, *span, Kind.STEP if step else Kind.CPU_OP, process=process, thread=thread,
            step=to_int(step.group(1), "ProfilerStep") if step else NONE, layer="Python",
        )  # fmt: skip
    return steps


def _step_time(db: Database, rows: EventRows) -> None:
    if "STEP_TIME" not in db.tables:
        return
    for step, start, end in db.select("STEP_TIME", ("id", "startNs", "endNs")):
        span, number = _span(start, end, "STEP_TIME"), to_int(step, "STEP_TIME.id")
        if span is not None and number != NONE:
            rows.add(f"ProfilerStep#{number}", *span, Kind.STEP, step=number)


def _overlap(db: Database, rows: EventRows, device: int) -> None:
    if "OVERLAP_ANALYSIS" not in db.tables:
        return
    for start, end, kind, on in db.select("OVERLAP_ANALYSIS", ("startNs", "endNs", "type"), (("deviceId",),)):
        span, kind = _span(start, end, "OVERLAP_ANALYSIS"), to_int(kind, "OVERLAP_ANALYSIS.type")
        if span is not None and 0 <= kind < len(OVERLAP_NAMES):
            on = device if on is None else to_int(on, "OVERLAP_ANALYSIS.deviceId", 0, checked.INT32_MAX)
            rows.add(OVERLAP_NAMES[kind], *span, Kind.MARKER, device=on, layer=OVERLAP)


def _split_tid(global_tid: object, field: str) -> tuple[int, int]:
    """(process, thread) from msprof's globalTid = pid << 32 | tid."""
    value = to_int(global_tid, field)
    return (value >> 32, value & 0xFFFFFFFF) if value >= 0 else (NONE, NONE)
