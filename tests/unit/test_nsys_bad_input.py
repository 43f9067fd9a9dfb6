"""The Nsight Systems readers on malformed exports built in the test (issue 12): hostile values are
dropped or read as unknown and counted, broken files are one-line errors naming the file, and the
input and its folder are never touched."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from nsys_builder import GLOBAL_PID, HTOD, PAGEABLE, TABLES, Export

from tracekit.errors import TraceError
from tracekit.model.schema import NONE, CopyDirection, Kind
from tracekit.model.trace import Trace
from tracekit.readers import HOST_ONLY_WARNING, detect_format, read_trace
from tracekit.readers.nsys.export_db import KERNEL, MEMCPY, sqlite_uri

BOM = b"\xef\xbb\xbf"
_WARNING = re.compile(r"^(\d+) value\(s\) of (.+?): ")


def counted(trace: Trace, field: str) -> int:
    """How many values of `field` the trace's warnings say were replaced or dropped."""
    matches = (_WARNING.match(w) for w in trace.metadata["warnings"])
    return sum(int(m.group(1)) for m in matches if m and m.group(2) == field)


def raw_kernel(e: Export, start: object, end: object, device: object = 0, stream: object = 7) -> None:
    """A kernel row with any SQLite values, as a hostile export may hold them."""
    name = e.string("k")
    e.table(KERNEL, TABLES[KERNEL], [(start, end, device, 1, stream, 0, GLOBAL_PID, name, name, 1)])


def one_line_naming(error: pytest.ExceptionInfo, path: Path) -> str:
    message = str(error.value)
    assert message.startswith(f"{path}: ") and len(message.splitlines()) == 1
    assert len(message) <= max(200, len(str(path)) + 152)
    return message


# --- SQLite export: values -------------------------------------------------------------------------


def test_sqlite_numbers_past_int64_text_and_blobs_are_dropped_and_counted(tmp_path: Path) -> None:
    e = Export()
    raw_kernel(e, 100, 200)
    for start in (1e308, "18446744073709551615", "²", b"\x00\x01", float("inf"), None):
        raw_kernel(e, start, 300)  # NaN is stored as NULL
    raw_kernel(e, 400, 300)  # ends before it starts
    raw_kernel(e, 500, 650.5)  # not a whole number of ns
    raw_kernel(e, 600, 700, device=2**40, stream="x")
    raw_kernel(e, 800, 900, device=b"\x07")
    columns = TABLES[MEMCPY]
    e.table(MEMCPY, columns, [(1000, 1100, 0, 1, 7, 0, GLOBAL_PID, 1e308, "²", PAGEABLE, b"\x01")])
    trace = read_trace(e.write(tmp_path / "hostile.sqlite"))
    kernels = trace.events.filter(trace.events.column("kind").to_numpy() == Kind.KERNEL)
    assert kernels.column("start_ns").to_pylist() == [100, 600, 800]
    assert kernels.column("device").to_pylist() == [0, NONE, NONE]
    assert kernels.column("stream").to_pylist() == [7, NONE, 7]
    assert counted(trace, f"{KERNEL}.start") == 6
    assert counted(trace, f"{KERNEL}.end") == 1
    assert counted(trace, "dur_ns") == 1
    assert counted(trace, "device") + counted(trace, f"{KERNEL}.device") == 2
    copy = trace.events.filter(trace.events.column("kind").to_numpy() == Kind.MEMCPY)
    assert copy.column("bytes").to_pylist() == [NONE]
    assert copy.column("copy_direction").to_pylist() == [CopyDirection.OTHER]
    assert counted(trace, f"{MEMCPY}.bytes") == 1


def test_sqlite_profiler_step_number_past_int64_is_a_plain_range(tmp_path: Path) -> None:
    e = Export()
    e.kernel("k", 10, 20)
    e.nvtx("ProfilerStep#" + "9" * 20, 5, 50)
    trace = read_trace(e.write(tmp_path / "step.sqlite"))
    kinds = trace.events.column("kind").to_pylist()
    assert Kind.STEP not in kinds and Kind.MARKER in kinds
    assert counted(trace, "ProfilerStep number") == 1


