"""`tracekit export`: Parquet and CSV tables read back in pandas and DuckDB with the analysis numbers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest
from ascend_builder import task, write_rank
from kineto_builder import kernel, memcpy, runtime, step, write_trace
from msgspec.structs import asdict

import tracekit
from tracekit.analysis.document import Document

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_traces" / "h2d28_separate.pt.trace.json.gz"


def _export(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tracekit", "export", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every table of the sample trace as Parquet."""
    folder = tmp_path_factory.mktemp("export")
    paths = {}
    for table in ("events", "kernels", "copies", "steps", "bubbles", "hotspots"):
        paths[table] = folder / f"{table}.parquet"
        result = _export(SAMPLE, "--parquet", paths[table], "--table", table)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(f"{table}: ") and str(paths[table]) in result.stdout
    return paths


@pytest.fixture(scope="module")
def document() -> Document:
    """The analysis of the sample with every kernel group listed."""
    return tracekit.analyze(SAMPLE, top=10_000).document


def _sql(query: str, path: Path) -> tuple:
    (row,) = duckdb.sql(query.replace("FILE", f"'{path}'")).fetchall()
    return row


def test_kernels_read_back_with_the_analysis_count_and_time(exported: dict, document: Document) -> None:
    hotspots = document.devices[0].hotspots
    expected = (sum(h.count for h in hotspots), sum(h.total_ns for h in hotspots))
    assert expected[0] == 70  # the 7 kernels of each of the 10 steps (tests/data/gpu/SOURCE.md)
    frame = pd.read_parquet(exported["kernels"])
    assert (len(frame), int(frame["dur_ns"].sum())) == expected
    assert _sql("SELECT count(*), sum(dur_ns) FROM FILE", exported["kernels"]) == expected
    assert set(frame["kind"]) == {"kernel"}
    hot = pd.read_parquet(exported["hotspots"])
    assert (int(hot["count"].sum()), int(hot["total_ns"].sum())) == expected
    assert _sql("SELECT sum(count), sum(total_ns) FROM FILE", exported["hotspots"]) == expected


def test_copies_read_back_with_the_analysis_totals(exported: dict, document: Document) -> None:
    h2d = document.devices[0].h2d
    frame = pd.read_parquet(exported["copies"])
    copies = frame[frame["copy_direction"] == "h2d"]
    assert (len(copies), int(copies["dur_ns"].sum()), int(copies["bytes"].sum())) == (
        h2d.count,
        h2d.total_ns,
        h2d.bytes,
    )
    query = "SELECT count(*), sum(dur_ns), sum(bytes) FROM FILE WHERE copy_direction = 'h2d'"
    assert _sql(query, exported["copies"]) == (h2d.count, h2d.total_ns, h2d.bytes)
    assert h2d.count == 280  # 28 copies in each of the 10 steps
    pageable = "SELECT count(*) FROM FILE WHERE copy_direction = 'h2d' AND src_memory = 'pageable'"
    assert _sql(pageable, exported["copies"]) == (h2d.pageable_count,)


def test_bubbles_and_steps_read_back_with_the_analysis_numbers(exported: dict, document: Document) -> None:
    bubbles = document.devices[0].bubbles
    assert _sql("SELECT count(*), sum(dur_ns), max(dur_ns) FROM FILE", exported["bubbles"]) == (
        bubbles.count,
        bubbles.total_ns,
        bubbles.max_ns,
    )
    by_cause = dict(
        duckdb.sql(f"SELECT cause, count(*) FROM '{exported['bubbles']}' GROUP BY cause").fetchall()
    )
    causes = asdict(bubbles.by_cause)
    assert by_cause == {cause: block.count for cause, block in causes.items() if block.count}
    steps = document.steps
    frame = pd.read_parquet(exported["steps"])
    assert frame["step"].tolist() == steps.series.step
    assert frame["duration_ns"].tolist() == steps.series.duration_ns
    assert int(frame["duration_ns"].sum()) == round(steps.duration_ns.mean * steps.count)


def test_events_keep_the_canonical_columns_with_labels(exported: dict) -> None:
    table = pq.read_table(exported["events"])
    trace = tracekit.load(SAMPLE)
    assert table.column_names == trace.events.column_names and table.num_rows == trace.events.num_rows
    assert table.schema.field("kind").type.value_type == "string"
    assert _sql("SELECT count(*) FROM FILE WHERE kind = 'kernel'", exported["events"]) == (70,)


def test_csv_has_the_labels_as_text(tmp_path: Path) -> None:
    trace = write_trace(
        tmp_path / "t.json",
        [
            step(1, 0, 50),
            runtime("cudaMemcpyAsync", 1, 2, correlation=1),
            memcpy("Memcpy DtoH (Device -> Pinned)", 10, 4, 64, correlation=1),
            kernel("k", 20, 5),
        ],
    )
    out = tmp_path / "out" / "copies.csv"
    result = _export(trace, "--csv", out, "--table", "copies")
    assert result.returncode == 0, result.stderr
    rows = pd.read_csv(out)
    assert rows[
        ["kind", "copy_direction", "src_memory", "dst_memory", "bytes", "dur_ns"]
    ].values.tolist() == [["memcpy", "d2h", "device", "pinned", 64, 4000]]
    assert [p.name for p in out.parent.iterdir()] == ["copies.csv"]  # no temporary file left


def test_several_ranks_make_one_table_with_a_rank_column(tmp_path: Path) -> None:
    write_rank(tmp_path / "job", 0, [task("MatMul", "10.000", 5.0)])
    write_rank(tmp_path / "job", 3, [task("MatMul", "10.000", 7.0), task("Add", "20.000", 1.0)])
    out = tmp_path / "k.parquet"
    assert _export(tmp_path / "job", "--parquet", out, "--table", "kernels").returncode == 0
    query = "SELECT rank, count(*), sum(dur_ns) FROM FILE GROUP BY rank ORDER BY rank"
    assert duckdb.sql(query.replace("FILE", f"'{out}'")).fetchall() == [(0, 1, 5_000), (3, 2, 8_000)]


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing", "missing.json: no such file"),
        ("directory output", "out: is a directory"),
        ("no output", "give one of --parquet FILE or --csv FILE"),
        ("both outputs", "give one of --parquet FILE or --csv FILE"),
        ("unknown table", "must be one of events, kernels, copies, steps, bubbles, hotspots, not 'gpus'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, case: str, message: str) -> None:
    (tmp_path / "out").mkdir()
    arguments = {
        "missing": [tmp_path / "missing.json", "--csv", tmp_path / "a.csv"],
        "directory output": [SAMPLE, "--parquet", tmp_path / "out"],
        "no output": [SAMPLE],
        "both outputs": [SAMPLE, "--csv", tmp_path / "a.csv", "--parquet", tmp_path / "a.parquet"],
        "unknown table": [SAMPLE, "--csv", tmp_path / "a.csv", "--table", "gpus"],
    }[case]
    result = _export(*arguments)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "a.csv").exists()
