"""Device memory on real PyTorch-profiler traces recorded with profile_memory=True.

- `tests/data/gpu/memory_leak` / `memory_steady` (H200, torch 2.11): a 1 MiB tensor kept every step
  against none; the Total Allocated at each step end is listed in tests/data/gpu/SOURCE.md.
- the TensorBoard plugin's ResNet-50 sample (2021, V100, ../shared): its `[memory]` events give only
  the signed size (`Bytes`), so the levels are the running sum; checked against a sum computed here
  from the raw JSON.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import GPU_DATA, shared_trace

from tracekit.analysis.analyze import analyze
from tracekit.analysis.document.device import Memory
from tracekit.model.schema import Kind
from tracekit.readers import read_trace

MIB = 1_048_576
RESNET50 = "kineto/kineto-tbplugin-resnet50/worker0.1623143089861.pt.trace.json.gz"
# SOURCE.md, "Per step (CUDA, at step end, in bytes)": ProfilerStep#3 .. #12
LEAK_AT_STEP_END = [25_165_824 + i * MIB for i in range(10)]


def _gpu_trace(name: str) -> Path:
    path = GPU_DATA / f"{name}.pt.trace.json.gz"
    if not path.exists():
        pytest.skip(f"{path} is absent (recorded by tests/data/gpu/record_pairs.py)")
    return path


def _raw_memory_events(path: Path) -> list[dict]:
    events = json.loads(gzip.decompress(path.read_bytes()))["traceEvents"]
    return [e for e in events if e.get("name") == "[memory]" and e.get("ph") == "i"]


def _memory_block(path: Path) -> tuple[Memory, dict]:
    trace = read_trace(path)
    (device,) = analyze(trace).devices
    return device.memory, trace.metadata


def test_leak_grows_one_mib_per_step() -> None:
    path = _gpu_trace("memory_leak")
    block, metadata = _memory_block(path)
    raw = _raw_memory_events(path)
    assert len(raw) == 110  # 70 CUDA + 40 CPU; the CPU ones are not read
    assert block.samples == 70
    steps = zip(range(3, 13), LEAK_AT_STEP_END, strict=True)
    assert [(s.step, s.allocated_bytes) for s in block.per_step] == list(steps)
    assert block.growth_per_step_bytes == MIB
    assert block.growing_steps_share == 1.0
    cuda = [e["args"]["Total Allocated"] for e in raw if e["args"]["Device Type"] == 1]
    assert (block.peak_bytes, block.start_bytes, block.end_bytes) == (max(cuda), cuda[0], cuda[-1])
    assert block.end_bytes == LEAK_AT_STEP_END[-1]
    assert "warnings" not in metadata  # the trace gives Total Allocated


def test_steady_loop_does_not_grow() -> None:
    path = _gpu_trace("memory_steady")
    block, _ = _memory_block(path)
    assert len(_raw_memory_events(path)) == 120  # 80 CUDA + 40 CPU
    assert block.samples == 80
    assert [(s.step, s.allocated_bytes) for s in block.per_step] == [(n, 0) for n in range(3, 13)]
    assert block.growth_per_step_bytes == 0.0
    assert block.growing_steps_share == 0.0
    assert block.peak_bytes == MIB + 3 * 512  # the step's tensor and its three 512 B blocks


def test_traces_without_profile_memory_have_no_memory_block() -> None:
    (device,) = analyze(read_trace(_gpu_trace("h2d_batched"))).devices
    assert device.memory is None


def test_resnet50_2021_samples_are_the_running_sum_of_sizes() -> None:
    path = shared_trace(RESNET50)
    trace = read_trace(path)
    raw = _raw_memory_events(path)
    cuda = sorted((e["ts"], i, e["args"]["Bytes"]) for i, e in enumerate(raw) if e["args"]["Device Type"])
    running = np.cumsum([size for _, _, size in cuda])
    assert (len(raw), len(cuda)) == (12_838, 8_220)  # 4,618 CPU samples are not read
    assert running.min() == 0  # nothing freed that the capture did not allocate: no raise needed

    kind = trace.events.column("kind").to_numpy()
    levels = trace.events.column("bytes").to_numpy()[kind == Kind.MEMORY]
    assert levels.tolist() == running.tolist()
    (warning,) = trace.metadata["warnings"]
    assert "no Total Allocated" in warning

    block = analyze(trace).devices[0].memory
    assert block.samples == 8_220
    assert block.peak_bytes == 2_791_636_480 == running.max()
    assert (block.start_bytes, block.end_bytes) == (19_267_584, 0)  # first: the input batch (H2D)
    assert [(s.step, s.allocated_bytes) for s in block.per_step] == [(n, 0) for n in range(5, 11)]
    assert block.growth_per_step_bytes == 0.0
    assert block.growing_steps_share == 0.0
    series = block.series
    assert len(series.time_ns) <= 1000 and max(series.allocated_bytes) == block.peak_bytes
