"""The Nsight Systems readers on tiny exports built in the test: every number is known by construction."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest
from nsys_builder import DEVICE, DTOH, GLOBAL_PID, GLOBAL_TID, HTOD, PAGEABLE, PID, PINNED, Export

from tracekit.analysis.analyze import Options, analyze
from tracekit.analysis.document import plain
from tracekit.analysis.document.device import Device
from tracekit.errors import TraceError
from tracekit.model.schema import CopyDirection, Kind, MemoryKind
from tracekit.readers import detect_format, read_trace

OTHER_PID = 77
OTHER_GLOBAL_PID = (1 << 56) | (OTHER_PID << 24)


def timeline() -> Export:
    """Two steps: a kernel, an async pageable H2D, a synchronous D2H, two memsets, a stream sync, a kernel.

    Device ops: [120,220] [310,410] [510,610] [810,820] [910,915] [1800,1900]; W = [120, 1900].
    """
    e = Export()
    e.nvtx("ProfilerStep#1", 50, 950)
    e.nvtx("ProfilerStep#2", 950, 2000)
    e.nvtx("forward", 60, 900)
    e.nvtx("forward", 1650, 1950)
    e.kernel("void gemm<float>(int)", 120, 220, e.call("cudaLaunchKernel_v7000", 100, 110))
    e.memcpy(310, 410, 1000, HTOD, PAGEABLE, DEVICE, e.call("cudaMemcpyAsync_v3020", 300, 305))
    e.memcpy(510, 610, 500, DTOH, DEVICE, PINNED, e.call("cudaMemcpy_v3020", 500, 700))
    e.memset(810, 820, 64, PINNED, e.call("cudaMemset_v3020", 800, 805))
    e.memset(910, 915, 64, DEVICE, e.call("cudaMemsetAsync_v3020", 900, 905))
    e.call("cudaStreamSynchronize_v3020", 1000, 1600)
    e.kernel("void gemm<float>(int)", 1800, 1900, e.call("cudaLaunchKernel_v7000", 1700, 1710))
    e.kernel("never_timed", 0, 0)  # CUPTI's "no timestamp": dropped, as nsys does
    return e


@pytest.fixture
def export(tmp_path: Path) -> Path:
    return timeline().write(tmp_path / "report.sqlite")


@pytest.fixture
def device(export: Path) -> Device:
    return analyze(read_trace(export)).devices[0]


def test_detected_by_content(export: Path) -> None:
    assert detect_format(export).name == "nsys"
    assert read_trace(export).format == "nsys"


def test_kinds_names_and_rows(export: Path) -> None:
    events = read_trace(export).events
    kinds = np.bincount(events.column("kind").to_numpy(), minlength=len(Kind))
    assert kinds[Kind.KERNEL] == 2 and kinds[Kind.MEMCPY] == 2 and kinds[Kind.MEMSET] == 2
    assert kinds[Kind.RUNTIME] == 6 and kinds[Kind.SYNC] == 1
    assert kinds[Kind.STEP] == 2 and kinds[Kind.MARKER] == 2
    names = set(events.column("name").to_pylist())
    assert {"[CUDA memcpy Host-to-Device]", "[CUDA memcpy Device-to-Host]", "[CUDA memset]"} <= names
    assert "never_timed" not in names
    calls = events.filter(events.column("kind").to_numpy() == Kind.RUNTIME)
    assert set(calls.column("process").to_pylist()) == {PID}
    assert set(calls.column("thread").to_pylist()) == {PID}


def test_utilization_and_bubbles(device: Device) -> None:
    assert plain(device.window) == {"start_ns": 120, "end_ns": 1900}
    assert device.busy_ns == 415
    assert device.utilization == pytest.approx(415 / 1780)
    bubbles = device.bubbles
    assert bubbles.count == 5 and bubbles.total_ns == 1780 - 415
    assert plain(bubbles.by_cause.sync_wait) == {"count": 1, "total_ns": 885}
    assert plain(bubbles.by_cause.host_wait) == {"count": 4, "total_ns": 480}


def test_copies_with_memory_kinds(device: Device) -> None:
    h2d, d2h = device.h2d, device.d2h
    assert (h2d.count, h2d.bytes, h2d.pageable_count, h2d.busy_ns, h2d.per_step) == (
        1, 1000, 1, 100, 0.5,
    )  # fmt: skip
    assert (d2h.count, d2h.bytes, d2h.pinned_count) == (1, 500, 1)
    assert device.memset.count == 2 and device.memset.bytes == 128
    assert device.memset.durations.median == 7.5


def test_blocking_calls_as_nsys_rules(export: Path) -> None:
    result = analyze(read_trace(export))
    blocking = result.devices[0].blocking
    pageable = blocking.pageable_async_copies
    assert (pageable.count, pageable.total_ns, pageable.bytes) == (1, 100, 1000)
    assert pageable.largest[0].call == "cudaMemcpyAsync_v3020"
    assert (blocking.sync_copies.count, blocking.sync_copies.bytes) == (1, 500)
    assert (blocking.sync_memsets.count, blocking.sync_memsets.bytes) == (1, 64)  # pinned only
    sync = result.host.sync_calls
    assert (sync.count, sync.total_ns) == (1, 600)
    assert sync.largest[0].name == "cudaStreamSynchronize_v3020"


def test_long_gaps_are_strictly_longer_than_the_threshold(export: Path) -> None:
    trace = read_trace(export)
    assert analyze(trace, Options(gap_threshold_ns=885)).devices[0].long_gaps.count == 0
    gaps = analyze(trace, Options(gap_threshold_ns=884)).devices[0].long_gaps
    assert plain(gaps) == {
        "threshold_ns": 884,
        "count": 1,
        "total_ns": 885,
        "gaps": [{"start_ns": 915, "dur_ns": 885}],
    }
    assert analyze(trace).devices[0].long_gaps.count == 0  # default 500 ms


def test_launch_delay_through_correlation(device: Device) -> None:
    launch = device.launch
    assert launch.kernels_with_launch == 2
    assert (launch.delay_p50_ns, launch.delay_max_ns) == (10, 90)


def test_nvtx_profiler_steps(export: Path) -> None:
    steps = analyze(read_trace(export)).steps
    assert (steps.count, steps.first, steps.last) == (2, 1, 2)
    assert steps.duration_ns.max == 1050


def test_steps_from_a_named_nvtx_range(export: Path) -> None:
    result = analyze(read_trace(export), Options(step_marker=":forward"))  # nsys prints ':name'
    assert result.steps.count == 2
    assert (result.steps.duration_ns.p50, result.steps.duration_ns.max) == (300, 840)
    assert result.devices[0].h2d.per_step == 0.5
    only_second = analyze(read_trace(export), Options(step_marker="forward", steps=(2, 2)))
    assert only_second.devices[0].operations == 1  # the kernel launched inside the second range


def test_unknown_step_range_name_lists_the_known_ones(export: Path) -> None:
    with pytest.raises(TraceError, match=r"no annotation or NVTX range named 'backward' .*forward"):
        analyze(read_trace(export), Options(step_marker="backward"))


def test_hotspots_by_full_name_and_by_short_name(export: Path) -> None:
    short = analyze(read_trace(export)).devices[0].hotspots
    full = analyze(read_trace(export), Options(full_kernel_names=True)).devices[0].hotspots
    assert [(h.name, h.count, h.total_ns) for h in short] == [("gemm", 2, 200)]
    assert [h.name for h in full] == ["void gemm<float>(int)"]


def test_correlation_ids_are_per_process(tmp_path: Path) -> None:
    e = Export()
    e.call("cudaLaunchKernel", 0, 10)  # correlation 1 in our process
    e.correlation = 0
    e.call("cuLaunchKernel", 20, 30, global_tid=OTHER_GLOBAL_PID | OTHER_PID)  # correlation 1 elsewhere
    e.kernel("k", 40, 50, correlation=1, pid=OTHER_GLOBAL_PID)
    launch = analyze(read_trace(e.write(tmp_path / "two.sqlite"))).devices[0].launch
    assert (launch.kernels_with_launch, launch.delay_p50_ns) == (1, 10)


def test_export_enum_tables_take_precedence(tmp_path: Path) -> None:
    e = Export()
    e.table("ENUM_CUDA_MEMCPY_OPER", "id INT, name TEXT, label TEXT", [(21, "CUDA_MEMCPY_KIND_HTOD", "x")])
    e.table(
        "ENUM_CUDA_MEM_KIND", "id INT, name TEXT, label TEXT", [(9, "CUDA_MEMOPR_MEMORY_KIND_PINNED", "y")]
    )
    e.memcpy(10, 20, 8, 21, 9, 9)
    events = read_trace(e.write(tmp_path / "renumbered.sqlite")).events
    assert events.column("copy_direction").to_pylist() == [CopyDirection.H2D]
    assert events.column("src_memory").to_pylist() == [MemoryKind.PINNED]


def test_graph_launches_count_as_busy_time(tmp_path: Path) -> None:
    e = Export()
    e.graph(100, 200, graph_id=5)
    e.kernel("k", 250, 300)
    device = analyze(read_trace(e.write(tmp_path / "graph.sqlite"))).devices[0]
    assert device.busy_ns == 150
    assert {h.name for h in device.hotspots} == {"[CUDA graph 5]", "k"}


def test_nvtx_marks_kept_and_unfinished_ranges_dropped(tmp_path: Path) -> None:
    e = Export()
    e.kernel("k", 10, 20)
    e.nvtx("checkpoint", 15, None, event_type=34)
    e.nvtx("never closed", 5, None, event_type=59)
    events = read_trace(e.write(tmp_path / "marks.sqlite")).events
    markers = events.filter(events.column("kind").to_numpy() == Kind.MARKER)
    assert markers.column("name").to_pylist() == ["checkpoint"]
    assert markers.column("dur_ns").to_pylist() == [0]


@pytest.mark.parametrize(
    ("tables", "message"),
    [
        (("CUPTI_ACTIVITY_KIND_RUNTIME",), "no GPU activity was captured"),
        (("NVTX_EVENTS",), "host data only"),
    ],
)
def test_exports_without_events_are_bad_input_naming_what_is_missing(
    tmp_path: Path, tables: tuple, message: str
) -> None:
    path = Export().write(tmp_path / "empty.sqlite", tables)
    with pytest.raises(TraceError, match=f"no events: the trace is empty .*{message}"):
        read_trace(path)


def test_nsys_diagnostics_become_warnings(tmp_path: Path) -> None:
    e = Export()
    e.kernel("k", 10, 20)
    columns = "timestamp INT, timestampType INT, source INT, severity INT, text TEXT, globalPid INT"
    diagnostics = [(0, 0, 0, 1, "Profiling has started.", 0)] + [
        (0, 0, 0, 2, "Some CUPTI events\nmissing", 0)
    ] * 2
    e.table("DIAGNOSTIC_EVENT", columns, diagnostics)
    warnings = read_trace(e.write(tmp_path / "diag.sqlite")).metadata["warnings"]
    assert warnings == ["nsys diagnostic (warning): Some CUPTI events missing (x2)"]


def test_input_is_opened_read_only(export: Path) -> None:
    before = export.read_bytes()
    read_trace(export)
    assert export.read_bytes() == before
    assert sorted(p.name for p in export.parent.iterdir()) == ["report.sqlite"]  # no journal, no WAL


def test_json_export_gives_the_same_analysis(tmp_path: Path) -> None:
    e = timeline()
    from_sqlite = analyze(read_trace(e.write(tmp_path / "r.sqlite")))
    path = e.write_json(tmp_path / "r.json")
    assert detect_format(path).name == "nsys-json"
    from_json = analyze(read_trace(path))
    assert from_json.devices == from_sqlite.devices
    assert from_json.steps == from_sqlite.steps


def test_stats_csv_with_preamble_units_and_quoted_names(tmp_path: Path) -> None:
    path = tmp_path / "report1_cuda_gpu_trace.csv"
    path.write_text(
        "Processing [report1.sqlite] with [/opt/nsys/reports/cuda_gpu_trace.py]...\n\n"
        "Start (us),Duration (us),CorrId,GrdX,GrdY,GrdZ,BlkX,BlkY,BlkZ,Reg/Trd,StcSMem (MB),DymSMem (MB),"
        "Bytes (MB),Throughput (MB/s),SrcMemKd,DstMemKd,Device,Ctx,GreenCtx,Strm,Name\n"
        '1.5,2.25,11,1,1,1,32,1,1,8,0.000,0.000,,,,,NVIDIA H100 (1),1,,7,"void k<int, float>(int, float)"\n'
        "5.000,1.000,12,,,,,,,,,,0.004,4000.000,Pageable,Device,NVIDIA H100 (1),1,,7,[CUDA memcpy HtoD]\n"
        "7.000,0.500,13,,,,,,,,,,0.000,0.000,Device,,NVIDIA H100 (1),1,,7,[CUDA memset]\n"
    )
    assert detect_format(path).name == "nsys-csv"
    trace = read_trace(path)
    events = trace.events
    assert events.column("start_ns").to_pylist() == [1500, 5000, 7000]
    assert events.column("dur_ns").to_pylist() == [2250, 1000, 500]
    assert events.column("device").to_pylist() == [1, 1, 1]
    assert events.column("bytes").to_pylist()[1] == 4000
    device = analyze(trace).devices[0]
    assert (device.h2d.count, device.h2d.pageable_count, device.memset.count) == (1, 1, 1)
    assert device.hotspots[0].name == "k"
    assert any("rounded" in w for w in trace.metadata["warnings"])


def test_stats_summary_csv_is_refused_with_what_to_give(tmp_path: Path) -> None:
    path = tmp_path / "report1_cuda_gpu_kern_sum.csv"
    path.write_text(
        "Time (%),Total Time (ns),Instances,Avg (ns),Med (ns),Min (ns),Max (ns),StdDev (ns),Name\n"
    )
    with pytest.raises(TraceError, match=r"summary report .* cuda_gpu_trace"):
        read_trace(path)


def test_report_files_ask_for_an_export(tmp_path: Path) -> None:
    path = tmp_path / "run.nsys-rep"
    path.write_bytes(b"NVIDIA Tegra Profiler Report 2025@1@1\x00\x01\x02")
    with pytest.raises(TraceError, match=r"nsys export --type sqlite --output run\.sqlite run\.nsys-rep"):
        read_trace(path)


def test_sqlite_that_is_not_an_nsys_export(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE users (id INT, name TEXT)")
    with pytest.raises(TraceError, match="an SQLite database, but neither an Nsight Systems nor an Ascend"):
        read_trace(path)


def test_global_ids_unpack_as_nsys_does() -> None:
    from tracekit.readers.nsys.activity import pid_of, tid_of

    assert pid_of(np.array([GLOBAL_PID]))[0] == PID
    assert tid_of(np.array([GLOBAL_TID]))[0] == PID
    assert pid_of(np.array([282323165693308]))[0] == 50556  # Fuser a0498920's main thread
