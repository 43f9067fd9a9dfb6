"""Complete analysis documents for tests that need only a few numbers: the analysis of a one-step,
one-kernel Kineto trace, with the fields a test names replaced (msgspec.structs.replace)."""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path

from kineto_builder import kernel, runtime, step, write_trace
from msgspec.structs import replace

from tracekit.analysis.analyze import Options, analyze
from tracekit.analysis.document import Document
from tracekit.analysis.document.stats import KernelHotspot
from tracekit.readers import read_trace


@cache
def _one_kernel() -> Document:
    events = [step(1, 0, 100), runtime("cudaLaunchKernel", 10, 5, correlation=1), kernel("k", 20, 50, 1)]
    with tempfile.TemporaryDirectory() as folder:
        return analyze(read_trace(write_trace(Path(folder) / "one.json", events)), Options())


def built_document(
    steps: int = 1,
    step_p50_ns: int | None = None,
    h2d_per_step: float | None = None,
    kernels: tuple[tuple[str, int], ...] = (),
) -> Document:
    """A whole document (one device) with `steps` steps of median `step_p50_ns`, `h2d_per_step` H2D
    copies per step and the kernel hotspots (name, total ns), each of count 1."""
    base = _one_kernel()
    device = base.devices[0]
    device = replace(
        device,
        h2d=replace(device.h2d, per_step=h2d_per_step),
        hotspots=[_hotspot(device.hotspots[0], name, total) for name, total in kernels],
    )
    durations = replace(base.steps.duration_ns, p50=step_p50_ns)
    return replace(base, steps=replace(base.steps, count=steps, duration_ns=durations), devices=[device])


def _hotspot(template: KernelHotspot, name: str, total_ns: int) -> KernelHotspot:
    return replace(template, name=name, count=1, total_ns=total_ns)
