"""SQLite exports: torch_npu `ascend_pytorch_profiler_*.db` and msprof `msprof_*.db` (times in ns).

Strings are ids into STRING_IDS. Device tasks come from TASK, operator details from
COMPUTE_TASK_INFO (joined on globalTaskId), collectives from COMMUNICATION_OP, host API calls from
CANN_API (launch link: connectionId), framework operators and steps from PYTORCH_API, and the
Overlap Analysis layer from OVERLAP_ANALYSIS. Column names differ between versions (blockDim /
blockNum / block_dim); they are looked up, never assumed. Times go through `checked.ns`: a row whose
start or end is NULL, not an integer or out of range is dropped and counted (docs/formats.md).

Each table is fetched by whole columns (`Database.fetch`) and converted by `cells` (array
operations; the scalar rules once per distinct value elsewhere); string ids are looked up once per
distinct id, joins (TASK to COMPUTE_TASK_INFO and MEMCPY_INFO) are look-ups of sorted keys, and each
table's events are appended as one block.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tracekit.errors import TraceError
from tracekit.model.schema import NONE, CopyDirection, Kind, MemoryKind
from tracekit.model.steps import STEP_NAME
from tracekit.readers import checked
from tracekit.readers.ascend import cells
from tracekit.readers.ascend.rows import EventRows
from tracekit.readers.ascend.sqlite import NULL, Cells, Database
from tracekit.readers.ascend.tasks import device_task_kind
from tracekit.readers.ascend.timeline import HARDWARE, OVERLAP, OVERLAP_NAMES
from tracekit.readers.ascend.values import per_distinct, to_int, us_to_ns
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
_COMPUTE_TEXTS = (
    ("core_type", "taskType"), ("op_type", "opType"), ("op_state", "opState"),
    ("input_dtypes", "inputDataTypes"), ("input_shapes", "inputShapes"),
)  # fmt: skip
"""Attribute, COMPUTE_TASK_INFO field named in warnings: in the order the fields are converted."""
_COMPUTE_INTS = (("block_dim", "blockDim"), ("mix_block_dim", "mixBlockDim"), ("wait_ns", "waitNs"))
_COMPUTE_POSITION = {
    "name": 0, "taskType": 1, "opType": 2, "inputDataTypes": 3, "inputShapes": 4, "blockDim": 5,
    "mixBlockDim": 6, "opState": 7, "waitNs": 8,
}  # fmt: skip
"""Where each field is among the fetched _COMPUTE_OPTIONAL columns (after globalTaskId)."""


def read_database(path: Path, rows: EventRows, default_device: int) -> dict[str, object]:
    """Append the events of one profiler DB to `rows`; returns what it says about the run."""
    with Database(path) as db:
        if not {"TASK", "STRING_IDS"} <= db.tables:
            raise TraceError(path, "not an Ascend profiler DB (no TASK / STRING_IDS tables)")
        task = db.fetch("TASK", (), (("startNs",), ("endNs",), *_TASK_OPTIONAL))  # required: in _tasks
        device = _device(task[2], default_device)
        communication = _communication_ops(db, rows, device)
        _tasks(db, rows, task, device, communication)
        _cann_api(db, rows)
        if not _pytorch_api(db, rows):
            _step_time(db, rows)
        _overlap(db, rows, device)
        return _run_info(db, device)


def read_step_trace_db(path: Path) -> list[dict[str, int | str | None]]:
    """analysis.db StepTraceTime (µs), as step_trace_time entries in ns."""
    with Database(path) as db:
        present = db.columns("StepTraceTime")
        wanted = [column for column in ("step", *_STEP_TRACE_COLUMNS.values()) if column in present]
        data = db.select("StepTraceTime", tuple(wanted))
    columns = dict(zip(wanted, zip(*data, strict=True), strict=True)) if data else {}
    converted = {
        "step": per_distinct(list(columns.get("step", [""] * len(data))), _step_text),
        **{
            f"{key}_ns": _step_trace_ns(columns.get(column), column, len(data))
            for key, column in _STEP_TRACE_COLUMNS.items()
        },
    }
    return [dict(zip(converted, values, strict=True)) for values in zip(*converted.values(), strict=True)]


def _step_text(value: object) -> str:
    return checked.text(value, "StepTraceTime.step")


def _step_trace_ns(values: tuple | None, column: str, n: int) -> list[int | None]:
    """One StepTraceTime column's µs as ns, once per distinct value (an absent column: None)."""
    if values is None:
        return [None] * n
    return per_distinct(list(values), lambda value: us_to_ns(value, f"StepTraceTime.{column}"))


