"""Ascend readers on tiny built inputs: timeline, summaries, DB, discovery, errors."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest
from ascend_builder import (
    KERNEL_HEADER,
    api,
    collective,
    flow,
    kernel_row,
    overlap,
    python_op,
    task,
    write_csv,
    write_json,
    write_rank,
    write_timeline,
)

from tracekit.analysis.analyze import analyze
from tracekit.errors import TraceError
from tracekit.model.schema import EVENT_SCHEMA, NONE, CopyDirection, Kind, MemoryKind
from tracekit.readers import read_trace, read_traces

T0 = "1736408883700059.821"  # µs with three decimals, beyond float64's ns precision


def _rows(trace, kind: Kind) -> list[dict]:
    table = trace.events.to_pylist()
    return [row for row in table if row["kind"] == kind]


def test_timeline_times_are_exact_ns_and_processes_are_mapped_by_name(tmp_path: Path) -> None:
    path = write_timeline(
        tmp_path / "trace_view.json",
        [
            python_op("ProfilerStep#3", "1736408883700000.000", 500.0),
            api("AscendCL@aclrtMemcpyAsync", "1736408883700010.500", 20.25, connection=7),
            task("MEMCPY_ASYNC", T0, 840.07675, "PCIE_DMA_SQE", connection=7),
            *flow(7, "1736408883700010.500", T0),
        ],
    )
    trace = read_trace(path)
    assert trace.format == "ascend"
    assert trace.events.schema.remove_metadata().names[: len(EVENT_SCHEMA)] == EVENT_SCHEMA.names
    (copy,) = _rows(trace, Kind.MEMCPY)  # the HostToDevice flow is a launch arrow, not a copy
    assert copy["start_ns"] == 1736408883700059821
    assert copy["dur_ns"] == 840077  # 840076.75 ns rounded half to even
    assert (copy["copy_direction"], copy["src_memory"], copy["dst_memory"]) == (
        CopyDirection.H2D,
        MemoryKind.HOST,
        MemoryKind.DEVICE,
    )
    assert copy["device"] == 0 and copy["stream"] == 2 and copy["correlation"] == 7 and copy["step"] == 3
    (call,) = _rows(trace, Kind.RUNTIME)
    assert (call["start_ns"], call["dur_ns"], call["correlation"]) == (1736408883700010500, 20250, 7)
    assert call["device"] == NONE and call["process"] == 5
    (step,) = _rows(trace, Kind.STEP)
    assert step["step"] == 3 and step["dur_ns"] == 500000


def test_copy_direction_from_operation_and_engine(tmp_path: Path) -> None:
    path = write_timeline(
        tmp_path / "msprof_20250101000000.json",
        [
            task("MEMCPY_ASYNC", "100.000", 2.0, "PCIE_DMA_SQE", **{"size(B)": 256}),
            task(
                "MEMCPY_ASYNC", "110.000", 2.0, "PCIE_DMA_SQE", operation="device to host", **{"size(B)": 64}
            ),
            task("MEMCPY_ASYNC", "120.000", 1.0, "SDMA_SQE"),
            task(
                "MEMCPY_ASYNC",
                "130.000",
                1.0,
                "PCIE_DMA_SQE",
                **{"memcpy direction": "host to device", "data size(Byte)": 4096},
            ),
            task("MEMCPY_ASYNC", "140.000", 1.0, "Other"),
        ],
    )
    copies = _rows(read_trace(path), Kind.MEMCPY)
    assert [(c["copy_direction"], c["bytes"]) for c in copies] == [
        (CopyDirection.H2D, 256),
        (CopyDirection.D2H, 64),
        (CopyDirection.D2D, NONE),
        (CopyDirection.H2D, 4096),
        (CopyDirection.OTHER, NONE),
    ]


def test_device_task_kinds_and_collectives(tmp_path: Path) -> None:
    path = write_timeline(
        tmp_path / "trace_view.json",
        [
            task("Conv2D1", "100.000", 10.0),
            task("EVENT_WAIT", "111.000", 1.0, "EVENT_WAIT_SQE"),
            task("EVENT_RECORD", "112.000", 1.0, "EVENT_RECORD_SQE"),
            task("SDMA", "120.000", 3.0, "SDMA", stream=4),
            task("Notify Wait", "123.000", 3.0, "Notify Wait", stream=4),
            collective("hcom_allReduce__1_0_1", "120.000", 10.0, connection=9),
            collective("Memcpy", "120.000", 3.0, plane=True),
            overlap("Computing", "100.000", 10.0),
        ],
    )
    table = read_trace(path).events
    kinds = dict(zip(table.column("name").to_pylist(), table.column("kind").to_pylist(), strict=True))
    assert kinds["Conv2D1"] == Kind.KERNEL
    assert kinds["EVENT_WAIT"] == Kind.SYNC and kinds["Notify Wait"] == Kind.SYNC
    assert kinds["EVENT_RECORD"] == Kind.MARKER
    assert kinds["SDMA"] == Kind.MARKER  # a collective's sub-task: the collective row covers it
    assert kinds["hcom_allReduce__1_0_1"] == Kind.COMMUNICATION
    assert kinds["Computing"] == Kind.MARKER
    assert "Memcpy" not in kinds  # plane sub-tasks repeat the Ascend Hardware tasks
    assert table.column("layer").to_pylist()[-1] == "Overlap Analysis"


def test_old_format_stream_id_and_npu_label_device(tmp_path: Path) -> None:
    event = task("aclnnMul", "100.000", 1.0, "Other")
    event["args"].pop("Physic Stream Id")
    event["args"]["Stream Id"] = 17
    table = read_trace(write_timeline(tmp_path / "trace_view.json", [event], device_label="NPU 3")).events
    assert table.column("stream").to_pylist() == [17]
    assert table.column("device").to_pylist() == [3]


def test_kernel_details_join_gives_operator_columns(tmp_path: Path) -> None:
    root = write_rank(
        tmp_path,
        0,
        [task("aclnnWhere_Where", "100.000", 10.0, "AI_CPU"), task("Add1", "120.125", 5.0)],
        kernels=[
            kernel_row(
                "aclnnWhere_Where",
                "100.000",
                "10.0",
                core="AI_CPU",
                op_type="Where",
                state="dynamic",
                wait="4.5",
                block="N/A",
                dtypes="INT64;BOOL",
                shapes="4,4;4",
            ),
            kernel_row("Add1", "120.125", "5.0", core="AI_VECTOR_CORE", op_type="Add", block="4294967295"),
        ],
    )
    trace = read_trace(root)
    table = trace.events
    assert table.column("core_type").to_pylist() == ["AI_CPU", "AI_VECTOR_CORE"]
    assert table.column("op_type").to_pylist() == ["Where", "Add"]
    assert table.column("op_state").to_pylist() == ["dynamic", "static"]
    assert table.column("wait_ns").to_pylist() == [4500, 0]
    assert table.column("block_dim").to_pylist() == [NONE, NONE]  # N/A and 4294967295 are null
    assert table.column("input_dtypes").to_pylist() == ["INT64;BOOL", "FLOAT"]
    assert table.column("input_shapes").to_pylist() == ["4,4;4", "4,4"]
    assert trace.metadata["ascend"]["kernel_details"] == {"rows": 2, "matched": 2}
    assert trace.metadata["ascend"]["rank"] == 0


def test_connection_id_gives_launch_delay(tmp_path: Path) -> None:
    path = write_timeline(
        tmp_path / "trace_view.json",
        [
            api("Node@launch", "100.000", 5.0, connection=1),
            task("MatMul", "115.000", 2.0, connection=1),
            api("Node@launch", "120.000", 5.0, connection=2),
            task("MatMul", "125.500", 2.0, connection=2),
        ],
    )
    launch = analyze(read_trace(path)).devices[0].launch
    assert launch.kernels_with_launch == 2
    assert launch.delay_max_ns == 10000 and launch.delay_p50_ns == 500
    assert launch.call_p50_ns == 5000


def test_two_ranks_give_two_traces_and_read_trace_asks_for_one(tmp_path: Path) -> None:
    for rank in (1, 0):
        write_rank(tmp_path, rank, [task("Add", f"{100 + rank}.000", 1.0)])
    traces = read_traces(tmp_path)
    assert [t.metadata["ascend"]["rank"] for t in traces] == [0, 1]
    assert [t.events.column("start_ns").to_pylist() for t in traces] == [[100000], [101000]]
    with pytest.raises(TraceError, match="holds 2 ranks"):
        read_trace(tmp_path)
    assert read_trace(tmp_path / "rank1_ascend_pt").metadata["ascend"]["rank"] == 1


def test_native_msprof_layouts_and_slices(tmp_path: Path) -> None:
    prof = tmp_path / "PROF_000001_20260323031749197_00815596RKPKAHRB"
    output = prof / "mindstudio_profiler_output"
    write_timeline(output / "msprof_slice_1_20230919172305.json", [task("B", "200.000", 1.0)])
    write_json(output / "msprof_slice_0_20230919172304.json", [task("A", "100.000", 1.0)])  # no metadata here
    write_csv(
        output / "op_summary_20230919172305.csv",
        ["Op Name", "OP Type", "Task Type", "Task Start Time(us)", "Task Duration(us)", "Block Num"],
        [
            {
                "Op Name": "A",
                "OP Type": "Add",
                "Task Type": "AI_CORE",
                "Task Start Time(us)": "100.000\t",
                "Task Duration(us)": "1.0",
                "Block Num": "24",
            }
        ],
    )
    write_json(
        prof / "device_0" / "data" / "info.json.0", {"DeviceInfo": [{"ai_core_num": 24, "aiv_num": 48}]}
    )
    (trace,) = read_traces(tmp_path)
    assert trace.events.column("name").to_pylist() == ["A", "B"]
    assert trace.events.column("block_dim").to_pylist() == [24, NONE]
    meta = trace.metadata["ascend"]
    assert meta["producer"] == "msprof"
    assert meta["core_counts"]["ai_core"] == 24 and meta["core_counts"]["vector_core"] == 48


def test_cann7_layout_and_duplicate_timeline_preference(tmp_path: Path) -> None:
    device = tmp_path / "PROF_000001_20230101000000000_AAAAAAAAAAAAAAAA" / "device_0"
    write_timeline(device / "timeline" / "msprof_0_1_20230101000000.json", [task("Mul", "10.000", 2.0)])
    write_csv(
        device / "summary" / "op_summary_0_1_20230101000000.csv",
        ["Op Name", "OP Type", "Task Type", "Task Start Time", "Task Duration(us)"],
        [
            {
                "Op Name": "Mul",
                "OP Type": "Mul",
                "Task Type": "AI_VECTOR_CORE",
                "Task Start Time": "10",
                "Task Duration(us)": "2",
            }
        ],
    )
    (trace,) = read_traces(tmp_path)
    assert trace.events.column("core_type").to_pylist() == ["AI_VECTOR_CORE"]
    # torch_npu output with the msprof directory nested inside: trace_view.json is read, not both
    root = write_rank(tmp_path / "pt", 0, [task("Mul", "10.000", 2.0)])
    nested = root / "PROF_000001_20230101000000000_BBBBBBBBBBBBBBBB" / "mindstudio_profiler_output"
    write_timeline(nested / "msprof_20230101000000.json", [task("Mul", "10.000", 2.0)])
    (trace,) = read_traces(tmp_path / "pt")
    assert trace.events.num_rows == 1


def test_kernel_details_alone_is_a_trace_with_steps(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "kernel_details.csv",
        KERNEL_HEADER,
        [
            kernel_row("Add", "1000.000", "10.0", step="5"),
            kernel_row("hcom_allReduce__1_0_1", "1020.000", "30.0", core="HCCL", step="5"),
            kernel_row("Add", "2000.000", "10.0", step="6"),
        ],
    )
    trace = read_trace(path)
    document = analyze(trace)
    assert document.steps.count == 2
    assert document.steps.duration_ns.max == 50000
    device = document.devices[0]
    assert device.operations == 3 and device.busy_ns == 50000
    assert trace.metadata["ascend"]["events_from"] == "kernel_details"


def _database(path: Path) -> Path:
    db = sqlite3.connect(path)
    strings = {
        1: "KERNEL_AICORE",
        2: "MEMCPY_ASYNC",
        3: "aclnnAdd_AddAiCore_Add",
        4: "AI_CORE",
        5: "Add",
        6: "INT64;INT64",
        7: "8,8;8,8",
        8: "dynamic",
        9: "aclnnAdd",
        10: "ProfilerStep#2",
        11: "hcom_allReduce__1",
        12: "Notify Wait",
    }
    db.executescript(
        """
        CREATE TABLE STRING_IDS (id INTEGER PRIMARY KEY, value TEXT);
        CREATE TABLE TASK (startNs INTEGER, endNs INTEGER, deviceId INTEGER, connectionId INTEGER,
            globalTaskId INTEGER, globalPid INTEGER, taskType INTEGER, contextId INTEGER, streamId INTEGER,
            taskId INTEGER, modelId INTEGER);
        CREATE TABLE COMPUTE_TASK_INFO (name INTEGER, globalTaskId INTEGER PRIMARY KEY, blockNum INTEGER,
            mixBlockNum INTEGER, taskType INTEGER, opType INTEGER, inputDataTypes INTEGER,
            inputShapes INTEGER, opState INTEGER);
        CREATE TABLE MEMCPY_INFO (globalTaskId INTEGER, size INTEGER, memcpyOperation INTEGER);
        CREATE TABLE CANN_API (startNs INTEGER, endNs INTEGER, type INTEGER, globalTid INTEGER,
            connectionId INTEGER, name INTEGER);
        CREATE TABLE ENUM_API_TYPE (id INTEGER PRIMARY KEY, name TEXT);
        CREATE TABLE PYTORCH_API (startNs TEXT, endNs TEXT, globalTid INTEGER, connectionId INTEGER,
            name INTEGER);
        CREATE TABLE COMMUNICATION_OP (opName INTEGER, startNs INTEGER, endNs INTEGER, connectionId INTEGER);
        CREATE TABLE OVERLAP_ANALYSIS (id INTEGER PRIMARY KEY, deviceId INTEGER, startNs INTEGER,
            endNs INTEGER, type INTEGER);
        """
    )
    db.executemany("INSERT INTO STRING_IDS VALUES (?, ?)", strings.items())
    db.executemany(
        "INSERT INTO TASK VALUES (?, ?, 1, ?, ?, 0, ?, 0, 2, 0, 0)",
        [(1000, 3000, 50, 10, 1), (500, 900, 51, 11, 2), (4000, 9000, 52, 12, 12), (4000, 9000, 52, 13, 4)],
    )
    db.execute("INSERT INTO COMPUTE_TASK_INFO VALUES (3, 10, 20, 0, 4, 5, 6, 7, 8)")
    db.execute("INSERT INTO MEMCPY_INFO VALUES (11, 1024, 1)")
    db.execute("INSERT INTO ENUM_API_TYPE VALUES (20000, 'acl')")
    db.execute("INSERT INTO CANN_API VALUES (200, 700, 20000, ?, 50, 9)", ((77 << 32) | 78,))
    db.execute("INSERT INTO PYTORCH_API VALUES ('100', '9500', 0, 0, 10)")
    db.execute("INSERT INTO COMMUNICATION_OP VALUES (11, 4000, 9000, 52)")
    db.execute("INSERT INTO OVERLAP_ANALYSIS VALUES (1, 1, 1000, 3000, 0)")
    db.commit()
    db.close()
    return path


def test_database_export(tmp_path: Path) -> None:
    output = tmp_path / "rank0_ascend_pt" / "ASCEND_PROFILER_OUTPUT"
    output.mkdir(parents=True)
    trace = read_trace(_database(output / "ascend_pytorch_profiler_0.db").parent.parent)
    rows = {row["name"]: row for row in trace.events.to_pylist()}
    kernel = rows["aclnnAdd_AddAiCore_Add"]
    assert (kernel["kind"], kernel["device"], kernel["start_ns"], kernel["dur_ns"]) == (
        Kind.KERNEL,
        1,
        1000,
        2000,
    )
    assert (kernel["core_type"], kernel["op_type"], kernel["block_dim"], kernel["op_state"]) == (
        "AI_CORE",
        "Add",
        20,
        "dynamic",
    )
    assert kernel["input_dtypes"] == "INT64;INT64" and kernel["step"] == 2
    copy = rows["MEMCPY_ASYNC"]
    assert (copy["kind"], copy["copy_direction"], copy["bytes"]) == (Kind.MEMCPY, CopyDirection.H2D, 1024)
    call = rows["AscendCL@aclnnAdd"]
    assert (call["kind"], call["correlation"], call["process"], call["thread"]) == (Kind.RUNTIME, 50, 77, 78)
    assert rows["hcom_allReduce__1"]["kind"] == Kind.COMMUNICATION
    assert rows["AI_CORE"]["kind"] == Kind.MARKER  # the collective's own task: covered by COMMUNICATION_OP
    assert rows["Notify Wait"]["kind"] == Kind.SYNC
    assert rows["Computing"]["kind"] == Kind.MARKER and rows["Computing"]["layer"] == "Overlap Analysis"
    assert rows["ProfilerStep#2"]["kind"] == Kind.STEP
    assert trace.metadata["ascend"]["events_from"] == "database"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("trace_view.json", b'{"traceEvents": {"not": "an array"}}', "unexpected msprof timeline content"),
        (
            "trace_view.json",
            b'[{"ph": "X", "name": "a", "ts": "1.0", "dur": 1, "pid": 1, "tid": 1}]',
            "no Ascend Hardware",
        ),
        ("kernel_details.csv", b"Step Id,Name,Accelerator Core\n1,Add,AI_CORE\n", "missing column"),
    ],
)
def test_bad_files_in_a_directory_are_named(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    output = tmp_path / "rank0_ascend_pt" / "ASCEND_PROFILER_OUTPUT"
    if name != "trace_view.json":
        write_timeline(output / "trace_view.json", [task("Add", "1.000", 1.0)])
    output.mkdir(parents=True, exist_ok=True)
    (output / name).write_bytes(content)
    with pytest.raises(TraceError, match=message) as caught:
        read_traces(tmp_path)
    assert caught.value.path == str(output / name)


def test_empty_directory_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(TraceError, match="no Ascend profiler data"):
        read_traces(tmp_path)


def test_step_trace_time_goes_to_metadata_in_ns(tmp_path: Path) -> None:
    root = write_rank(tmp_path, 0, [task("Add", "1.000", 1.0)])
    write_csv(
        root / "ASCEND_PROFILER_OUTPUT" / "step_trace_time.csv",
        ["Step", "Computing", "Communication(Not Overlapped)", "Free", "Stage", "Bubble"],
        [
            {
                "Step": "50",
                "Computing": "8873.756000000001",
                "Communication(Not Overlapped)": "101963.203",
                "Free": "25744.050000000003",
                "Stage": "136581.0",
                "Bubble": "0",
            }
        ],
    )
    (row,) = read_trace(root).metadata["ascend"]["step_trace_time"]
    assert row["step"] == "50"
    assert (row["computing_ns"], row["free_ns"], row["stage_ns"]) == (8873756, 25744050, 136581000)
    assert row["preparing_ns"] is None


def test_inputs_are_not_modified(tmp_path: Path) -> None:
    root = write_rank(tmp_path, 0, [task("Add", "1.000", 1.0)], kernels=[kernel_row("Add", "1.000", "1.0")])
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    read_traces(tmp_path)
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before
    assert np.array_equal(sorted(before), sorted(p for p in root.rglob("*") if p.is_file()))
