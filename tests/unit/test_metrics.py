"""Every metric, exactly, on a tiny hand-built trace (all expected values computed by hand).

Timeline (µs). Steps: #1 [0,100), #2 [100,200). Device 0 operations:
  H2D pageable [10,20) 1000 B   launch [5,8)          step 1
  gemm<float> [25,45) stream 7  launch [21,23)        step 1
  gemm<half>  [30,50) stream 8  launch [24,26)        step 1 (overlaps the first gemm)
  H2D pinned  [40,60) 3000 B    launch [35,36)        step 1 (under kernels until 50)
  relu        [110,111)         launch [105,107)      step 2 (shorter than its launch call)
  D2H pinned  [150,155) 500 B   launch [149,150)      step 2; cudaStreamSynchronize [112,149)
  relu        [160,170)         launch [100,101)      step 2
  relu        [180,180)         no launch             step 2 by time (zero length)
Window [10,180) = 170; union 61; sum 86; kernels 36.
Bubbles: [20,25) host, [60,110) host, [111,150) sync, [155,160) other, [170,180) other.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from kineto_builder import cpu_op, kernel, memcpy, runtime, step, write_trace

from tracekit.analysis.analyze import Options, analyze
from tracekit.analysis.document import Document, plain
from tracekit.analysis.document.device import Device
from tracekit.readers import read_trace

US = 1000


def _events() -> list[dict]:
    return [
        step(1, 0, 100),
        step(2, 100, 100),
        runtime("cudaMemcpyAsync", 5, 3, correlation=1),
        memcpy("Memcpy HtoD (Pageable -> Device)", 10, 10, 1000, correlation=1),
        cpu_op("aten::mm", 20, 7, external_id=50),
        runtime("cudaLaunchKernel", 21, 2, correlation=2, external_id=50),
        kernel("void ns::gemm<float>(int)", 25, 20, correlation=2),
        runtime("cudaLaunchKernel", 24, 2, correlation=3, external_id=50),
        kernel("void ns::gemm<__half>(int)", 30, 20, correlation=3, stream=8),
        runtime("cudaMemcpyAsync", 35, 1, correlation=4),
        memcpy("Memcpy HtoD (Pinned -> Device)", 40, 20, 3000, correlation=4),
        cpu_op("aten::relu", 99, 9, external_id=60),
        runtime("cudaLaunchKernel", 105, 2, correlation=5, external_id=60),
        kernel("relu_kernel", 110, 1, correlation=5),
        runtime("cudaStreamSynchronize", 112, 37),
        runtime("cudaMemcpyAsync", 149, 1, correlation=6),
        memcpy("Memcpy DtoH (Device -> Pinned)", 150, 5, 500, correlation=6),
        runtime("cudaLaunchKernel", 100, 1, correlation=7, external_id=60),
        kernel("relu_kernel", 160, 10, correlation=7),
        kernel("relu_kernel", 180, 0),
    ]


@pytest.fixture(scope="module", params=["sorted", "shuffled"])
def result(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Document:
    events = _events()
    if request.param == "shuffled":
        random.Random(7).shuffle(events)
    path = write_trace(tmp_path_factory.mktemp("t") / "tiny.json", events)
    return analyze(read_trace(path))


@pytest.fixture(scope="module")
def device(result: Document) -> Device:
    assert [d.id for d in result.devices] == [0]
    return result.devices[0]


def test_window_busy_and_utilization(device: Device) -> None:
    assert plain(device.window) == {"start_ns": 10 * US, "end_ns": 180 * US}
    assert device.window_ns == 170 * US
    assert device.busy_ns == 61 * US
    assert device.utilization == pytest.approx(61 / 170)
    assert device.utilization_sum == pytest.approx(86 / 170)
    assert device.kernel_busy_ns == 36 * US
    assert device.kernel_utilization == pytest.approx(36 / 170)


def test_capture_span_covers_host_events(result: Document) -> None:
    assert plain(result.trace.capture_span) == {"start_ns": 0, "end_ns": 200 * US, "duration_ns": 200 * US}
    assert result.trace.events == 20


def test_bubbles_sizes_histogram_and_causes(device: Device) -> None:
    bubbles = device.bubbles
    assert bubbles.count == 5
    assert bubbles.total_ns == 109 * US
    assert (bubbles.p50_ns, bubbles.p90_ns, bubbles.max_ns) == (10 * US, 50 * US, 50 * US)
    counts = {b.bin: (b.count, b.total_ns) for b in bubbles.histogram}
    assert counts == {
        "<1 us": (0, 0),
        "1-10 us": (2, 10 * US),
        "10-100 us": (3, 99 * US),
        "100 us-1 ms": (0, 0),
        "1-10 ms": (0, 0),
        ">10 ms": (0, 0),
    }
    assert plain(bubbles.by_cause) == {
        "sync_wait": {"count": 1, "total_ns": 39 * US},
        "host_wait": {"count": 2, "total_ns": 55 * US},
        "other": {"count": 2, "total_ns": 15 * US},
    }
    assert plain(bubbles.largest[0]) == {"start_ns": 60 * US, "dur_ns": 50 * US, "cause": "host_wait"}


def test_h2d_copies(device: Device) -> None:
    assert plain(device.h2d) == {
        "count": 2,
        "per_step": 1.0,
        "bytes": 4000,
        "bytes_unknown_count": 0,
        "busy_ns": 30 * US,
        "share_of_busy": pytest.approx(30 / 61),
        "exposed_ns": 20 * US,
        "exposed_share": pytest.approx(20 / 170),
        "pageable_count": 1,
        "pageable_bytes": 1000,
        "pinned_count": 1,
        "pinned_bytes": 3000,
        "bandwidth_gbps": pytest.approx(4000 / 30000),
        "total_ns": 30 * US,
        "durations": {
            "count": 2,
            "total": 30 * US,
            "mean": 15.0 * US,
            "min": 10 * US,
            "median": 15.0 * US,
            "max": 20 * US,
            "stddev": pytest.approx(2**0.5 * 5 * US),
        },
        "sizes": {
            "count": 2,
            "total": 4000,
            "mean": 2000.0,
            "min": 1000,
            "median": 2000.0,
            "max": 3000,
            "stddev": pytest.approx(2**0.5 * 1000),
        },
    }


def test_d2h_memory_kind_is_the_destination(device: Device) -> None:
    d2h = device.d2h
    assert (d2h.count, d2h.bytes, d2h.pinned_count, d2h.pageable_count) == (1, 500, 1, 0)
    assert d2h.per_step == 0.5
    assert d2h.exposed_ns == 5 * US
    assert device.d2d.count == 0


def test_steps(result: Document) -> None:
    assert result.steps.count == 2
    assert (result.steps.first, result.steps.last) == (1, 2)
    assert plain(result.steps.duration_ns) == {
        "p50": 100 * US,
        "p90": 100 * US,
        "p99": 100 * US,
        "mean": 100.0 * US,
        "max": 100 * US,
    }


def test_hotspots_group_by_short_name(device: Device) -> None:
    gemm, relu = device.hotspots
    assert plain(gemm) == {
        "name": "ns::gemm",
        "count": 2,
        "total_ns": 40 * US,
        "mean_ns": 20.0 * US,
        "min_ns": 20 * US,
        "median_ns": 20.0 * US,
        "p50_ns": 20 * US,
        "p99_ns": 20 * US,
        "max_ns": 20 * US,
        "stddev_ns": 0.0,
        "share": pytest.approx(40 / 51),
        "launched_by": "aten::mm",
    }
    assert relu.name == "relu_kernel"
    assert (relu.count, relu.total_ns, relu.p50_ns, relu.p99_ns) == (3, 11 * US, 1 * US, 10 * US)
    assert (relu.min_ns, relu.median_ns) == (0, 1.0 * US)  # durations 0, 1 and 10 us
    mean = 11 / 3
    variance = (mean**2 + (1 - mean) ** 2 + (10 - mean) ** 2) / 2  # sample variance, n - 1 = 2
    assert relu.stddev_ns == pytest.approx(variance**0.5 * US)
    assert relu.launched_by == "aten::relu"


def test_launch_overhead(device: Device) -> None:
    launch = device.launch
    assert launch.kernels_with_launch == 4
    assert (launch.delay_p50_ns, launch.delay_p90_ns, launch.delay_max_ns) == (
        3 * US,
        59 * US,
        59 * US,
    )
    assert launch.short_kernel_count == 1
    assert launch.short_kernel_share == 0.25


def test_bubble_threshold_keeps_longer_gaps_only(tmp_path: Path) -> None:
    path = write_trace(tmp_path / "t.json", _events())
    bubbles = analyze(read_trace(path), Options(bubble_threshold_ns=10 * US)).devices[0].bubbles
    assert (bubbles.count, bubbles.total_ns, bubbles.threshold_ns) == (3, 99 * US, 10 * US)


def test_step_range_restricts_every_metric(tmp_path: Path) -> None:
    path = write_trace(tmp_path / "t.json", _events())
    result = analyze(read_trace(path), Options(steps=(2, 2)))
    device = result.devices[0]
    assert result.steps.count == 1
    assert plain(device.window) == {"start_ns": 110 * US, "end_ns": 180 * US}
    assert device.busy_ns == 16 * US
    assert (device.bubbles.count, device.bubbles.total_ns) == (3, 54 * US)
    assert device.h2d.count == 0
    assert (device.d2h.count, device.d2h.per_step) == (1, 1.0)


def test_top_limits_hotspots(tmp_path: Path) -> None:
    path = write_trace(tmp_path / "t.json", _events())
    hotspots = analyze(read_trace(path), Options(top=1)).devices[0].hotspots
    assert [h.name for h in hotspots] == ["ns::gemm"]


def test_annotations_inside_steps_are_not_steps(tmp_path: Path) -> None:
    events = [
        *_events(),
        {**step(1, 0, 1), "name": "## forward ##"},
        {**step(1, 150, 1), "name": "Optimizer"},
    ]
    result = analyze(read_trace(write_trace(tmp_path / "t.json", events)))
    assert result.steps.count == 2