def _run_info(db: Database, device: int) -> dict[str, object]:
    """Devices, chips (NPU_INFO) and rank (RANK_DEVICE_MAP), from tables of a few rows."""
    info: dict[str, object] = {"devices": [device]}
    if "NPU_INFO" in db.tables:
        names = [name for (name,) in db.select("NPU_INFO", ("name",))]
        info["chips"] = sorted(set(per_distinct(names, lambda name: checked.text(name, "NPU_INFO.name"))))
    if "RANK_DEVICE_MAP" in db.tables:
        (rank,) = db.fetch("RANK_DEVICE_MAP", ("rankId",))
        ranks = cells.ints(rank, "RANK_DEVICE_MAP.rankId", 0)
        if len(ranks) and ranks[0] != NONE:
            info["rank"] = int(ranks[0])
    return info


def _device(device_ids: Cells, default: int) -> int:
    """The most frequent device id of TASK, the first seen among equals (bad ids are counted once,
    where the tasks are read)."""
    with checked.collecting():
        ids = cells.ints(device_ids, "TASK.deviceId", 0, checked.INT32_MAX)
    ids = ids[ids != NONE]
    if not len(ids):
        return default
    values, first, counts = np.unique(ids, return_index=True, return_counts=True)
    most = counts == counts.max()
    return int(values[most][np.argmin(first[most])])


def _communication_ops(db: Database, rows: EventRows, device: int) -> np.ndarray | None:
    """Collectives as COMMUNICATION rows; returns their connection ids (None: no such table or rows)."""
    table = "COMMUNICATION_OP"
    if table not in db.tables:
        return None
    start, end, name, connection = db.fetch(table, ("startNs", "endNs"), (("opName",), ("connectionId",)))
    begin, dur, usable = cells.span(start, end, table)
    links = cells.ints(connection, f"{table}.connectionId")
    names = cells.texts(name.take(usable), f"{table}.opName", db.strings()).decoded()
    rows.add_block(
        names, start_ns=begin[usable], dur_ns=dur[usable], kind=Kind.COMMUNICATION, device=device,
        correlation=links[usable], layer="HCCL",
    )  # fmt: skip
    return np.unique(links) if len(links) else None


class _Compute:
    """COMPUTE_TASK_INFO by globalTaskId (the last row of an id wins): names and attributes."""

    def __init__(self, db: Database) -> None:
        table, self.keys = "COMPUTE_TASK_INFO", np.empty(0, dtype=np.int64)
        self.name, self.attributes = np.empty(0, dtype=object), {}
        if table not in db.tables:
            return
        task, *optional = db.fetch(table, ("globalTaskId",), _COMPUTE_OPTIONAL)
        keys = cells.ints(task, f"{table}.globalTaskId")
        kept = keys != NONE
        self.keys, last = cells.last_by_key(keys[kept])
        column = {field: optional[at].take(kept) for field, at in _COMPUTE_POSITION.items()}
        strings = db.strings()
        self.name = cells.texts(column["name"], f"{table}.name", strings).decoded()[last]
        for key, field in _COMPUTE_TEXTS:
            texts = cells.texts(column[field], f"{table}.{field}", strings)
            if key == "input_shapes":
                unquoted = [text.replace('"', "") for text in texts.distinct]
                texts = texts._replace(distinct=np.array(unquoted, dtype=object))
            self.attributes[key] = texts.decoded()[last]
        for key, field in _COMPUTE_INTS:
            self.attributes[key] = cells.ints(column[field], f"{table}.{field}", 0)[last]

    def for_tasks(
        self, kernel: np.ndarray, at: np.ndarray, other_names: np.ndarray
    ) -> tuple[np.ndarray, dict]:
        """Names (the kernel's where `kernel`, else `other_names`) and attributes ("" and NONE
        elsewhere) of tasks whose row here is `at`."""
        if not len(self.keys):
            return other_names, {}
        at = np.where(kernel, at, 0)
        attributes = {
            key: np.where(kernel, values[at], "" if values.dtype == object else NONE)
            for key, values in self.attributes.items()
        }
        return np.where(kernel, self.name[at], other_names), attributes


