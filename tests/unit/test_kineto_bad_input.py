"""The Kineto / Chrome reader on the failing inputs of issue 12, each built here: real traces it used to
refuse, and hostile values it used to crash on or accept silently."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from kineto_builder import kernel, memory, runtime, step, write_trace

from tracekit.analysis.analyze import analyze
from tracekit.errors import TraceError
from tracekit.model.schema import NONE, Kind
from tracekit.readers import detect_format, read_trace
from tracekit.readers.checked import MAX_NAME_CHARS

EVENTS = [
    step(1, 0, 100),
    runtime("cudaLaunchKernel", 1, 2, correlation=5),
    kernel("k", 10, 20, correlation=5),
]


def _write_text(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _kernel_text(**fields: object) -> str:
    """One kernel event as JSON text, with fields replaced by raw JSON literals."""
    event = {"ph": "X", "cat": "kernel", "name": "k", "pid": 0, "tid": 7, "ts": 10, "dur": 20}
    event["args"] = {"device": 0, "stream": 7, "correlation": 5}
    text = json.dumps(event)
    for key, literal in fields.items():
        written = json.dumps(event.get(key, event["args"].get(key)))
        text = text.replace(f'"{key}": {written}', f'"{key}": {literal}')
    return text


def _trace_with(tmp_path: Path, kernel_text: str) -> Path:
    good = ", ".join(json.dumps(e) for e in EVENTS)
    return _write_text(tmp_path / "t.json", f'{{"schemaVersion": 1, "traceEvents": [{good}, {kernel_text}]}}')


def test_trace_events_after_a_long_header_are_found(tmp_path: Path) -> None:
    ranks = [{"rank": r, "pg_config": "x" * 100} for r in range(400)]  # about 46 KB before traceEvents
    header = {"schemaVersion": 1, "distributedInfo": {"backend": "nccl", "ranks": ranks}}
    document = {**header, "traceEvents": EVENTS}
    path = _write_text(tmp_path / "rank0.json", json.dumps(document))
    assert path.read_text().index("traceEvents") > 40_000
    assert detect_format(path).name == "kineto"
    assert read_trace(path).events.num_rows == 3


def test_unterminated_array_is_read_up_to_the_last_complete_event_with_a_warning(tmp_path: Path) -> None:
    text = "[" + ", ".join(json.dumps(e) for e in EVENTS) + ', {"ph": "X", "cat": "kernel", "args": {"de'
    trace = read_trace(_write_text(tmp_path / "crashed.json", text))
    assert trace.events.num_rows == 3
    assert any("not terminated" in w for w in trace.metadata["warnings"])


def test_unterminated_array_ending_after_a_comma(tmp_path: Path) -> None:
    text = "[" + ", ".join(json.dumps(e) for e in EVENTS) + ",\n"
    assert read_trace(_write_text(tmp_path / "crashed.json", text)).events.num_rows == 3


@pytest.mark.parametrize("text", ["[]", '{"traceEvents": []}', '{"schemaVersion": 1, "traceEvents": []}'])
def test_empty_traces_are_bad_input(tmp_path: Path, text: str) -> None:
    with pytest.raises(TraceError, match=r"empty\.json: no events: the trace is empty"):
        read_trace(_write_text(tmp_path / "empty.json", text))


def test_object_without_trace_events_is_refused(tmp_path: Path) -> None:
    path = _write_text(tmp_path / "t.json", '{"schemaVersion": 1, "deviceProperties": []}')
    with pytest.raises(TraceError, match="without a traceEvents array"):
        read_trace(path, "kineto")


def test_utf8_byte_order_mark_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"schemaVersion": 1, "traceEvents": EVENTS}).encode())
    assert detect_format(path).name == "kineto"
    assert read_trace(path).events.num_rows == 3


def test_unknown_schema_version_loads_with_a_warning_naming_it(tmp_path: Path) -> None:
    path = _write_text(tmp_path / "t.json", json.dumps({"schemaVersion": 999, "traceEvents": EVENTS}))
    trace = read_trace(path)
    assert trace.events.num_rows == 3
    assert any("schemaVersion 999" in w for w in trace.metadata["warnings"])


@pytest.mark.parametrize(
    ("literal", "field"),
    [("1e308", "ts"), ("-1e300", "ts"), ("99999999999999999999999", "ts"), ("-5", "dur")],
)
def test_unusable_times_drop_the_event_with_a_counted_warning(
    tmp_path: Path, literal: str, field: str
) -> None:
    trace = read_trace(_trace_with(tmp_path, _kernel_text(**{field: literal})))
    assert trace.events.num_rows == 3  # the three good events
    assert any(f"value(s) of {field}" in w for w in trace.metadata["warnings"])


def test_string_time_is_a_type_error_naming_the_file(tmp_path: Path) -> None:
    path = _trace_with(tmp_path, _kernel_text(ts='"soon"'))
    with pytest.raises(TraceError, match=r"t\.json: unexpected trace JSON content"):
        read_trace(path)


def test_kernel_without_ts_is_dropped_not_placed_at_zero(tmp_path: Path) -> None:
    text = _kernel_text().replace('"ts": 10, ', "")
    trace = read_trace(_trace_with(tmp_path, text))
    assert trace.events.num_rows == 3
    kernels = trace.events.filter(trace.events.column("kind").to_numpy() == Kind.KERNEL)
    assert kernels.column("start_ns").to_pylist() == [10_000]
    assert any("value(s) of ts" in w for w in trace.metadata["warnings"])


def test_huge_number_literal_does_not_hang(tmp_path: Path) -> None:
    began = time.monotonic()
    with pytest.raises(TraceError, match="unexpected trace JSON content"):
        read_trace(_trace_with(tmp_path, _kernel_text(ts="1e99999999")))
    assert time.monotonic() - began < 10


@pytest.mark.parametrize(
    ("field", "literal", "column", "good"),
    [
        ("pid", "18446744073709551615", "device", 0),
        ("device", "2147483648", "device", 0),
        ("correlation", "1e300", "correlation", 5),
    ],
)
def test_ids_out_of_range_become_unknown_with_a_warning(
    tmp_path: Path, field: str, literal: str, column: str, good: int
) -> None:
    text = _kernel_text(**{field: literal})
    if field == "pid":
        text = text.replace('"device": 0, ', "")
    trace = read_trace(_trace_with(tmp_path, text))
    kernels = trace.events.filter(trace.events.column("kind").to_numpy() == Kind.KERNEL)
    assert kernels.column(column).to_pylist() == [good, NONE]  # the good kernel, then the bad one
    assert any(f"value(s) of {field}" in w for w in trace.metadata["warnings"])


def test_step_number_past_int64_is_not_a_step_number(tmp_path: Path) -> None:
    events = [{**step(1, 0, 100), "name": "ProfilerStep#" + "9" * 20}, kernel("k", 10, 20)]
    trace = read_trace(write_trace(tmp_path / "t.json", events))
    assert any("value(s) of step" in w for w in trace.metadata["warnings"])


def test_memory_sample_with_a_huge_size_is_unknown_not_a_crash(tmp_path: Path) -> None:
    sample = memory(5, 1e300, 1024)
    trace = read_trace(write_trace(tmp_path / "t.json", [*EVENTS, sample]))
    assert any("Bytes" in w or "size" in w for w in trace.metadata["warnings"])


def test_deep_nesting_is_a_one_line_error(tmp_path: Path) -> None:
    deep = '{"traceEvents": [{"ph": "X", "args": {"x": ' + "[" * 100_000 + "]" * 100_000 + "}}]}"
    with pytest.raises(TraceError, match="nested too deeply"):
        read_trace(_write_text(tmp_path / "deep.json", deep), "kineto")


def test_long_kernel_name_is_cut_and_analysed_quickly(tmp_path: Path) -> None:
    name = "void k<" + "int, " * 2_000_000 + "float>(int)"  # 10 MB
    began = time.monotonic()
    trace = read_trace(write_trace(tmp_path / "t.json", [step(1, 0, 100), kernel(name, 10, 20)]))
    document = analyze(trace)
    assert time.monotonic() - began < 20
    names = trace.events.column("name").to_pylist()
    assert max(map(len, names)) == MAX_NAME_CHARS
    assert any("cut" in w for w in trace.metadata["warnings"])
    assert document.devices[0].hotspots[0].count == 1


def test_negative_duration_from_begin_end_pairs_is_dropped(tmp_path: Path) -> None:
    events = [
        {"ph": "B", "name": "a", "pid": 1, "tid": 1, "ts": 50},
        {"ph": "E", "name": "a", "pid": 1, "tid": 1, "ts": 10},
        kernel("k", 10, 20),
    ]
    trace = read_trace(write_trace(tmp_path / "t.json", events))
    assert trace.events.column("name").to_pylist() == ["k"]
    assert any("negative" in w for w in trace.metadata["warnings"])
    assert np.all(trace.events.column("dur_ns").to_numpy() >= 0)
