"""Ascend readers on malformed and unusual input (issue 12): each test builds the failing input."""

from __future__ import annotations

import gzip
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ascend_builder import api, kernel_row, python_op, task, write_json, write_rank, write_timeline

from tracekit.analysis.analyze import analyze
from tracekit.errors import TraceError
from tracekit.model.schema import Kind
from tracekit.readers import HOST_ONLY_WARNING, read_trace, read_traces
from tracekit.readers.ascend.sqlite import immutable_uri

OUTPUT = "ASCEND_PROFILER_OUTPUT"


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _database(path: Path, tasks: list[tuple] | None = None, task_columns: str | None = None) -> Path:
    """A minimal profiler DB: STRING_IDS, TASK (startNs, endNs, deviceId, taskType), an empty CANN_API."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    columns = task_columns or "startNs INTEGER, endNs INTEGER, deviceId INTEGER, taskType INTEGER"
    db.executescript(
        f"CREATE TABLE STRING_IDS (id INTEGER PRIMARY KEY, value TEXT); CREATE TABLE TASK ({columns}); "
        "CREATE TABLE CANN_API (startNs INTEGER, endNs INTEGER, name INTEGER);"
    )
    db.execute("INSERT INTO STRING_IDS VALUES (1, 'AI_CORE')")
    width = len(columns.split(","))
    rows = tasks if tasks is not None else [(1000, 3000, 0, 1), (4000, 9000, 0, 1)]
    db.executemany(f"INSERT INTO TASK VALUES ({', '.join('?' * width)})", rows)
    db.commit()
    db.close()
    return path


def _warnings(trace) -> str:
    return " | ".join(trace.metadata.get("warnings", []))


# --- real traces refused -----------------------------------------------------------------------


def test_gzipped_timeline_is_read_in_a_folder_and_alone(tmp_path: Path) -> None:
    events = [task("MatMul", "1.000", 2.5), api("AscendCL@aclnnMatmul", "0.500", 0.2)]
    plain = read_trace(write_rank(tmp_path / "plain", 0, events)).events
    root = write_rank(tmp_path / "gz", 0, events)
    view = root / OUTPUT / "trace_view.json"
    view.write_bytes(gzip.compress(view.read_bytes()))  # gzipped content under the usual name
    assert read_trace(root).events.equals(plain)
    alone = tmp_path / "msprof_0.json.gz"
    alone.write_bytes(view.read_bytes())
    assert read_trace(alone).events.equals(plain)


@pytest.mark.parametrize("folder", ["run#1", "run?1", "a b%20c"])
def test_database_under_special_folder_names_is_read_and_nothing_is_created(
    tmp_path: Path, folder: str
) -> None:
    database = _database(tmp_path / folder / "msprof_0.db")
    before = _snapshot(tmp_path)
    trace = read_trace(database)
    assert [r["dur_ns"] for r in trace.events.to_pylist()] == [2000, 5000]
    assert _snapshot(tmp_path) == before and sorted(os.listdir(tmp_path)) == [folder]
    assert "immutable=1" in immutable_uri(database) and "mode=ro" in immutable_uri(database)


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root and setpriv")
def test_database_in_a_read_only_folder_is_read_by_a_non_root_user(tmp_path: Path) -> None:
    shared = Path("/tmp") / f"tracekit-ro-{os.getpid()}"
    database = _database(shared / "run#1" / "msprof_0.db")
    try:
        for folder in (shared, database.parent):
            folder.chmod(0o555)
        database.chmod(0o444)
        script = (
            f"from tracekit.readers import read_trace; print(read_trace({str(database)!r}).events.num_rows)"
        )
        done = _as_nobody(script)
        assert done.returncode == 0, done.stderr[-500:]
        assert done.stdout.strip() == "2" and sorted(os.listdir(database.parent)) == ["msprof_0.db"]
    finally:
        for folder in (shared, database.parent):
            folder.chmod(0o755)
        shutil.rmtree(shared)


def test_acl_synchronize_calls_count_as_host_syncs(tmp_path: Path) -> None:
    events = [
        python_op("ProfilerStep#1", "0.000", 100.0),
        task("MatMul", "1.000", 2.0),
        api("AscendCL@aclrtSynchronizeDevice", "10.000", 5.0),
        api("Runtime@DeviceSynchronize", "10.500", 4.0),  # made by the ACL call: not counted again
        api("AscendCL@aclrtSynchronizeStream", "20.000", 3.0),
        api("AscendCL@aclrtSynchronizeStreamWithTimeout", "30.000", 2.0),
    ]
    trace = read_trace(write_rank(tmp_path, 0, events))
    kinds = {r["name"]: r["kind"] for r in trace.events.to_pylist()}
    assert kinds["AscendCL@aclrtSynchronizeDevice"] == Kind.SYNC == kinds["AscendCL@aclrtSynchronizeStream"]
    syncs = analyze(trace).host.sync_calls
    assert (syncs.count, syncs.total_ns) == (3, 10000)


# --- the event policy and versions ---------------------------------------------------------------


def test_host_events_without_device_tasks_load_with_the_host_only_warning(tmp_path: Path) -> None:
    events = [python_op("ProfilerStep#1", "0.000", 100.0), api("AscendCL@aclrtMalloc", "1.000", 2.0)]
    trace = read_trace(write_rank(tmp_path, 0, events))
    assert HOST_ONLY_WARNING in trace.metadata["warnings"]
    document = analyze(trace)
    assert document.ascend.h2d.count == 0


def test_timeline_without_events_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(TraceError, match="no events"):
        read_trace(write_rank(tmp_path, 0, []))


def test_unknown_versions_load_with_a_warning_naming_them(tmp_path: Path) -> None:
    root = write_rank(tmp_path, 0, [task("MatMul", "1.000", 2.0)])
    write_json(root / "profiler_info_0.json", {"rank_id": 0, "cann_version": "9.1.RC1"})
    trace = read_trace(root)
    assert "profiler_info_0.json: cann_version '9.1.RC1' is not a tested version" in _warnings(trace)


# --- values --------------------------------------------------------------------------------------


def test_unusable_timeline_values_are_dropped_or_unknown_and_counted(tmp_path: Path) -> None:
    events = [
        task("Good", "1.000", 2.0),
        task("HugeStart", "1e300", 1.0),
        task("NaNStart", "NaN", 1.0),
        task("Negative", "5.000", -3.0),
        task("HugeExponent", "1e99999999", 1.0),
        task("BadStream", "7.000", 1.0, stream="²"),
        task("WideStream", "8.000", 1.0, stream=2**64 + 5),
    ]
    started = time.monotonic()
    trace = read_trace(write_rank(tmp_path, 0, events))
    assert time.monotonic() - started < 5
    rows = {r["name"]: r for r in trace.events.to_pylist()}
    assert set(rows) == {"Good", "BadStream", "WideStream"}
    assert rows["BadStream"]["stream"] == rows["WideStream"]["stream"] == -1  # unknown, as the tid
    warnings = _warnings(trace)
    assert "3 value(s) of ts" in warnings and "negative (end before start)" in warnings
    assert "Stream Id: not an integer" in warnings and "Stream Id: outside" in warnings


def test_kernel_details_rows_with_unusable_times_are_dropped_and_counted(tmp_path: Path) -> None:
    kernels = [
        kernel_row("Add", "1.000", "1.0"),
        kernel_row("Mul", "inf", "1.0"),
        kernel_row("Sub", "3.0", "x²"),
    ]
    root = write_rank(tmp_path, 0, [], kernels=kernels)
    (root / OUTPUT / "trace_view.json").unlink()
    trace = read_trace(root)
    assert [r["name"] for r in trace.events.to_pylist() if r["kind"] == Kind.KERNEL] == ["Add"]
    assert "kernel_details.csv Start Time(us)" in _warnings(trace)


def test_database_nulls_text_and_huge_values_are_dropped_and_counted(tmp_path: Path) -> None:
    rows = [(1000, 3000, 0, 1), (None, 3000, 0, 1), ("abc", 3000, 0, 1), (5000, 2**63 - 1, 0, 1)]
    rows += [(9000, 8000, 0, 1), (1000, 2000, 2**40, "²"), (1e300, 2000, 0, 1)]
    trace = read_trace(_database(tmp_path / "msprof_0.db", rows))
    kept = [(r["start_ns"], r["dur_ns"], r["device"]) for r in trace.events.to_pylist()]
    assert kept == [(1000, 2000, 0), (1000, 1000, -1)]  # an end at 2^63 - 1 lies past 2^62: dropped
    warnings = _warnings(trace)
    assert "3 value(s) of TASK.startNs" in warnings and "negative" in warnings and "TASK.deviceId" in warnings
    assert "1 value(s) of TASK.endNs" in warnings


def test_database_missing_column_and_corrupt_pages_are_one_line_errors(tmp_path: Path) -> None:
    missing = _database(
        tmp_path / "a" / "msprof_0.db", [(1000, 0, 1)], "endNs INTEGER, deviceId INTEGER, taskType"
    )
    with pytest.raises(TraceError, match=r"table TASK lacks column\(s\) startNs") as caught:
        read_trace(missing)
    assert caught.value.path == str(missing)
    corrupt = _database(tmp_path / "b" / "msprof_0.db", [(i, i + 5, 0, 1) for i in range(5000)])
    data = bytearray(corrupt.read_bytes())
    data[4096 * 3 : 4096 * 6] = b"\xa5" * (4096 * 3)
    corrupt.write_bytes(bytes(data))
    with pytest.raises(TraceError, match="corrupt or unreadable SQLite database") as caught:
        read_traces(corrupt.parent)
    assert (
        caught.value.path == str(corrupt) and "\n" not in str(caught.value) and len(str(caught.value)) < 300
    )


def test_deeply_nested_timeline_and_info_json_are_one_line_errors(tmp_path: Path) -> None:
    deep = b"[" * 100000 + b"]" * 100000
    root = write_rank(tmp_path / "t", 0, [task("MatMul", "1.000", 2.0)])
    view = root / OUTPUT / "trace_view.json"
    view.write_bytes(b'[{"ph": "X", "name": "a", "ts": "1", "args": {"x": ' + deep + b"}}]")
    with pytest.raises(TraceError) as caught:
        read_traces(tmp_path / "t")
    assert caught.value.path == str(view)
    root = write_rank(tmp_path / "i", 0, [task("MatMul", "1.000", 2.0)])
    info = root / "info.json.0"
    info.write_bytes(b'{"DeviceInfo": ' + deep + b"}")
    with pytest.raises(TraceError, match=r"nested too deeply|not valid") as caught:
        read_traces(tmp_path / "i")
    assert caught.value.path == str(info)


def test_several_ranks_keep_their_own_warnings(tmp_path: Path) -> None:
    write_rank(tmp_path, 0, [task("Good", "1.000", 2.0)])
    write_rank(tmp_path, 1, [task("Good", "1.000", 2.0), task("Bad", "NaN", 1.0)])
    first, second = read_traces(tmp_path)
    assert "ts" not in _warnings(first) and "1 value(s) of ts" in _warnings(second)


# --- the file system -----------------------------------------------------------------------------


def test_fifo_and_symbolic_link_loop_inside_a_folder_are_named(tmp_path: Path) -> None:
    root = write_rank(tmp_path, 0, [task("MatMul", "1.000", 2.0)])
    fifo = root / OUTPUT / "op_summary_0.csv"
    os.mkfifo(fifo)
    with pytest.raises(TraceError, match="not a regular file") as caught:
        read_traces(tmp_path)
    assert caught.value.path == str(fifo)
    fifo.unlink()
    loop = root / OUTPUT / "loop.json"
    loop.symlink_to(loop)
    with pytest.raises(TraceError, match="symbolic link loop") as caught:
        read_traces(tmp_path)
    assert caught.value.path == str(loop)


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root and setpriv")
def test_unreadable_folder_is_permission_denied_for_a_non_root_user() -> None:
    shared = Path("/tmp") / f"tracekit-000-{os.getpid()}"
    root = write_rank(shared, 0, [task("MatMul", "1.000", 2.0)])
    try:
        (root / OUTPUT).chmod(0)
        script = (
            "from tracekit.readers import read_traces\nfrom tracekit.errors import TraceError\n"
            f"try:\n    read_traces({str(shared)!r})\nexcept TraceError as error:\n    print(error)"
        )
        done = _as_nobody(script)
        assert done.stdout.strip() == f"{root / OUTPUT}: folder cannot be read (permission denied)", (
            done.stderr
        )
    finally:
        (root / OUTPUT).chmod(stat.S_IRWXU)
        shutil.rmtree(shared)


def _as_nobody(script: str) -> subprocess.CompletedProcess:
    """Run a Python script as user nobody (from the repository root)."""
    return subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c", script],
        capture_output=True, text=True, cwd=Path(__file__).parents[2], timeout=60,
    )  # fmt: skip


def test_timeline_written_as_plain_file_is_read_after_a_bom(tmp_path: Path) -> None:
    path = write_timeline(tmp_path / "trace_view.json", [task("MatMul", "1.000", 2.0)])
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert read_trace(path).events.num_rows == 1
