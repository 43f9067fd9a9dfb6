"""The Nsight Systems readers on real exports, checked against nsys' own output for the same data
(`nsys2025.3/report1_*.csv` from `nsys stats`, `report1_analyze.txt` from `nsys analyze`) and against
the numbers in each folder's SOURCE.md."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import msgspec
import pytest
from conftest import shared_trace

from tracekit.analysis.analyze import Options, analyze
from tracekit.analysis.document.device import Device
from tracekit.readers import read_trace

FUSER = ("nsys/fuser/a0498920", "nsys/fuser/8fa9ec29")
ALL_ROWS = Options(top=10_000, full_kernel_names=True)
COPY_OPERATIONS = {
    "[CUDA memcpy Host-to-Device]": "h2d",
    "[CUDA memcpy Device-to-Host]": "d2h",
    "[CUDA memcpy Device-to-Device]": "d2d",
    "[CUDA memset]": "memset",
}


def nsys_csv(folder: str, report: str) -> list[dict[str, str]]:
    with (shared_trace(folder) / "nsys2025.3" / f"report1_{report}.csv").open(newline="") as stream:
        return list(csv.DictReader(stream))


def analyze_table(folder: str, section: str) -> list[list[float]]:
    """The leading numeric cells of each row of one rule's table in `nsys analyze` output."""
    text = (shared_trace(folder) / "nsys2025.3" / "report1_analyze.txt").read_text()
    body = text.split(f"({section}):", 1)[1].split("Processing [", 1)[0]
    rows = re.findall(r"^ +([\d,.]+(?: +[\d,.]+)+)", body, flags=re.MULTILINE)
    return [[_number(cell) for cell in row.split()] for row in rows]


def without_gpu_model(devices: list[Device]) -> list[Device]:
    """The device metrics without what comes from the GPU model: the JSON export has no TARGET_INFO_GPU."""
    return [msgspec.structs.replace(device, hardware=None, operators_summary=None) for device in devices]


def _number(cell: str) -> float:
    plain = cell.replace(",", "")  # thousands separators
    return float(plain) if "." in plain else int(plain)


@pytest.mark.parametrize("folder", FUSER)
@pytest.mark.parametrize("export", ["report1.sqlite", "nsys2025.3/report1.sqlite"])
def test_kernel_summary_equals_nsys_cuda_gpu_kern_sum(folder: str, export: str) -> None:
    device = analyze(read_trace(shared_trace(folder) / export), ALL_ROWS).devices[0]
    ours = {h.name: h for h in device.hotspots}
    theirs = nsys_csv(folder, "cuda_gpu_kern_sum")
    assert len(ours) == len(theirs)
    for row in theirs:
        h = ours[row["Name"]]
        assert (h.total_ns, h.count, h.min_ns, h.max_ns) == (
            int(row["Total Time (ns)"]), int(row["Instances"]), int(row["Min (ns)"]), int(row["Max (ns)"]),
        )  # fmt: skip
        assert h.median_ns == float(row["Med (ns)"])
        assert round(h.mean_ns, 1) == float(row["Avg (ns)"])
        assert round(h.stddev_ns, 1) == float(row["StdDev (ns)"])


@pytest.mark.parametrize("folder", FUSER)
def test_copy_summaries_equal_nsys_mem_time_and_size_sums(folder: str) -> None:
    device = analyze(read_trace(shared_trace(folder) / "report1.sqlite")).devices[0]
    times = nsys_csv(folder, "cuda_gpu_mem_time_sum")
    sizes = {row["Operation"]: row for row in nsys_csv(folder, "cuda_gpu_mem_size_sum")}
    assert times, "nsys listed no copies"
    for row in times:
        ours = getattr(device, COPY_OPERATIONS[row["Operation"]])
        durations = ours.durations
        assert (durations.count, durations.total, durations.min, durations.max) == (
            int(row["Count"]), int(row["Total Time (ns)"]), int(row["Min (ns)"]), int(row["Max (ns)"]),
        )  # fmt: skip
        assert durations.median == float(row["Med (ns)"])
        assert round(durations.stddev, 1) == float(row["StdDev (ns)"])
        size = sizes[row["Operation"]]
        assert ours.sizes.count == int(size["Count"])
        assert f"{ours.sizes.total / 1e6:.3f}" == size["Total (MB)"]  # nsys prints decimal MB
        assert f"{ours.sizes.max / 1e6:.3f}" == size["Max (MB)"]