def _memcpy_info(db: Database) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MEMCPY_INFO by globalTaskId (the last row of an id wins): sorted ids, sizes, operations."""
    table = "MEMCPY_INFO"
    if table not in db.tables:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    task, size, operation = db.fetch(table, ("globalTaskId",), (("size",), ("memcpyOperation",)))
    keys = cells.ints(task, f"{table}.globalTaskId")
    sizes = cells.ints(size, f"{table}.size", 0)
    operations = cells.ints(operation, f"{table}.memcpyOperation")
    keys, last = cells.last_by_key(keys)
    return keys, sizes[last], operations[last]


class _TaskColumns:
    """TASK rows with usable times, converted once."""

    def __init__(self, db: Database, task: list[Cells], device: int) -> None:
        db.select_columns("TASK", ("startNs", "endNs"))  # an input error without them
        start, end, *optional = task
        begin, dur, usable = cells.span(start, end, "TASK")
        on, connection, task_id, task_type, stream, number, context = (c.take(usable) for c in optional)
        self.start, self.dur = begin[usable], dur[usable]
        self.device = np.where(on.kind == NULL, device, cells.ints(on, "TASK.deviceId", 0, checked.INT32_MAX))
        self.connection = cells.ints(connection, "TASK.connectionId")
        self.task_id = cells.ints(task_id, "TASK.globalTaskId")
        self.task_type = cells.texts(task_type, "TASK.taskType", db.strings())
        self.stream = cells.ints(stream, "TASK.streamId")
        self.number = cells.ints(number, "TASK.taskId")
        self.context = cells.ints(context, "TASK.contextId")

    def of_type(self, task_type: str) -> np.ndarray:
        """Which tasks have this task type (compared once per distinct type)."""
        same = np.array([t == task_type for t in self.task_type.distinct.tolist()], dtype=bool)
        return same[self.task_type.codes]

    def ffts_parents(self) -> np.ndarray:
        """Tasks without a context id whose (stream, task id, connection) also has sub-tasks."""
        subtask = self.context != NONE
        if not subtask.any():
            return np.zeros(len(subtask), dtype=bool)
        keys = np.stack([self.stream, self.number, self.connection], axis=1)
        code = np.unique(keys, axis=0, return_inverse=True)[1].reshape(-1)
        return ~subtask & np.isin(code, code[subtask])


def _tasks(
    db: Database, rows: EventRows, task: list[Cells], device: int, communication: np.ndarray | None
) -> None:
    """Device tasks. An FFTS+ parent task (its sub-tasks are the ones that ran) is a MARKER; a task
    without compute info launched by a collective (same connection id) is a MARKER, unless it is a
    device-side wait: the collective's COMMUNICATION row already covers it."""
    compute, copies = _Compute(db), _memcpy_info(db)
    tasks = _TaskColumns(db, task, device)
    task_type = tasks.task_type.decoded()
    parent = tasks.ffts_parents()
    at = cells.look_up(compute.keys, tasks.task_id)
    kernel = ~parent & (at >= 0)
    copy = ~parent & ~kernel & tasks.of_type("MEMCPY_ASYNC")
    kind = np.select(
        [parent, kernel, copy], [Kind.MARKER, Kind.KERNEL, Kind.MEMCPY], _other_kinds(tasks, communication)
    )
    name, attributes = compute.for_tasks(kernel, at, task_type)
    rows.add_block(
        name, start_ns=tasks.start, dur_ns=tasks.dur, kind=kind, device=tasks.device, stream=tasks.stream,
        thread=tasks.stream, correlation=tasks.connection, layer=HARDWARE, task_type=task_type,
        **attributes, **_copy_fields(copies, tasks.task_id, copy),
    )  # fmt: skip


