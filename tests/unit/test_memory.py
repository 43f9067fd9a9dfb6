"""Device memory: `[memory]` samples in the Kineto reader (MEMORY rows) and the memory summary."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from kineto_builder import kernel, memory, runtime, step, write_trace

from tracekit.analysis.analyze import Options, analyze
from tracekit.analysis.columns import Columns
from tracekit.analysis.document import Document
from tracekit.analysis.memory import PER_STEP_MAX, SERIES_MAX_POINTS, memory_summary
from tracekit.model.schema import DEVICE_KINDS, NONE, Kind, build_table
from tracekit.readers import HOST_ONLY_WARNING, read_trace

MIB = 1_048_576


def _memory_rows(trace) -> list[dict]:
    return [row for row in trace.events.to_pylist() if row["kind"] == Kind.MEMORY]


def _steps_with_memory(levels_at_end: list[int], *, scratch: int = 4096) -> list[dict]:
    """Steps 1..n of 100 µs, each with one kernel, a scratch buffer allocated and freed, and the
    allocation that brings the device to `levels_at_end[i]` (a free when the level drops)."""
    events, level = [], 0
    for i, target in enumerate(levels_at_end):
        t0 = 1000 + 100 * i
        events += [step(i + 1, t0, 100), runtime("cudaLaunchKernel", t0 + 1, 2, correlation=i + 1),
                   kernel("k", t0 + 5, 10, correlation=i + 1)]  # fmt: skip
        events.append(memory(t0 + 10, scratch, level + scratch))
        events.append(memory(t0 + 20, target - level, target + scratch))
        events.append(memory(t0 + 30, -scratch, target))
        level = target
    return events


def _analyze(tmp_path: Path, events: list[dict], options: Options | None = None) -> Document:
    trace = read_trace(write_trace(tmp_path / "t.json", events))
    return analyze(trace, options or Options())


# --- reader ---------------------------------------------------------------------------------------


def test_device_samples_become_memory_rows(tmp_path: Path) -> None:
    events = [step(1, 0, 100), kernel("k", 5, 10), memory(10, MIB, 3 * MIB, tid=7),
              memory(20.5, -512, 3 * MIB - 512)]  # fmt: skip
    rows = _memory_rows(read_trace(write_trace(tmp_path / "t.json", events)))
    assert [(r["start_ns"], r["dur_ns"], r["bytes"], r["step"]) for r in rows] == [
        (10_000, 0, 3 * MIB, 1),
        (20_500, 0, 3 * MIB - 512, 1),
    ]
    first = rows[0]
    assert (first["name"], first["device"], first["stream"], first["process"], first["thread"]) == (
        "[memory]",
        0,
        NONE,
        100,
        7,
    )
    assert Kind.MEMORY not in DEVICE_KINDS


def test_cpu_samples_are_left_out(tmp_path: Path) -> None:
    events = [kernel("k", 5, 10), memory(1, 64, 64, device_type=0, device_id=-1), memory(2, 512, 512),
              memory(3, 128, 192, device_type=0, device_id=-1)]  # fmt: skip
    trace = read_trace(write_trace(tmp_path / "t.json", events))
    assert [(r["start_ns"], r["bytes"]) for r in _memory_rows(trace)] == [(2000, 512)]
    assert trace.metadata == {}


def test_samples_of_each_device_keep_their_device(tmp_path: Path) -> None:
    events = [kernel("k", 5, 10), memory(1, 512, 512, device_id=1), memory(2, 1024, 1024, device_id=0)]
    rows = _memory_rows(read_trace(write_trace(tmp_path / "t.json", events)))
    assert [(r["device"], r["bytes"]) for r in rows] == [(1, 512), (0, 1024)]


def test_without_totals_the_level_is_the_lowest_running_sum(tmp_path: Path) -> None:
    # 2021 traces give only the signed size. Sizes +100, -300, +50 in time order (the file lists
    # them out of order): the running sum 100, -200, -150 needs at least 200 B allocated before.
    events = [kernel("k", 5, 10), memory(3, 50), memory(1, 100), memory(2, -300)]
    trace = read_trace(write_trace(tmp_path / "t.json", events))
    assert [(r["start_ns"], r["bytes"]) for r in _memory_rows(trace)] == [(1000, 300), (2000, 0), (3000, 50)]
    (warning,) = trace.metadata["warnings"]
    assert warning.startswith("device 0: the memory samples give no Total Allocated")


def test_samples_keep_exact_nanoseconds_beyond_float_precision(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    text = json.dumps({"traceEvents": [kernel("k", 0, 1.5), memory(7, 512, 512)]})
    path.write_text(text.replace('"ts": 7', '"ts": 1694039994071305.123'))
    assert [r["start_ns"] for r in _memory_rows(read_trace(path))] == [1694039994071305123]


def test_string_device_fields_are_parsed(tmp_path: Path) -> None:
    sample = memory(1, 512, 512)
    sample["args"].update({"Device Type": "1", "Device Id": "0"})
    rows = _memory_rows(read_trace(write_trace(tmp_path / "t.json", [kernel("k", 5, 10), sample])))
    assert [(r["device"], r["bytes"]) for r in rows] == [(0, 512)]


def test_other_events_may_use_the_memory_keys_for_other_things(tmp_path: Path) -> None:
    other = step(1, 0, 100)
    other["args"] = {"Bytes": 1.5, "Device Id": "cuda:0", "Total Allocated": None}
    trace = read_trace(write_trace(tmp_path / "t.json", [other, kernel("k", 5, 10), memory(6, 512, 512.0)]))
    assert [(r["device"], r["bytes"]) for r in _memory_rows(trace)] == [(0, 512)]


def test_memory_samples_alone_are_not_device_activity(tmp_path: Path) -> None:
    path = write_trace(tmp_path / "t.json", [step(1, 0, 10), memory(1, 512, 512)])
    assert read_trace(path, "kineto").metadata["warnings"] == [HOST_ONLY_WARNING]


def test_trace_without_samples_has_no_memory_rows(tmp_path: Path) -> None:
    trace = read_trace(write_trace(tmp_path / "t.json", [step(1, 0, 100), kernel("k", 5, 10)]))
    assert _memory_rows(trace) == [] and trace.metadata == {}


# --- summary --------------------------------------------------------------------------------------


def test_a_leak_grows_by_its_size_every_step(tmp_path: Path) -> None:
    levels = [24 * MIB + i * MIB for i in range(5)]
    block = _analyze(tmp_path, _steps_with_memory(levels)).devices[0].memory
    assert block.samples == 15
    assert [(s.step, s.allocated_bytes) for s in block.per_step] == list(enumerate(levels, start=1))
    assert block.growth_per_step_bytes == MIB
    assert block.growing_steps_share == 1.0
    assert block.start_bytes == 0 + 4096  # the first step's scratch allocation
    assert block.end_bytes == 28 * MIB
    assert block.peak_bytes == 28 * MIB + 4096  # last step: 28 MiB held and the scratch buffer
    assert block.peak_ns == 1_420_000


def test_a_steady_loop_has_no_growth(tmp_path: Path) -> None:
    block = _analyze(tmp_path, _steps_with_memory([MIB] * 4)).devices[0].memory
    assert [s.allocated_bytes for s in block.per_step] == [MIB] * 4
    assert block.growth_per_step_bytes == 0.0
    assert block.growing_steps_share == 0.0
    assert block.peak_bytes == MIB + 4096


def test_growth_is_the_least_squares_slope(tmp_path: Path) -> None:
    # levels 10, 30, 20, 40 at steps 1..4: slope = sum(dx dy) / sum(dx^2) = 40 / 5 = 8; 2 of 3 pairs rise
    block = _analyze(tmp_path, _steps_with_memory([10, 30, 20, 40])).devices[0].memory
    assert block.growth_per_step_bytes == 8.0
    assert block.growing_steps_share == pytest.approx(2 / 3)


def test_a_step_before_the_first_sample_has_no_level(tmp_path: Path) -> None:
    events = _steps_with_memory([0, MIB, 2 * MIB])
    events = [e for e in events if not (e["name"] == "[memory]" and e["ts"] < 1100)]  # step 1 has none
    block = _analyze(tmp_path, events).devices[0].memory
    assert [(s.step, s.allocated_bytes) for s in block.per_step] == [(1, None), (2, MIB), (3, 2 * MIB)]
    assert block.growth_per_step_bytes == MIB  # over the steps with a level only
    assert block.growing_steps_share == 1.0


def test_a_step_without_samples_keeps_the_level_before_it(tmp_path: Path) -> None:
    events = _steps_with_memory([MIB, 2 * MIB, 3 * MIB])
    events = [e for e in events if not (e["name"] == "[memory]" and 1100 <= e["ts"] < 1200)]
    block = _analyze(tmp_path, events).devices[0].memory
    assert [s.allocated_bytes for s in block.per_step] == [MIB, MIB, 3 * MIB]


def test_no_samples_no_block(tmp_path: Path) -> None:
    document = _analyze(tmp_path, [step(1, 0, 100), kernel("k", 5, 10)])
    assert document.devices[0].memory is None
    assert "memory.growth_per_step_bytes" in document.definitions


def test_cpu_samples_alone_give_no_block(tmp_path: Path) -> None:
    events = [step(1, 0, 100), kernel("k", 5, 10), memory(6, 64, 64, device_type=0, device_id=-1)]
    assert _analyze(tmp_path, events).devices[0].memory is None


def test_a_step_selection_keeps_its_samples(tmp_path: Path) -> None:
    levels = [MIB, 2 * MIB, 3 * MIB, 4 * MIB]
    block = _analyze(tmp_path, _steps_with_memory(levels), Options(steps=(2, 3))).devices[0].memory
    assert block.samples == 6
    assert [(s.step, s.allocated_bytes) for s in block.per_step] == [(2, 2 * MIB), (3, 3 * MIB)]


def _columns(levels: np.ndarray, step_count: int = 0) -> Columns:
    """A table of one sample per µs on device 0 and `step_count` steps, one per 10 µs, of 9.5 µs."""
    n, m = len(levels), step_count
    kind = np.r_[np.full(n, Kind.MEMORY), np.full(m, Kind.STEP)]
    start = np.r_[np.arange(n) * 1000, np.arange(m) * 10_000]
    columns = {"start_ns": start, "dur_ns": np.r_[np.zeros(n), np.full(m, 9_500)], "kind": kind,
               "device": np.r_[np.zeros(n), np.full(m, NONE)], "bytes": np.r_[levels, np.full(m, NONE)],
               "step": np.r_[np.full(n, NONE), np.arange(m)], "name": ["x"] * (n + m)}  # fmt: skip
    return Columns.from_table(build_table(columns, n + m))


def test_series_keeps_every_sample_up_to_the_limit() -> None:
    levels = np.arange(SERIES_MAX_POINTS) * 10
    series = memory_summary(_columns(levels), 0)["series"]
    assert series["allocated_bytes"] == levels.tolist()
    assert series["time_ns"] == (np.arange(SERIES_MAX_POINTS) * 1000).tolist()


def test_series_keeps_the_largest_sample_of_each_bucket() -> None:
    rng = np.random.default_rng(0)
    levels = rng.integers(0, 1_000_000, 10_000)
    levels[4321] = 5_000_000  # a short spike must survive the downsampling
    block = memory_summary(_columns(levels), 0)
    series = block["series"]
    assert len(series["time_ns"]) == SERIES_MAX_POINTS  # 10 samples per bucket
    assert series["allocated_bytes"] == levels.reshape(-1, 10).max(axis=1).tolist()
    assert 4_321_000 in series["time_ns"] and max(series["allocated_bytes"]) == block["peak_bytes"]
    assert series["time_ns"] == sorted(series["time_ns"])


def test_per_step_is_capped_and_keeps_first_and_last() -> None:
    steps = 5000
    levels = np.arange(steps * 10) // 10 * 512  # 512 B more in every step
    block = memory_summary(_columns(levels, steps), 0)
    per_step = block["per_step"]
    assert len(per_step) == PER_STEP_MAX
    assert per_step[0] == {"step": 0, "allocated_bytes": 0}
    assert per_step[-1] == {"step": steps - 1, "allocated_bytes": (steps - 1) * 512}
    assert block["growth_per_step_bytes"] == pytest.approx(512)  # computed over every step, not the subsample
    assert block["growing_steps_share"] == 1.0


def test_no_samples_on_the_device() -> None:
    assert memory_summary(_columns(np.array([1, 2, 3])), 1) is None