def test_sqlite_metadata_with_nulls_and_blobs_is_json_safe(tmp_path: Path) -> None:
    e = Export()
    e.memcpy(10, 20, 8, HTOD, PAGEABLE, PAGEABLE)
    e.table("ANALYSIS_DETAILS", "startTime INT, stopTime INT", [(None, 5)])
    gpu_columns = "id INT, name TEXT, smCount INT, memoryBandwidth INT, clockRate INT"
    e.table("TARGET_INFO_GPU", gpu_columns, [(None, b"H\xff200", b"\x84", 1e308, "fast")])
    enum_rows = [(None, "CUDA_MEMCPY_KIND_DTOH", "x"), (HTOD, "CUDA_MEMCPY_KIND_HTOD", "y"), ("²", None, "")]
    e.table("ENUM_CUDA_MEMCPY_OPER", "id INT, name TEXT, label TEXT", enum_rows)
    e.table("ENUM_CUDA_MEM_KIND", "id INT, name TEXT, label TEXT", [(None, None, None)])
    diagnostic_columns = (
        "timestamp INT, timestampType INT, source INT, severity INT, text TEXT, globalPid INT"
    )
    e.table("DIAGNOSTIC_EVENT", diagnostic_columns, [(0, 0, 0, b"\x02", b"events were lost \xff", 0)])
    trace = read_trace(e.write(tmp_path / "meta.sqlite"))
    nsys = trace.metadata["nsys"]
    json.dumps(trace.metadata)  # no bytes, no numpy values
    assert nsys["analysis_range"] is None
    gpu = {"id": None, "name": "H\ufffd200", "sm_count": None, "memory_bandwidth_bytes_per_s": None}
    assert nsys["gpus"] == [gpu | {"clock_rate_hz": None}]
    assert trace.events.column("copy_direction").to_pylist() == [CopyDirection.H2D]
    assert counted(trace, "ENUM_CUDA_MEMCPY_OPER.id") == 1  # the NULL id is absent, "²" is not an id
    assert any("were lost \ufffd" in w for w in trace.metadata["warnings"])  # info-level data loss


def test_sqlite_text_that_is_not_utf8_is_read_with_replacement_characters(tmp_path: Path) -> None:
    e = Export()
    e.kernel("k", 10, 20)
    path = e.write(tmp_path / "latin1.sqlite")
    with sqlite3.connect(path) as db:
        db.execute("UPDATE StringIds SET value = CAST(? AS TEXT)", (b"gemm\x88",))
        db.execute("CREATE TABLE zzqq (a INT)")
    path.write_bytes(path.read_bytes().replace(b"zzqq", b"z\x88qq"))  # a table name that is not UTF-8
    names = read_trace(path).events.column("name").to_pylist()
    assert names == ["gemm\ufffd"]


@pytest.mark.parametrize(
    ("name", "sql"),
    [
        ("CAST(X'7a8871' AS TEXT)", "'CREATE TABLE ' || CAST(X'7a8871' AS TEXT) || ' (a IN('"),  # not UTF-8
        ("'zzqq'", "'CREATE TABLE zzqq (a INT' || char(30) || ')'"),  # SQLite quotes the record separator
    ],
)
def test_sqlite_damaged_schema_that_sqlite_quotes_is_one_line(tmp_path: Path, name: str, sql: str) -> None:
    e = Export()
    e.kernel("k", 10, 20)
    path = e.write(tmp_path / "schema.sqlite")
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE zzqq (a INT)")
        db.execute("PRAGMA writable_schema=ON")
        db.execute(f"UPDATE sqlite_master SET name = {name}, sql = {sql} WHERE name = 'zzqq'")
    with pytest.raises(TraceError, match="unreadable SQLite database") as error:
        read_trace(path)
    one_line_naming(error, path)


@pytest.mark.parametrize("name", ['odd"name', "it's", "semi;colon"])
def test_sqlite_table_names_with_quotes_are_looked_up(tmp_path: Path, name: str) -> None:
    e = Export()
    e.kernel("k", 10, 20)
    e.table(name, "a INT", [(1,)])
    assert read_trace(e.write(tmp_path / "names.sqlite")).events.num_rows == 1


@pytest.mark.parametrize(
    ("table", "version", "warned"),
    [
        ("META_DATA_EXPORT", "99", True),
        ("EXPORT_META_DATA", "4.0.1", True),
        ("META_DATA_EXPORT", "3.25.0", False),
    ],
)
def test_sqlite_untested_schema_version_loads_with_a_warning(
    tmp_path: Path, table: str, version: str, warned: bool
) -> None:
    e = Export()
    e.kernel("k", 10, 20)
    e.table(table, "name TEXT, value TEXT", [("EXPORT_SCHEMA_VERSION", version)])
    trace = read_trace(e.write(tmp_path / "schema.sqlite"))
    assert trace.metadata["nsys"]["schema_version"] == version
    named = [w for w in trace.metadata["warnings"] if "schema version" in w]
    assert bool(named) == warned and all(repr(version) in w for w in named)


