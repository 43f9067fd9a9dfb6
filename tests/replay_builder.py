"""Replay models of tiny built traces, shared by the exact attribution, plan and change tests."""

from __future__ import annotations

from pathlib import Path

from kineto_builder import kernel, runtime, step, write_trace

from tracekit.analysis.columns import Columns
from tracekit.analysis.replay import StepModel, replay
from tracekit.analysis.step_model import build_step
from tracekit.readers import read_trace

US = 1000


def step_model(tmp_path: Path, events: list[dict], end_us: int) -> tuple[Columns, StepModel]:
    """The replay model of step #1 spanning [0, end_us) (times in µs); its unchanged replay is exact."""
    trace = read_trace(write_trace(tmp_path / "t.json", [step(1, 0, end_us), *events]))
    cols = Columns.from_table(trace.events)
    model = build_step(trace.events, cols, 1, 0, end_us * US)
    assert model is not None and replay(model) == end_us * US
    return cols, model


def kernel_chain() -> list[dict]:
    """Launches [0,5) [6,10) [11,15) -> k1 [10,30), k2 [35,50), k3 [52,90) (each after the previous
    one: gaps 5 and 2), cudaDeviceSynchronize [16,95) returns 5 after k3; step [0,95). Shortening a
    kernel by d shortens the step by d."""
    return [
        runtime("cudaLaunchKernel", 0, 5, correlation=1),
        kernel("k1", 10, 20, correlation=1),
        runtime("cudaLaunchKernel", 6, 4, correlation=2),
        kernel("k2", 35, 15, correlation=2),
        runtime("cudaLaunchKernel", 11, 4, correlation=3),
        kernel("k3", 52, 38, correlation=3),
        runtime("cudaDeviceSynchronize", 16, 79),
    ]
