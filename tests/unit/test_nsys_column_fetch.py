"""nsys SQLite integer columns: fetched by ADBC's driver (a dependency) or by sqlite3 (the driver
hidden: the fallback), the same events; StringIds looked up by a direct table (dense ids) or by
binary search (sparse ids), the same names."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import numpy as np
import pytest
from nsys_builder import DEVICE, HTOD, PINNED, Export

from tracekit.readers import read_trace
from tracekit.readers.nsys import export_db


def _export(tmp_path: Path, name: str = "report.sqlite") -> Path:
    e = Export()
    e.nvtx("ProfilerStep#1", 50, 950)
    for i in range(5):
        start = 100 + 150 * i
        e.kernel(
            f"void k{i % 2}<float>(int)",
            start + 20,
            start + 90,
            e.call("cudaLaunchKernel_v7000", start, start + 10),
        )
    e.memcpy(900, 940, 4096, HTOD, PINNED, DEVICE, e.call("cudaMemcpyAsync_v3020", 880, 890))
    e.kernel("never_timed", 0, 0)
    return e.write(tmp_path / name)


def _read(path: Path) -> tuple[list[dict], list[str] | None]:
    trace = read_trace(path)
    return trace.events.to_pylist(), trace.metadata.get("warnings")


def test_adbc_and_sqlite3_fetch_the_same_events(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("adbc_driver_sqlite.dbapi", reason="adbc-driver-sqlite is not installed")
    path = _export(tmp_path)
    db = sqlite3.connect(path)
    starts, _ = export_db.arrow_integer_columns(db, "SELECT start, end FROM CUPTI_ACTIVITY_KIND_KERNEL")
    assert starts.tolist() == [120, 270, 420, 570, 720, 0]
    db.close()
    with_adbc = _read(path)
    monkeypatch.setitem(sys.modules, "adbc_driver_sqlite", None)
    monkeypatch.setitem(sys.modules, "adbc_driver_sqlite.dbapi", None)
    assert export_db.arrow_integer_columns(sqlite3.connect(path), "SELECT start FROM StringIds") is None
    assert _read(path) == with_adbc
    names = [row["name"] for row in with_adbc[0] if row["kind"] == 0]
    assert names == [
        "void k0<float>(int)",
        "void k1<float>(int)",
        "void k0<float>(int)",
        "void k1<float>(int)",
        "void k0<float>(int)",
    ]


def test_sparse_string_ids_give_the_same_names_as_dense_ones(tmp_path: Path) -> None:
    dense = _export(tmp_path, "dense.sqlite")
    sparse = _export(tmp_path, "sparse.sqlite")
    factor = 1_000_003  # ids far apart: binary search instead of a table indexed by id
    with sqlite3.connect(sparse) as db:
        db.execute("UPDATE StringIds SET id = id * ?", (factor,))
        db.execute(
            "UPDATE CUPTI_ACTIVITY_KIND_KERNEL SET demangledName = demangledName * ?, "
            "shortName = shortName * ?",
            (factor, factor),
        )
        db.execute("UPDATE CUPTI_ACTIVITY_KIND_RUNTIME SET nameId = nameId * ?", (factor,))
    assert _read(sparse) == _read(dense)
    ids = np.array([0, 5, 9])
    wanted = np.array([5, 6, -1, 9, 2**62, -(2**63), 0, 3])
    assert export_db._id_lookup(ids, np.arange(3), wanted, -1).tolist() == [1, -1, -1, 2, -1, -1, 0, -1]
    for other in (
        [3, 5, 9],
        [-5, 5, 9],
        [0, 5, 2**40],
    ):  # ids from 3: table; a negative id, far apart: search
        found = export_db._id_lookup(np.array(other), np.arange(3), wanted, -1).tolist()
        assert found == [other.index(w) if w in other else -1 for w in wanted.tolist()]


@pytest.mark.parametrize(("odd", "stored"), [("700 ns", "text"), (700.5, "real"), (None, "null")])
def test_a_late_value_of_another_type_reads_as_without_the_driver(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, odd: object, stored: str
) -> None:
    pytest.importorskip("adbc_driver_sqlite.dbapi", reason="adbc-driver-sqlite is not installed")
    path = _export(tmp_path)
    kernels = "FROM CUPTI_ACTIVITY_KIND_KERNEL"
    with sqlite3.connect(path) as db:  # the 4th kernel's start: a text, a real, a NULL
        db.execute("UPDATE CUPTI_ACTIVITY_KIND_KERNEL SET start = ? WHERE rowid = 4", (odd,))
        assert db.execute(f"SELECT typeof(start) {kernels} WHERE rowid = 4").fetchone() == (stored,)
    assert export_db.arrow_integer_columns(sqlite3.connect(path), f"SELECT start {kernels}") is None
    with_adbc = _read(path)
    monkeypatch.setitem(sys.modules, "adbc_driver_sqlite", None)
    monkeypatch.setitem(sys.modules, "adbc_driver_sqlite.dbapi", None)
    assert _read(path) == with_adbc
    assert len(with_adbc[0]) == 12 and with_adbc[1] == [
        "1 value(s) of CUPTI_ACTIVITY_KIND_KERNEL.start: missing, not an integer or out of range; "
        "event dropped"
    ]