def test_sqlite_table_without_its_start_column_is_skipped_with_a_warning(tmp_path: Path) -> None:
    e = Export()
    e.kernel("k", 10, 20)
    path = e.write(tmp_path / "columns.sqlite")
    with sqlite3.connect(path) as db:
        db.execute(f"CREATE TABLE {MEMCPY} (end INT, bytes INT)")
        db.execute(f"INSERT INTO {MEMCPY} VALUES (5, 8)")
        db.execute("CREATE TABLE ANALYSIS_DETAILS (duration INT)")
    trace = read_trace(path)
    assert trace.events.num_rows == 1 and trace.metadata["nsys"]["analysis_range"] is None
    assert f"table {MEMCPY} lacks column(s) start: its rows are not read" in trace.metadata["warnings"]


def test_sqlite_with_host_calls_only_loads_with_a_warning(tmp_path: Path) -> None:
    e = Export()
    e.call("cudaMalloc_v3020", 10, 20)
    trace = read_trace(e.write(tmp_path / "host.sqlite"))
    assert trace.events.num_rows == 1
    assert HOST_ONLY_WARNING in trace.metadata["warnings"]


def test_sqlite_without_events_is_bad_input(tmp_path: Path) -> None:
    e = Export()
    raw_kernel(e, "²", 10)
    path = e.write(tmp_path / "none.sqlite")
    with pytest.raises(TraceError, match="no events: the trace is empty") as error:
        read_trace(path)
    one_line_naming(error, path)


# --- SQLite export: the file -----------------------------------------------------------------------


def big_export(path: Path) -> bytes:
    e = Export()
    for i in range(3000):
        e.kernel(f"kernel{i % 50}", 10 + i, 20 + i)
    return e.write(path).read_bytes()