def _other_kinds(tasks: _TaskColumns, communication: np.ndarray | None) -> np.ndarray:
    """The kind of each task taken as neither a kernel nor a copy: by its task type, a MARKER when
    a collective launched it."""
    present = communication is not None
    by_type = np.array(
        [int(device_task_kind(t, t, present)) for t in tasks.task_type.distinct.tolist()], dtype=np.int64
    )
    kind = by_type[tasks.task_type.codes] if len(by_type) else np.empty(0, dtype=np.int64)
    launched = np.isin(tasks.connection, communication) if present else np.zeros(len(kind), dtype=bool)
    busy = (kind == Kind.KERNEL) | (kind == Kind.COMMUNICATION)
    return np.where(busy & launched, Kind.MARKER, kind)


def _copy_fields(
    copies: tuple[np.ndarray, np.ndarray, np.ndarray], task_id: np.ndarray, copy: np.ndarray
) -> dict[str, np.ndarray]:
    """bytes, copy_direction, src_memory and dst_memory of MEMCPY_ASYNC tasks from MEMCPY_INFO (NONE
    bytes and 0 elsewhere)."""
    keys, sizes, operations = copies
    at = cells.look_up(keys, task_id)
    found = copy & (at >= 0)
    size = np.where(found, sizes[np.maximum(at, 0)], NONE) if len(keys) else np.full(len(copy), NONE)
    operation = (
        np.where(found, operations[np.maximum(at, 0)], NONE) if len(keys) else np.full(len(copy), NONE)
    )
    direction = cells.per_distinct_code(
        operation, lambda code: int(_MEMCPY_OPERATIONS.get(code, CopyDirection.OTHER)), np.int64
    )
    unknown = (MemoryKind.UNKNOWN, MemoryKind.UNKNOWN)
    ends = {d: _ENDPOINTS.get(CopyDirection(d), unknown) for d in np.unique(direction).tolist()}
    src = cells.per_distinct_code(direction, lambda d: int(ends[d][0]), np.int64)
    dst = cells.per_distinct_code(direction, lambda d: int(ends[d][1]), np.int64)
    return {
        "bytes": np.where(copy, size, NONE),
        "copy_direction": np.where(copy, direction, 0),
        "src_memory": np.where(copy, src, 0),
        "dst_memory": np.where(copy, dst, 0),
    }


def _api_levels(db: Database) -> dict[int, str]:
    """ENUM_API_TYPE (a few rows): API type id -> layer prefix (`AscendCL`, `Node`, ...)."""
    if "ENUM_API_TYPE" not in db.tables:
        return {}
    levels = {}
    for key, name in db.select("ENUM_API_TYPE", ("id", "name")):
        text = checked.text(name, "ENUM_API_TYPE.name")
        levels[to_int(key, "ENUM_API_TYPE.id")] = _API_LEVELS.get(text, text.capitalize())
    return levels


