"""The Ascend DB readers by whole columns against the row-by-row reader they replaced.

The row path (tracekit/readers/ascend/db.py, sqlite.py and rows.py at ROW_PATH_COMMIT) is loaded from
git history; both read the real DBs of ../shared/traces/msprof, a hand-built DB with cells of every
SQLite type (ascend_builder.mixed_profiler_db) and the bad-input corpus: same table, same run info,
same warnings in the same order (none of these inputs has two kinds of problem in one table, the one
case where the order could differ: the column path reports them column by column); with ADBC's
driver fetching the tables of integers and without it.
"""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ascend_builder import mixed_profiler_db
from conftest import shared_trace

from tracekit.errors import TraceError
from tracekit.model.schema import CopyDirection, Kind
from tracekit.readers import checked
from tracekit.readers.ascend import db as column_path
from tracekit.readers.ascend.rows import EventRows

ROW_PATH_COMMIT = "33810d5ac0f52bdb56dfd4f7a4def5d99e02bcb3"
"""The last commit whose DB reader converted row by row."""
REPO = Path(__file__).resolve().parents[2]
BAD_DBS = sorted((REPO / "tests" / "data" / "bad" / "ascend_db").glob("*.db"))
REAL_DBS = (
    "msprof/msinsight-msprof-db/msprof_0.db",
    "msprof/msinsight-torchnpu-db-level1/rank0_ascend_pt/ASCEND_PROFILER_OUTPUT/ascend_pytorch_profiler_0.db",
)
ANALYSIS_DB = "msprof/msinsight-torchnpu-db-level1/rank0_ascend_pt/ASCEND_PROFILER_OUTPUT/analysis.db"
_MODULES = ("db", "sqlite", "rows")


