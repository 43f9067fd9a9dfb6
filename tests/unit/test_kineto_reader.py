"""The Kineto / Chrome reader on tiny built traces: times, kinds, copies, schema eras, detection."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from kineto_builder import kernel, runtime, step, write_trace

from tracekit.errors import TraceError
from tracekit.model.schema import EVENT_SCHEMA, NONE, CopyDirection, Kind, MemoryKind
from tracekit.readers import HOST_ONLY_WARNING, detect_format, read_trace
from tracekit.readers.checked import us_to_ns as decimal_us_to_ns
from tracekit.readers.kineto import _parse_copy_name
from tracekit.readers.timeunits import us_to_ns


def _column(trace, name: str) -> list:
    return trace.events.column(name).to_pylist()


def test_table_has_the_canonical_schema(tmp_path: Path) -> None:
    trace = read_trace(write_trace(tmp_path / "t.json", [kernel("k", 1, 2)]))
    assert trace.events.schema.equals(EVENT_SCHEMA, check_metadata=True)


@pytest.mark.parametrize(
    ("ts_text", "expected_ns"),
    [
        ("4432833890994.801", 4432833890994801),  # float µs with 3 decimals, as torch 2.11 writes
        ("1623142623529248", 1623142623529248000),  # whole epoch µs, as 2021 traces write
        ("0.001", 1),
        ("1694039994071305.123", 1694039994071305123),  # beyond float precision: exact decode path
    ],
)
def test_microseconds_become_exact_nanoseconds(tmp_path: Path, ts_text: str, expected_ns: int) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"traceEvents": [kernel("k", 0, 1.5)]}).replace('"ts": 0', f'"ts": {ts_text}'))
    trace = read_trace(path)
    assert _column(trace, "start_ns") == [expected_ns]
    assert _column(trace, "dur_ns") == [1500]


def test_float_conversion_does_not_drift_over_many_values() -> None:
    whole = np.arange(4_000_000_000_000, 4_000_000_000_000 + 5000, dtype=np.int64)
    thousandths = np.arange(5000, dtype=np.int64) % 1000
    text_values = [f"{w}.{t:03d}" for w, t in zip(whole, thousandths, strict=True)]
    converted = us_to_ns(np.array([float(v) for v in text_values]))
    assert (converted == whole * 1000 + thousandths).all()
    assert [decimal_us_to_ns(v, "ts") for v in ("1.0005", "2")] == [1000, 2000]  # half to even, whole µs


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Memcpy HtoD (Pageable -> Device)", (CopyDirection.H2D, MemoryKind.PAGEABLE, MemoryKind.DEVICE)),
        ("Memcpy HtoD (Pinned -> Device)", (CopyDirection.H2D, MemoryKind.PINNED, MemoryKind.DEVICE)),
        ("Memcpy DtoH (Device -> Pageable)", (CopyDirection.D2H, MemoryKind.DEVICE, MemoryKind.PAGEABLE)),
        ("Memcpy DtoD (Device -> Device)", (CopyDirection.D2D, MemoryKind.DEVICE, MemoryKind.DEVICE)),
        ("Memcpy PtoP (Device -> Device)", (CopyDirection.P2P, MemoryKind.DEVICE, MemoryKind.DEVICE)),
        ("Memcpy HtoD (Host -> Device)", (CopyDirection.H2D, MemoryKind.HOST, MemoryKind.DEVICE)),
        ("Memcpy HtoD (Managed -> Device)", (CopyDirection.H2D, MemoryKind.MANAGED, MemoryKind.DEVICE)),
        ("Memcpy HtoD", (CopyDirection.H2D, MemoryKind.UNKNOWN, MemoryKind.UNKNOWN)),
        ("Memcpy AtoD (Array -> Device)", (CopyDirection.D2D, MemoryKind.DEVICE, MemoryKind.DEVICE)),
        ("Memset (Device)", (CopyDirection.NA, MemoryKind.UNKNOWN, MemoryKind.UNKNOWN)),
    ],
)
def test_copy_direction_and_memory_kinds_from_names(name: str, expected: tuple) -> None:
    assert _parse_copy_name(name) == expected


def test_kinds_links_and_steps(tmp_path: Path) -> None:
    events = [
        step(1, 0, 50),
        runtime("cudaLaunchKernel", 1, 2, correlation=9),
        kernel("ncclKernel_AllReduce_RING_LL_Sum_float(ncclDevComm*)", 10, 5, correlation=9),
        runtime("cudaDeviceSynchronize", 3, 1),
        {"ph": "X", "cat": "gpu_memset", "name": "Memset (Device)", "pid": 0, "tid": 7, "ts": 20, "dur": 1,
         "args": {"device": 0, "stream": 7, "bytes": 64}},
        {"ph": "X", "cat": "gpu_user_annotation", "name": "ProfilerStep#1", "pid": 0, "tid": 7, "ts": 9,
         "dur": 30},
        {"ph": "s", "cat": "ac2g", "name": "ac2g", "id": 9, "pid": 100, "tid": 100, "ts": 1},
        {"ph": "M", "name": "process_name", "pid": 0, "args": {"name": "GPU 0"}},
    ]  # fmt: skip
    trace = read_trace(write_trace(tmp_path / "t.json", events))
    kinds = dict(zip(_column(trace, "name"), _column(trace, "kind"), strict=False))
    assert kinds["ncclKernel_AllReduce_RING_LL_Sum_float(ncclDevComm*)"] == Kind.COMMUNICATION
    assert kinds["cudaDeviceSynchronize"] == Kind.SYNC
    assert kinds["cudaLaunchKernel"] == Kind.RUNTIME
    assert kinds["Memset (Device)"] == Kind.MEMSET
    assert trace.events.num_rows == 6  # flows and metadata are not events
    assert set(_column(trace, "step")) == {1}
    assert _column(trace, "device") == [NONE, NONE, 0, NONE, 0, 0]
    assert _column(trace, "bytes")[4] == 64


def test_2021_capitalised_categories_and_string_tids(tmp_path: Path) -> None:
    events = [
        {"ph": "X", "cat": "Operator", "name": "ProfilerStep#4", "pid": 5, "tid": "5", "ts": 0, "dur": 100},
        {"ph": "X", "cat": "Runtime", "name": "cudaMemcpyAsync", "pid": 5, "tid": "5", "ts": 1, "dur": 3,
         "args": {"correlation": 11, "external id": 2}},
        {"ph": "X", "cat": "Memcpy", "name": "Memcpy HtoD (Pageable -> Device)", "pid": 0, "tid": "stream 7",
         "ts": 5, "dur": 4, "args": {"device": 0, "stream": 7, "correlation": 11, "bytes": 256}},
        {"ph": "X", "cat": "Kernel", "name": "k", "pid": 0, "tid": "stream 7", "ts": 10, "dur": 2,
         "args": {"device": 0, "stream": 7, "correlation": 12}},
    ]  # fmt: skip
    trace = read_trace(write_trace(tmp_path / "t.json", events, gz=True))
    assert trace.format == "kineto"
    assert _column(trace, "kind") == [Kind.STEP, Kind.RUNTIME, Kind.MEMCPY, Kind.KERNEL]
    assert _column(trace, "step") == [4, 4, 4, 4]
    assert _column(trace, "thread")[1] == 5
    assert _column(trace, "stream")[2:] == [7, 7]
    assert _column(trace, "external_id")[1] == 2


def test_generic_chrome_trace_with_begin_end_pairs(tmp_path: Path) -> None:
    events = [
        {"ph": "B", "name": "outer", "pid": 1, "tid": 1, "ts": 0},
        {"ph": "B", "name": "inner", "pid": 1, "tid": 1, "ts": 2},
        {"ph": "E", "pid": 1, "tid": 1, "ts": 5},
        {"ph": "E", "pid": 1, "tid": 1, "ts": 10},
        {"ph": "X", "cat": "FEE", "name": "f", "pid": 1, "tid": 2, "ts": 3, "dur": 4},
        {"ph": "B", "name": "never closed", "pid": 1, "tid": 3, "ts": 1},
    ]
    path = write_trace(tmp_path / "viz.json", events, array_form=True)
    assert detect_format(path).name == "chrome"
    trace = read_trace(path)
    rows = sorted(
        zip(_column(trace, "name"), _column(trace, "start_ns"), _column(trace, "dur_ns"), strict=True)
    )
    assert rows == [("f", 3000, 4000), ("inner", 2000, 3000), ("outer", 0, 10000)]
    assert set(_column(trace, "kind")) == {Kind.CPU_OP}


def test_detection_is_by_content_not_extension(tmp_path: Path) -> None:
    path = write_trace(tmp_path / "trace.bin", [kernel("k", 1, 2)], gz=True)
    assert detect_format(path).name == "kineto"
    assert read_trace(path, "chrome").format == "chrome"


def test_unknown_content_lists_supported_formats(tmp_path: Path) -> None:
    path = tmp_path / "notes.json"
    path.write_text('{"hello": 1}')
    with pytest.raises(
        TraceError, match=r"notes\.json: unrecognised trace format; supported: .*kineto, chrome"
    ):
        read_trace(path)


def test_kineto_trace_without_device_events_loads_for_the_host_side_with_a_warning(tmp_path: Path) -> None:
    path = write_trace(tmp_path / "cpu.json", [step(1, 0, 10), runtime("cudaMalloc", 1, 2)])
    trace = read_trace(path)
    assert trace.format == "kineto" and trace.events.num_rows == 2
    assert trace.metadata["warnings"] == [HOST_ONLY_WARNING]
    assert read_trace(path, "chrome").events.num_rows == 2


def test_unknown_format_name(tmp_path: Path) -> None:
    path = write_trace(tmp_path / "t.json", [kernel("k", 1, 2)])
    with pytest.raises(TraceError, match="unknown format 'vtune'"):
        read_trace(path, "vtune")
