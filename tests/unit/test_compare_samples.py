"""Per-step samples from a built trace whose truth is known by construction."""

from __future__ import annotations

from pathlib import Path

from kineto_builder import kernel, memcpy, runtime, step, write_trace

from tracekit.compare.samples import step_samples
from tracekit.readers import read_trace


def test_per_step_durations_busy_kernels_and_copies(tmp_path: Path) -> None:
    # step 1 [0, 100) us: a 10 us copy of 4 kB, kernels of 20 and 30 us overlapping by 10 us
    # step 2 [100, 150) us: one 5 us kernel; device work is assigned by its launch call
    events = [
        step(1, 0, 100),
        step(2, 100, 50),
        runtime("cudaMemcpyAsync", 1, 1, correlation=1),
        runtime("cudaLaunchKernel", 2, 1, correlation=2),
        runtime("cudaLaunchKernel", 3, 1, correlation=3),
        runtime("cudaLaunchKernel", 101, 1, correlation=4),
        memcpy("Memcpy HtoD (Pageable -> Device)", 5, 10, 4000, correlation=1),
        kernel("a", 20, 20, correlation=2),
        kernel("b", 30, 30, correlation=3, stream=8),
        kernel("c", 120, 5, correlation=4),
    ]
    samples = step_samples(read_trace(write_trace(tmp_path / "t.json", events)).events)
    assert samples["duration_ns"].tolist() == [100_000, 50_000]
    assert samples["busy_ns"].tolist() == [10_000 + 40_000, 5_000]  # union: [5, 15) + [20, 60) us
    assert samples["idle_ns"].tolist() == [50_000, 45_000]
    assert samples["utilization"].tolist() == [0.5, 0.1]
    assert samples["kernel_ns"].tolist() == [50_000, 5_000]
    assert samples["h2d_count"].tolist() == [1, 0] and samples["h2d_bytes"].tolist() == [4000, 0]
    assert samples["d2h_count"].tolist() == [0, 0]


def test_trace_without_steps_has_empty_samples(tmp_path: Path) -> None:
    path = write_trace(
        tmp_path / "t.json", [runtime("cudaLaunchKernel", 1, 1, correlation=1), kernel("k", 3, 1, 1)]
    )
    samples = step_samples(read_trace(path).events)
    assert all(len(values) == 0 for values in samples.values())