def test_fuser_a0498920_source_numbers() -> None:
    device = analyze(read_trace(shared_trace("nsys/fuser/a0498920/report1.sqlite"))).devices[0]
    h2d = device.h2d
    assert (h2d.count, h2d.pageable_count, h2d.bytes, h2d.busy_ns) == (
        2,
        2,
        394_002_434,
        21_356_533,
    )
    assert h2d.share_of_busy == pytest.approx(0.677, abs=5e-4)
    assert (device.window_ns, device.busy_ns) == (3_190_337_735, 31_559_046)
    assert round(100 * device.utilization, 2) == 0.99


@pytest.mark.parametrize("folder", FUSER)
def test_long_gaps_equal_nsys_analyze_gpu_gaps(folder: str) -> None:
    device = analyze(read_trace(shared_trace(folder) / "report1.sqlite")).devices[0]
    theirs = [(row[2], row[1]) for row in analyze_table(folder, "gpu_gaps")]  # Row#, Duration, Start, ...
    ours = [(gap.start_ns, gap.dur_ns) for gap in device.long_gaps.gaps]
    assert ours == theirs
    assert len(ours) == (3 if folder.endswith("a0498920") else 0)


@pytest.mark.parametrize("folder", FUSER)
def test_sum_utilization_equals_nsys_gpu_time_util(folder: str) -> None:
    device = analyze(read_trace(shared_trace(folder) / "report1.sqlite")).devices[0]
    (row,) = analyze_table(folder, "gpu_time_util")  # the whole window is one coalesced low chunk
    in_use, duration, start = row[1:4]
    assert (device.window.start_ns, device.window_ns) == (start, duration)
    assert round(100 * device.utilization_sum, 1) == in_use


def test_blocking_calls_equal_nsys_analyze_rules() -> None:
    folder = "nsys/fuser/a0498920"
    result = analyze(read_trace(shared_trace(folder) / "report1.sqlite"))
    pageable = result.devices[0].blocking.pageable_async_copies.largest
    assert [(c.dur_ns, c.start_ns) for c in pageable] == [
        (row[0], row[1]) for row in analyze_table(folder, "cuda_memcpy_async")
    ]
    sync = result.host.sync_calls.largest
    assert [(c.dur_ns, c.start_ns) for c in sync] == [
        (row[0], row[1]) for row in analyze_table(folder, "cuda_api_sync")
    ]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("nsys/mordred/ad27a343/report1.sqlite", "nsys/mordred/ad27a343/nsys2025.3/report1.sqlite"),
        ("nsys/fuser/a0498920/report1.sqlite", "nsys/fuser/a0498920/nsys2025.3/report1.sqlite"),
        ("nsys/fuser/8fa9ec29/report1.sqlite", "nsys/fuser/8fa9ec29/nsys2025.3/report1.sqlite"),
    ],
)
def test_old_and_new_schema_exports_of_one_capture_agree(old: str, new: str) -> None:
    before, after = (analyze(read_trace(shared_trace(path))) for path in (old, new))
    assert before.devices and before.devices == after.devices
    assert before.steps == after.steps
    assert before.host == after.host


