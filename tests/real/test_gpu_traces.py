"""Real traces recorded on an H100 whose truth is known by construction (tests/data/gpu/SOURCE.md).

Each step copies 28 host tensors (20 pageable, 1,298,432 B; 8 pinned, 524,288 B) then makes one D2H
copy; the batched variant copies the same bytes as one pinned H2D copy. The utilization is checked
against a union computed here from the raw JSON, independently of tracekit's reader and algebra.
"""

from __future__ import annotations

import gzip
import json
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from conftest import GPU_DATA

from tracekit.analysis.analyze import analyze
from tracekit.model.schema import CopyDirection, Kind
from tracekit.readers import read_trace

SEPARATE_RUNS = [GPU_DATA / f"h2d28_separate_run{i}.pt.trace.json.gz" for i in (1, 2, 3)]
BATCHED = GPU_DATA / "h2d_batched.pt.trace.json.gz"
STEP_BYTES = 1_298_432 + 524_288


def _independent_utilization(path: Path) -> float:
    """Union of device operations over [first start, last end], from the raw JSON by plain sorting."""
    events = json.loads(gzip.decompress(path.read_bytes()), parse_float=Decimal)["traceEvents"]
    spans = sorted(
        (int(e["ts"] * 1000), int((e["ts"] + e["dur"]) * 1000))
        for e in events
        if e.get("ph") == "X" and e.get("cat") in ("kernel", "gpu_memcpy", "gpu_memset")
    )
    busy, current_start, current_end = 0, spans[0][0], spans[0][1]
    for start, end in spans[1:]:
        if start > current_end:
            busy += current_end - current_start
            current_start = start
        current_end = max(current_end, end)
    busy += current_end - current_start
    return busy / (max(end for _, end in spans) - spans[0][0])


@pytest.mark.parametrize("path", SEPARATE_RUNS, ids=lambda p: p.name.split(".")[0])
def test_separate_copies_per_step(path: Path) -> None:
    analysis = analyze(read_trace(path))
    device = analysis.devices[0]
    assert analysis.steps.count == 10
    assert (analysis.steps.first, analysis.steps.last) == (3, 12)
    h2d = device.h2d
    assert (h2d.count, h2d.per_step) == (280, 28.0)
    assert (h2d.pageable_count, h2d.pinned_count) == (200, 80)
    assert (h2d.pageable_bytes, h2d.pinned_bytes) == (10 * 1_298_432, 10 * 524_288)
    assert (device.d2h.count, device.d2h.per_step) == (10, 1.0)
    assert device.utilization == pytest.approx(_independent_utilization(path), rel=1e-12)


@pytest.mark.parametrize("path", SEPARATE_RUNS, ids=lambda p: p.name.split(".")[0])
def test_every_step_has_exactly_28_h2d_copies(path: Path) -> None:
    events = read_trace(path).events
    h2d = (events.column("kind").to_numpy() == Kind.MEMCPY) & (
        events.column("copy_direction").to_numpy() == CopyDirection.H2D
    )
    steps, counts = np.unique(events.column("step").to_numpy()[h2d], return_counts=True)
    assert steps.tolist() == list(range(3, 13))
    assert set(counts.tolist()) == {28}


def test_batched_copy_is_one_pinned_h2d_per_step() -> None:
    analysis = analyze(read_trace(BATCHED))
    h2d = analysis.devices[0].h2d
    assert analysis.steps.count == 10
    assert (h2d.count, h2d.per_step, h2d.pinned_count, h2d.pageable_count) == (10, 1.0, 10, 0)
    assert h2d.bytes == 10 * STEP_BYTES
    assert analysis.devices[0].utilization == pytest.approx(_independent_utilization(BATCHED), rel=1e-12)
