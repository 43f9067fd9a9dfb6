"""Real PyTorch-profiler traces from public projects (../shared/traces/kineto), checked against the
numbers their SOURCE.md gives. Each test skips when ../shared is absent."""

from __future__ import annotations

import pytest
from conftest import shared_trace

from tracekit.analysis.analyze import analyze
from tracekit.analysis.document import Document
from tracekit.analysis.document.device import Device
from tracekit.model.schema import Kind
from tracekit.readers import read_trace

HTA = "kineto/hta/"


def _analysis(relative: str) -> Document:
    return analyze(read_trace(shared_trace(relative)))


def _only_device(relative: str) -> Device:
    devices = _analysis(relative).devices
    assert len(devices) == 1
    return devices[0]


def _kernel_count(relative: str) -> int:
    kinds = read_trace(shared_trace(relative)).events.column("kind").to_numpy()
    return int(((kinds == Kind.KERNEL) | (kinds == Kind.COMMUNICATION)).sum())


def test_tbplugin_resnet50_2021_schema_has_12_pageable_h2d_copies() -> None:
    analysis = _analysis("kineto/kineto-tbplugin-resnet50/worker0.1623143089861.pt.trace.json.gz")
    h2d = analysis.devices[0].h2d
    assert (h2d.count, h2d.pageable_count, h2d.pinned_count) == (12, 12, 0)
    assert analysis.trace.format == "kineto"


def test_hta_simple_add_has_16_pageable_h2d_copies() -> None:
    h2d = _only_device(HTA + "critical_path/simple_add/benchmark_result_493459_1694039959_trace.json.gz").h2d
    assert (h2d.count, h2d.pageable_count) == (16, 16)
    assert h2d.bytes == 244_403_360
    assert h2d.busy_ns == 39_080_000  # 39.08 ms; the copies do not overlap


def test_hta_timeline_analysis_copies_and_utilization() -> None:
    device = _only_device(HTA + "timeline_analysis/sampled_rank-0.json.gz")
    assert (device.h2d.pageable_count, device.h2d.pinned_count) == (16, 8)
    assert (device.d2h.count, device.d2d.count) == (8, 8)
    assert device.utilization == pytest.approx(0.448, abs=0.0005)


def test_hta_queue_length_trace_counts() -> None:
    relative = HTA + "negative_queue_length_values_check/rank0.json.gz"
    device = _only_device(relative)
    assert _kernel_count(relative) == 6080
    assert device.d2d.count == 1280
    assert (device.h2d.pageable_count, device.h2d.pinned_count) == (45, 35)
    assert round(device.h2d.bytes / 1e6, 1) == 253.5
    assert device.d2h.count == 30


@pytest.mark.parametrize(
    ("relative", "kernels", "d2d", "pinned_h2d"),
    [
        ("trace_diff/control/control.json.gz", 8568, 18, 150),
        ("trace_diff/test/test.json.gz", 9876, 4645, 151),
    ],
)
def test_hta_trace_diff_pair(relative: str, kernels: int, d2d: int, pinned_h2d: int) -> None:
    device = _only_device(HTA + relative)
    assert _kernel_count(HTA + relative) == kernels
    assert device.d2d.count == d2d
    assert device.h2d.pinned_count == pinned_h2d


def test_hta_rocm_trace_copies_without_bytes() -> None:
    relative = HTA + "amd_trace/mi250_minitoy_train_ROCm6_2_kineto.json.gz"
    device = _only_device(relative)
    assert _kernel_count(relative) == 14
    h2d = device.h2d
    assert (h2d.count, h2d.bytes, h2d.bytes_unknown_count) == (2, 0, 2)
    assert (h2d.pageable_count, h2d.pinned_count) == (0, 0)  # ROCm says only "Host"
    assert device.id == 2


def test_hta_2021_inference_trace_with_old_categories() -> None:
    relative = HTA + "trace_file_list/inference_rank_1.json.gz"
    assert _kernel_count(relative) == 4
    assert _only_device(relative).launch.kernels_with_launch == 4


def test_hta_event_sync_trace_counts() -> None:
    device = _only_device(HTA + "critical_path/cuda_event_sync/event_sync_trace.json.gz")
    assert device.d2h.count == 1
    assert _kernel_count(HTA + "critical_path/cuda_event_sync/event_sync_trace.json.gz") == 4
