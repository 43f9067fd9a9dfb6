"""The `tracekit.analysis/1` JSON contract (docs/json.md): every documented field is present."""

from __future__ import annotations

import json

import pytest
from conftest import ROOT

from tracekit.analysis.analyze import analyze
from tracekit.readers import read_trace
from tracekit.report.files import to_json

SAMPLE = ROOT / "sample_traces" / "h2d28_separate.pt.trace.json.gz"
COPY_KEYS = {
    "count", "per_step", "bytes", "busy_ns", "share_of_busy", "exposed_share",
    "pageable_count", "pinned_count", "bandwidth_gbps",
}  # fmt: skip
DEVICE_KEYS = {
    "id",
    "window_ns",
    "busy_ns",
    "utilization",
    "kernel_utilization",
    "bubbles",
    "hotspots",
    "launch",
}


@pytest.fixture(scope="module")
def document() -> dict:
    return json.loads(to_json(analyze(read_trace(SAMPLE))))


def test_top_level(document: dict) -> None:
    assert document["schema"] == "tracekit.analysis/1"
    assert document["trace"]["format"] == "kineto"
    assert isinstance(document["trace"]["events"], int)
    assert document["steps"]["count"] == 10
    assert set(document["steps"]["duration_ns"]) == {"p50", "p90", "p99", "mean", "max"}
    assert document["definitions"]["utilization"] == "busy_ns / |W|"


def test_device_block(document: dict) -> None:
    device = document["devices"][0]
    assert device.keys() >= DEVICE_KEYS
    assert device["bubbles"].keys() >= {
        "count",
        "total_ns",
        "p50_ns",
        "p90_ns",
        "max_ns",
        "histogram",
        "by_cause",
    }
    assert [b["bin"] for b in device["bubbles"]["histogram"]] == [
        "<1 us",
        "1-10 us",
        "10-100 us",
        "100 us-1 ms",
        "1-10 ms",
        ">10 ms",
    ]
    assert set(device["bubbles"]["by_cause"]) == {"sync_wait", "host_wait", "other"}
    for direction in ("h2d", "d2h", "d2d"):
        assert device[direction].keys() >= COPY_KEYS
    hotspot_keys = {"name", "count", "total_ns", "mean_ns", "p50_ns", "p99_ns", "share"}
    assert all(h.keys() >= hotspot_keys for h in device["hotspots"])
    assert device["launch"].keys() >= {"delay_p50_ns", "delay_p90_ns", "short_kernel_share"}


def test_numbers_are_json_numbers(document: dict) -> None:
    device = document["devices"][0]
    assert isinstance(device["window_ns"], int) and isinstance(device["utilization"], float)
    assert isinstance(device["h2d"]["per_step"], float)