@pytest.fixture(autouse=True, params=["adbc", "sqlite3"])
def fetch(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test with ADBC's driver (a dependency; skipped where it is missing) and with sqlite3 only."""
    if request.param == "adbc":
        pytest.importorskip("adbc_driver_sqlite.dbapi", reason="adbc-driver-sqlite is not installed")
    else:
        monkeypatch.setitem(sys.modules, "adbc_driver_sqlite", None)
        monkeypatch.setitem(sys.modules, "adbc_driver_sqlite.dbapi", None)
    return request.param


@pytest.fixture(scope="module")
def row_path(tmp_path_factory: pytest.TempPathFactory):
    """The row-by-row reader as a package `ascend_row_path`, from git history."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed: the row path is read from git history")
    package = tmp_path_factory.mktemp("row_path") / "ascend_row_path"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name in _MODULES:
        shown = subprocess.run(
            ["git", "show", f"{ROW_PATH_COMMIT}:tracekit/readers/ascend/{name}.py"],
            cwd=REPO, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if shown.returncode:
            pytest.skip(f"commit {ROW_PATH_COMMIT[:7]} is not in this checkout's history (a shallow clone?)")
        source = shown.stdout
        for other in _MODULES:
            source = source.replace(f"tracekit.readers.ascend.{other} ", f"ascend_row_path.{other} ")
        (package / f"{name}.py").write_text(source)
    sys.path.insert(0, str(package.parent))
    try:
        yield (
            importlib.import_module("ascend_row_path.db"),
            importlib.import_module("ascend_row_path.rows").EventRows,
        )
    finally:
        sys.path.remove(str(package.parent))
        for name in [m for m in sys.modules if m.startswith("ascend_row_path")]:
            del sys.modules[name]


def _read(reader, rows_class, path: Path) -> tuple:
    """(table, run info, warnings) of one DB, or the input error it raised."""
    rows = rows_class()
    with checked.collecting() as problems:
        try:
            info = reader.read_database(path, rows, 0)
            table = rows.table()
        except TraceError as error:
            return ("error", str(error))
    return table, info, problems.warnings()


def _assert_same(path: Path, row_path) -> tuple:
    old, new = _read(*row_path, path), _read(column_path, EventRows, path)
    if old[0] == "error" or new[0] == "error":
        assert new == old
        return new
    assert new[0].schema == old[0].schema
    assert new[0].to_pylist() == old[0].to_pylist()
    assert new[1] == old[1]
    assert new[2] == old[2]
    return new


@pytest.mark.parametrize("relative", REAL_DBS)
def test_real_dbs_read_as_by_the_row_path(relative: str, row_path) -> None:
    table, info, _ = _assert_same(shared_trace(relative), row_path)
    assert table.num_rows > 0 and info["devices"]


def test_real_analysis_db_step_trace_as_by_the_row_path(row_path) -> None:
    path = shared_trace(ANALYSIS_DB)
    (step,) = column_path.read_step_trace_db(path)
    assert step == row_path[0].read_step_trace_db(path)[0]
    # the file's StepTraceTime row: step '50', computing 8903.431 µs, stage 132233.522 µs
    assert (step["step"], step["computing_ns"], step["stage_ns"]) == ("50", 8903431, 132233522)


def test_mixed_db_read_as_by_the_row_path(tmp_path: Path, row_path) -> None:
    table, info, warnings = _assert_same(
        mixed_profiler_db(tmp_path / "ascend_pytorch_profiler_0.db"), row_path
    )
    rows = table.to_pylist()
    by_name = {}
    for row in rows:
        by_name.setdefault(row["name"], []).append(row)
    (kernel,) = by_name["aclnnOp0_Redefined"]  # COMPUTE_TASK_INFO id 10 twice: the last row
    assert (kernel["block_dim"], kernel["core_type"], kernel["input_shapes"], kernel["wait_ns"]) == (
        99, "MIX_AIC", "4", 7,
    )  # fmt: skip
    assert by_name["aclnnOp1_Kernel"][0]["input_shapes"] == "8,8"  # its quotes taken off
    assert [r["kind"] for r in by_name["FFTS_PLUS"]] == [Kind.MARKER]
    assert [r["kind"] for r in by_name["KERNEL_AICORE"]] == [Kind.KERNEL, Kind.KERNEL]
    copies = [(r["bytes"], r["copy_direction"], r["device"]) for r in by_name["MEMCPY_ASYNC"]]
    assert copies == [(4096, CopyDirection.H2D, 1), (512, CopyDirection.D2D, 1)]
    assert by_name["C_CORE_SQE"][0]["kind"] == Kind.MARKER  # launched by the collective (connection 70)
    assert (by_name["HCCL"][0]["start_ns"], by_name["HCCL"][0]["dur_ns"]) == (12500, 500)  # digit texts
    assert by_name["PlainText"][0]["device"] == -1
    assert by_name["Runtime@aclrtSynchronizeStream"][0]["kind"] == Kind.SYNC
    api = by_name["Api@aclnnOp2"][0]
    assert (api["process"], api["thread"], api["correlation"]) == (-1, -1, 53)
    assert by_name["AscendCL@a name stored as text"][0]["correlation"] == 53  # "0053"
    assert by_name["aten::mul"][0]["start_ns"] == 1000  # "1e3"
    assert "<string 99999>" in by_name
    assert [r["step"] for r in by_name["ProfilerStep#3"]] == [3]
    assert [r["name"] for r in rows if r["layer"] == "Overlap Analysis"] == [
        "Computing", "Communication", "Communication(Not Overlapped)", "Free",
    ]  # fmt: skip
    assert info == {"devices": [1], "chips": ["Ascend910B4"], "rank": 3}
    assert warnings == [
        "1 value(s) of TASK.startNs: missing, not an integer or out of range; event dropped",
        "1 value(s) of TASK.endNs: missing, not an integer or out of range; event dropped",
        "1 value(s) of TASK.deviceId: outside [0, 2147483647], read as unknown",
        "1 value(s) of dur_ns: negative (end before start); event dropped",
    ]


@pytest.mark.parametrize("path", BAD_DBS, ids=[p.name for p in BAD_DBS])
def test_bad_input_dbs_read_as_by_the_row_path(path: Path, row_path) -> None:
    _assert_same(path, row_path)
