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