@pytest.mark.parametrize(
    ("kind", "damage"),
    [
        ("corrupt pages", lambda data: data[:4096] + b"\xff" * 4096 + data[8192:]),
        ("truncated", lambda data: data[: len(data) // 2]),
        ("not a database", lambda data: b"SQLite format 3\x00StringIds" + b"\x07" * 5000),
    ],
)
def test_sqlite_damaged_files_are_one_line_errors(tmp_path: Path, kind: str, damage) -> None:
    path = tmp_path / "report.sqlite"
    path.write_bytes(damage(big_export(tmp_path / "whole.sqlite")))
    with pytest.raises(TraceError, match="unreadable SQLite database") as error:
        read_trace(path, "nsys")
    one_line_naming(error, path)


@pytest.mark.parametrize("folder", ["run#1", "run?1", "50%25", "a b"])
def test_sqlite_under_a_folder_with_uri_characters(tmp_path: Path, folder: str) -> None:
    e = Export()
    e.kernel("k", 10, 20)
    (tmp_path / folder).mkdir()
    path = e.write(tmp_path / folder / "report.sqlite")
    assert read_trace(path).events.num_rows == 1
    assert [p.name for p in tmp_path.iterdir()] == [folder]  # no stray `run` file beside it
    assert [p.name for p in path.parent.iterdir()] == ["report.sqlite"]


def wal_export(folder: Path) -> Path:
    """An export in WAL journal mode: a plain read-only open would create -wal and -shm files."""
    e = Export()
    e.kernel("k", 10, 20)
    path = e.write(folder / "report.sqlite")
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode=WAL").fetchone() == ("wal",)
    return path


def test_sqlite_in_wal_mode_leaves_nothing_beside_it(tmp_path: Path) -> None:
    path = wal_export(tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert read_trace(path).events.num_rows == 1
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    assert "mode=ro" in sqlite_uri(path) and "immutable=1" in sqlite_uri(path)


SYSTEM_PYTHON = shutil.which("python3", path="/usr/bin:/bin")
SETPRIV = shutil.which("setpriv")


@pytest.mark.skipif(os.geteuid() != 0 or not SETPRIV or not SYSTEM_PYTHON, reason="needs root and setpriv")
def test_sqlite_uri_reads_a_read_only_folder_as_another_user() -> None:
    with tempfile.TemporaryDirectory(dir="/tmp") as top:
        folder = Path(top) / "run#1"
        folder.mkdir()
        path = wal_export(folder)
        os.chmod(top, 0o755)
        path.chmod(0o444)
        folder.chmod(0o555)
        query = "import sqlite3, sys; db = sqlite3.connect(sys.argv[1], uri=True); "
        query += "print(db.execute(sys.argv[2]).fetchone())"
        command = [SETPRIV, "--reuid=65534", "--regid=65534", "--clear-groups", SYSTEM_PYTHON, "-c", query]
        done = subprocess.run(
            [*command, sqlite_uri(path), "SELECT count(*) FROM CUPTI_ACTIVITY_KIND_KERNEL"],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        folder.chmod(0o755)
        assert (done.returncode, done.stdout.strip(), done.stderr) == (0, "(1,)", "")
        assert [p.name for p in folder.iterdir()] == ["report.sqlite"]


# --- JSON export -----------------------------------------------------------------------------------


def json_export(path: Path, *events: dict) -> Path:
    """A JSON export of one kernel and a launch, plus raw event lines."""
    e = Export()
    e.kernel("k", 120, 220, e.call("cudaLaunchKernel_v7000", 100, 110))
    e.write_json(path)
    with path.open("a") as stream:
        stream.writelines(json.dumps(event) + "\n" for event in events)
    return path


def cuda_event(start: object, end: object, device: object = 0) -> dict:
    kernel = {"demangledName": "1", "shortName": "1"}
    return {"Type": 79, "CudaEvent": {"startNs": start, "endNs": end, "deviceId": device, "kernel": kernel}}


def test_json_hostile_numbers_are_dropped_and_counted_quickly(tmp_path: Path) -> None:
    path = json_export(
        tmp_path / "r.json",
        cuda_event("18446744073709551615", "18446744073709551616"),
        cuda_event("NaN", "5"),
        cuda_event("²", "5"),
        cuda_event("-5", "5"),
        cuda_event("300", "250"),
        cuda_event("400", "500", device=1e300),
        {"Type": 79, "CudaEvent": {"endNs": "5", "kernel": {}}},  # no start
        {"Type": 127, "CudaEvent": {"cudaEventRecord": {"eventId": "1"}}},  # not an activity kind we read
    )
    text = path.read_text().replace('"startNs": "-5"', '"startNs": 1e99999999')
    path.write_text(text)
    began = time.monotonic()
    trace = read_trace(path)
    assert time.monotonic() - began < 5
    kernels = trace.events.filter(trace.events.column("kind").to_numpy() == Kind.KERNEL)
    assert kernels.column("start_ns").to_pylist() == [120, 400]
    assert kernels.column("device").to_pylist() == [0, NONE]
    assert counted(trace, "CudaEvent.startNs") == 5
    assert counted(trace, "dur_ns") == 1


def test_json_string_table_with_a_stray_value_keeps_the_ids(tmp_path: Path) -> None:
    path = json_export(tmp_path / "r.json")
    text = path.read_text()
    path.write_text(text.replace('{"data":["",', '{"data":[7,', 1))
    names = set(read_trace(path).events.column("name").to_pylist())
    assert {"k", "cudaLaunchKernel_v7000"} <= names


def test_json_deep_nesting_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"data":[' + "[" * 200_000 + "]" * 200_000 + "]}\n")
    with pytest.raises(TraceError, match="nested too deeply") as error:
        read_trace(path)
    one_line_naming(error, path)


def test_json_event_of_the_wrong_type_is_a_one_line_error(tmp_path: Path) -> None:
    path = json_export(tmp_path / "r.json", {"Type": 79, "CudaEvent": "kernel"})
    with pytest.raises(TraceError, match="unexpected nsys JSON export content") as error:
        read_trace(path)
    one_line_naming(error, path)


def test_json_with_a_byte_order_mark(tmp_path: Path) -> None:
    plain = json_export(tmp_path / "plain.json")
    marked = tmp_path / "bom.json"
    marked.write_bytes(BOM + plain.read_bytes())
    assert detect_format(marked).name == "nsys-json"
    assert read_trace(marked).events.equals(read_trace(plain).events)


# --- nsys stats CSV --------------------------------------------------------------------------------

CSV_ROWS = [
    ("1.5", "2.25", "11", "NVIDIA H100 (1)", "7", "", "", "", "void k(int)"),
    ("5.000", "1.000", "12", "NVIDIA H100 (1)", "7", "0.004", "Pageable", "Device", "[CUDA memcpy HtoD]"),
]
CSV_HEADER = (
    "Start (us)",
    "Duration (us)",
    "CorrId",
    "Device",
    "Strm",
    "Bytes (MB)",
    "SrcMemKd",
    "DstMemKd",
    "Name",
)


def stats_csv(path: Path, rows: list[tuple], order: list[int] | None = None, prefix: bytes = b"") -> Path:
    order = order or list(range(len(CSV_HEADER)))
    lines = [",".join(f'"{line[i]}"' for i in order) for line in [CSV_HEADER, *rows]]
    path.write_bytes(prefix + ("\n".join(lines) + "\n").encode())
    return path


@pytest.mark.parametrize("prefix", [b"", BOM])
def test_csv_columns_in_another_order_and_a_byte_order_mark(tmp_path: Path, prefix: bytes) -> None:
    expected = read_trace(stats_csv(tmp_path / "plain.csv", CSV_ROWS)).events
    shuffled = stats_csv(tmp_path / "shuffled.csv", CSV_ROWS, [8, 1, 3, 0, 7, 6, 5, 4, 2], prefix)
    assert detect_format(shuffled).name == "nsys-csv"
    events = read_trace(shuffled).events
    assert events.equals(expected)
    assert events.column("start_ns").to_pylist() == [1500, 5000]
    assert events.column("bytes").to_pylist() == [NONE, 4000]


def test_csv_bad_times_are_dropped_and_counted(tmp_path: Path) -> None:
    bad = [
        ("9.0", "-1.0", "13", "GPU (0)", "7", "", "", "", "negative"),
        ("NaN", "1.0", "14", "GPU (0)", "7", "", "", "", "nan start"),
        ("²", "1.0", "15", "GPU (0)", "7", "", "", "", "superscript"),
        ("1e308", "1.0", "16", "GPU (0)", "7", "", "", "", "huge"),
        ("9.0", "", "17", "GPU (0)", "7", "", "", "", "no duration"),
        ("9.0", "1.0", "18", "GPU (99999999999999999999)", "x", "1e308", "", "", "odd ids"),
    ]
    path = stats_csv(tmp_path / "bad.csv", [*CSV_ROWS, *bad])
    with path.open("a") as stream:
        stream.write('"1.0","2.0"\n')  # a ragged row
    trace = read_trace(path)
    names = trace.events.column("name").to_pylist()
    assert names == ["void k(int)", "odd ids", "[CUDA memcpy HtoD]"]
    odd = trace.events.filter(trace.events.column("name").to_numpy(zero_copy_only=False) == "odd ids")
    assert (odd.column("device")[0].as_py(), odd.column("stream")[0].as_py()) == (NONE, NONE)
    assert counted(trace, "Start (us)") == 3
    assert counted(trace, "Duration (us)") == 2
    assert counted(trace, "row") == 1


@pytest.mark.parametrize(
    ("header", "missing"),
    [("Start (ns),Dur,Name", "Duration"), ('Start (ns),Duration (ns),"Strm,Name', "Name")],  # a stray quote
)
def test_csv_without_a_required_column_is_refused_by_name(tmp_path: Path, header: str, missing: str) -> None:
    path = tmp_path / "trace.csv"
    path.write_text(f"{header}\n1500,2250,k\n")
    assert detect_format(path).name == "nsys-csv"
    with pytest.raises(TraceError, match=f"lacks the column {missing}") as error:
        read_trace(path)
    one_line_naming(error, path)


def test_csv_with_carriage_returns_and_a_huge_field(tmp_path: Path) -> None:
    path = stats_csv(tmp_path / "cr.csv", CSV_ROWS)
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r", 1) + b'1,1,,,,,,,"x\ry"\n')
    assert read_trace(path).events.column("name").to_pylist() == ["void k(int)", "x\ry", "[CUDA memcpy HtoD]"]
    huge = stats_csv(tmp_path / "huge.csv", [(*CSV_ROWS[0][:-1], "k" * 200_000)])
    with pytest.raises(TraceError, match="malformed CSV") as error:
        read_trace(huge)
    one_line_naming(error, huge)


def test_csv_whose_every_row_is_dropped_says_why(tmp_path: Path) -> None:
    path = stats_csv(tmp_path / "dropped.csv", [("NaN", "1.0", "1", "GPU (0)", "7", "", "", "", "k")])
    with pytest.raises(TraceError, match=r"no events: .*\(1 value\(s\) of Start \(us\)") as error:
        read_trace(path)
    one_line_naming(error, path)