def _cann_api(db: Database, rows: EventRows) -> None:
    table = "CANN_API"
    if table not in db.tables:
        return
    levels = _api_levels(db)
    start, end, api_type, tid, connection, name = db.fetch(
        table, ("startNs", "endNs"), (("type",), ("globalTid",), ("connectionId",), ("name",))
    )
    begin, dur, usable = cells.span(start, end, table)
    level = cells.ints(api_type.take(usable), f"{table}.type")
    names = cells.texts(name.take(usable), f"{table}.name", db.strings())
    level_values, level_codes = cells.distinct(level)
    pairs, index = cells.distinct(level_codes * len(names.distinct) + names.codes)  # (level, name)
    labels = [
        f"{levels.get(int(level_values[pair // len(names.distinct)]), 'Api')}@"
        f"{names.distinct[pair % len(names.distinct)]}"
        for pair in pairs.tolist()
    ]
    sync = np.array([SYNC_CALL.search(label) is not None for label in labels], dtype=bool)
    process, thread = cells.split_tid(tid.take(usable), f"{table}.globalTid")
    rows.add_block(
        np.array(labels, dtype=object)[index], start_ns=begin[usable], dur_ns=dur[usable],
        kind=np.where(sync[index], Kind.SYNC, Kind.RUNTIME), process=process, thread=thread,
        correlation=cells.ints(connection.take(usable), f"{table}.connectionId"), layer="CANN",
    )  # fmt: skip


def _pytorch_api(db: Database, rows: EventRows) -> int:
    """Framework operators; returns the number of ProfilerStep#N spans found."""
    table = "PYTORCH_API"
    if table not in db.tables:
        return 0
    start, end, tid, name = db.fetch(table, ("startNs", "endNs"), (("globalTid",), ("name",)))
    begin, dur, usable = cells.span(start, end, table)
    names = cells.texts(name.take(usable), f"{table}.name", db.strings())
    is_step = np.array([STEP_NAME.match(text) is not None for text in names.distinct.tolist()], dtype=bool)
    step_rows = is_step[names.codes] if len(is_step) else np.zeros(0, dtype=bool)
    process, thread = cells.split_tid(tid.take(usable), f"{table}.globalTid")
    number = cells.per_distinct_code(names.codes[step_rows], lambda code: _step_number(names.distinct[code]))
    step = np.full(len(step_rows), NONE, dtype=np.int64)
    step[step_rows] = number.astype(np.int64)
    rows.add_block(
        names.decoded(), start_ns=begin[usable], dur_ns=dur[usable],
        kind=np.where(step_rows, Kind.STEP, Kind.CPU_OP), process=process, thread=thread, step=step,
        layer="Python",
    )  # fmt: skip
    return int(step_rows.sum())


def _step_number(name: str) -> int:
    return to_int(STEP_NAME.match(name).group(1), "ProfilerStep")


def _step_time(db: Database, rows: EventRows) -> None:
    table = "STEP_TIME"
    if table not in db.tables:
        return
    step, start, end = db.fetch(table, ("id", "startNs", "endNs"))
    begin, dur, usable = cells.span(start, end, table)
    number = cells.ints(step, f"{table}.id")
    kept = usable & (number != NONE)
    names = cells.per_distinct_code(number[kept], lambda n: f"ProfilerStep#{n}")
    rows.add_block(names, start_ns=begin[kept], dur_ns=dur[kept], kind=Kind.STEP, step=number[kept])


def _overlap(db: Database, rows: EventRows, device: int) -> None:
    table = "OVERLAP_ANALYSIS"
    if table not in db.tables:
        return
    start, end, kind, on = db.fetch(table, ("startNs", "endNs", "type"), (("deviceId",),))
    begin, dur, usable = cells.span(start, end, table)
    kind = cells.ints(kind, f"{table}.type")
    kept = usable & (kind >= 0) & (kind < len(OVERLAP_NAMES))
    on = on.take(kept)
    device_of = np.where(on.kind == NULL, device, cells.ints(on, f"{table}.deviceId", 0, checked.INT32_MAX))
    rows.add_block(
        np.array(OVERLAP_NAMES, dtype=object)[kind[kept]], start_ns=begin[kept], dur_ns=dur[kept],
        kind=Kind.MARKER, device=device_of, layer=OVERLAP,
    )  # fmt: skip
