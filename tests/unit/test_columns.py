"""Column and row lookups the analyses share (tracekit/model/trace.py, analysis/columns.py,
operator_links.py), exact on tables built here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
from kineto_builder import cpu_op, kernel, runtime, step, write_trace

from tracekit.analysis.columns import Columns
from tracekit.analysis.operator_links import _thread_codes
from tracekit.model.correlation import row_index_dtype
from tracekit.model.schema import Kind
from tracekit.model.trace import whole_column
from tracekit.readers import read_trace


def _columns(tmp_path: Path) -> Columns:
    events = [step(1, 0, 100), step(3, 200, 100)]
    for t in (10, 20, 210, 320):  # the last one after both steps: no step
        events.append(cpu_op("aten::mm", t, 5, external_id=t))
        events.append(runtime("cudaLaunchKernel", t + 1, 2, correlation=t))
        events.append(kernel("gemm", t + 4, 3, correlation=t))
    return Columns.from_table(read_trace(write_trace(tmp_path / "t.json", events)).events)


def test_step_rows_are_each_steps_rows_in_table_order(tmp_path: Path) -> None:
    cols = _columns(tmp_path)
    for value in (1, 3, -1):
        assert cols.step_rows(value).tolist() == np.flatnonzero(cols.step == value).tolist()
    assert len(cols.step_rows(1)) == 7 and len(cols.step_rows(3)) == 4
    for absent in (0, 2, 4, -5):
        assert cols.step_rows(absent).tolist() == []


def test_thread_codes_number_the_pairs_of_the_asked_rows_only() -> None:
    table = pa.table({"process": [1, 1, 2, 1, 9, 2], "thread": [7, 5, 7, 7, 9, 7]})
    codes = _thread_codes(table, np.array([0, 1, 2, 3, 5]))
    assert codes.tolist() == [1, 0, 2, 1, -1, 2]  # (1,5) < (1,7) < (2,7); row 4 not asked
    assert codes.dtype == np.int32


def test_whole_column_keeps_one_chunk_and_joins_several() -> None:
    one = pa.array(np.arange(1000))
    table = pa.table({"x": pa.chunked_array([one])})
    assert whole_column(table, "x").buffers()[1].address == one.buffers()[1].address  # no copy
    joined = whole_column(pa.table({"x": pa.chunked_array([one[:10], one[10:]])}), "x")
    assert joined.to_pylist() == list(range(1000))


def test_row_indices_are_int32_below_two_to_the_31_rows(tmp_path: Path) -> None:
    assert row_index_dtype(2**31 - 1) is np.int32 and row_index_dtype(2**31) is np.int64
    cols = _columns(tmp_path)
    assert cols.launch.dtype == np.int32 and cols.step_rows(1).dtype == np.int32
    calls = cols.launch[cols.kind == Kind.KERNEL]
    assert (cols.kind[calls] == Kind.RUNTIME).all() and len(calls) == 4