@pytest.mark.parametrize("folder", FUSER)
def test_json_export_and_stats_csv_agree_with_the_sqlite(folder: str) -> None:
    base = shared_trace(folder) / "nsys2025.3"
    sqlite = analyze(read_trace(base / "report1.sqlite"))
    from_json = analyze(read_trace(base / "report1.json")).devices
    assert without_gpu_model(from_json) == without_gpu_model(sqlite.devices)
    from_csv = analyze(read_trace(base / "report1_cuda_gpu_trace.csv")).devices[0]
    device = sqlite.devices[0]
    for key in ("window", "busy_ns", "utilization", "utilization_sum", "hotspots", "long_gaps"):
        assert getattr(from_csv, key) == getattr(device, key), key
    assert from_csv.h2d.count == device.h2d.count
    assert abs(from_csv.h2d.bytes - device.h2d.bytes) <= 1000  # MB with three decimals


def test_mordred_2021_export_source_numbers() -> None:
    device = analyze(read_trace(shared_trace("nsys/mordred/ad27a343/report1.sqlite"))).devices[0]
    h2d, d2h = device.h2d, device.d2h
    assert (device.window_ns, device.busy_ns) == (6_513_662_564, 393_102_277)
    assert (h2d.count, h2d.pageable_count, h2d.bytes) == (164, 164, 536_962_766)
    assert round(h2d.busy_ns / 1e6, 2) == 100.95
    assert round(h2d.share_of_busy, 3) == 0.257
    assert (d2h.count, d2h.pageable_count, d2h.bytes, d2h.busy_ns) == (
        24,
        24,
        738_663_444,
        286_008_748,
    )
    assert device.memset.count == 16
    assert sum(h.total_ns for h in device.hotspots) == 6_128_761
    assert device.blocking.sync_copies.count == 188  # every copy is a synchronous cudaMemcpy


def test_mordred_small_run_source_numbers() -> None:
    device = analyze(read_trace(shared_trace("nsys/mordred/03527a5d/report1.sqlite"))).devices[0]
    assert (device.h2d.count, device.h2d.pageable_count, device.h2d.bytes) == (
        45,
        45,
        126_162,
    )
    assert (device.d2h.count, device.memset.count) == (3, 12)
    assert sum(h.count for h in device.hotspots) == 12
    assert round(device.window_ns / 1e6, 2) == 15.03
    assert round(device.busy_ns / 1e6, 2) == 8.68
    assert round(100 * device.utilization, 1) == 57.7


def test_two_gpu_export_of_2026() -> None:
    result = analyze(read_trace(shared_trace("nsys/nsys-ai-fixtures/h100_2gpu_1s.sqlite")), ALL_ROWS)
    devices = result.devices
    assert [d.id for d in devices] == [0, 1]
    assert sum(sum(h.count for h in d.hotspots) for d in devices) == 3442
    copies = sum(d.copies(key).count for d in devices for key in ("h2d", "d2h", "d2d"))
    assert copies == 904


def test_export_with_host_calls_only_loads_and_says_what_is_missing() -> None:
    trace = read_trace(shared_trace("nsys/lighttransport-gemm/profile.sqlite"))
    assert any("no GPU activity was captured" in warning for warning in trace.metadata["warnings"])
    assert any("no device activity" in warning for warning in trace.metadata["warnings"])
    assert analyze(trace).devices == []


def test_export_without_any_event_is_bad_input_saying_what_is_missing() -> None:
    from tracekit.errors import TraceError

    with pytest.raises(TraceError, match=r"report1\.sqlite: no events: .*no CUDA activity tables"):
        read_trace(shared_trace("nsys/jacc/report1.sqlite"))


def test_cupti_buffer_loss_is_surfaced() -> None:
    warnings = read_trace(shared_trace("nsys/lighttransport-gemm/profile.sqlite")).metadata["warnings"]
    assert any("Some CUPTI events might be missing" in warning for warning in warnings)


def test_report_file_is_refused_with_the_export_command(tmp_path: Path) -> None:
    from tracekit.errors import TraceError

    with pytest.raises(TraceError, match="nsys export --type sqlite"):
        read_trace(shared_trace("nsys/fuser/a0498920/report1.nsys-rep"))
