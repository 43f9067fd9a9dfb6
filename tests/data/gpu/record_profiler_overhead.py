"""Measure how much the PyTorch profiler inflates the host timeline, per recorded event.

Usage (needs a CUDA GPU and torch; does not import tracekit):

    python3 tests/data/gpu/record_profiler_overhead.py OUT_JSON [--traces DIR]

Three workloads, each a step of n operations then ``torch.cuda.synchronize()``, for n in NS:

* ``cpu_ops``: n ``aten::add`` on a 1-element CPU tensor (one CPU op each, no CUDA call);
* ``launches``: n ``aten::add`` on a 1-element CUDA tensor (one CPU op, one ``cudaLaunchKernel`` and
  one kernel each: the device work is negligible, the step is host-bound);
* ``graph_kernels``: one ``cudaGraphLaunch`` of a CUDA graph of n such kernels.

For each, the median step is measured un-profiled (perf_counter, UNPROFILED_ITERS steps) and
profiled (the median ``ProfilerStep#`` duration of a trace recorded with activities CPU and CUDA,
``record_shapes=True``, schedule wait 1, warmup 2, active 10), and the per-event inflation is the
least-squares slope of (profiled - unprofiled) over n; the intercept is the per-step cost. The
JSON holds every median and fit, the environment, and the traces are written gzipped to --traces.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable

import numpy as np
import recording
import torch

NS = (0, 64, 256)
UNPROFILED_ITERS = 100


def adds(x: torch.Tensor, n: int) -> torch.Tensor:
    """n `aten::add` of 1, one after the other."""
    y = x
    for _ in range(n):
        y = y.add(1)
    return y


def adds_step(device: str) -> Callable[[int], Callable[[], None]]:
    """Steps of n `aten::add` on a 1-element tensor on `device` (cpu: no CUDA call; cuda: one
    cudaLaunchKernel and one kernel each), then a synchronize."""

    def make(n: int) -> Callable[[], None]:
        x = torch.zeros(1, device=device)

        def step() -> None:
            adds(x, n)
            torch.cuda.synchronize()

        return step

    return make


def graph_step(n: int) -> Callable[[], None]:
    x = torch.zeros(1, device="cuda")
    if n == 0:
        return lambda: torch.cuda.synchronize()
    graph, _ = recording.capture_graph(lambda: adds(x, n))

    def step() -> None:
        graph.replay()
        torch.cuda.synchronize()

    return step


WORKLOADS = {"cpu_ops": adds_step("cpu"), "launches": adds_step("cuda"), "graph_kernels": graph_step}


def unprofiled_ns(step: Callable[[], None]) -> float:
    ts = []
    for _ in range(UNPROFILED_ITERS):
        t0 = time.perf_counter_ns()
        step()
        ts.append(time.perf_counter_ns() - t0)
    return float(statistics.median(ts))


def profiled_ns(step: Callable[[], None], trace_path: str) -> float:
    """The median ProfilerStep# duration (ns) of a trace recorded around the step."""
    recording.profile_steps(lambda i: step(), trace_path, record_shapes=True)
    with open(trace_path) as f:
        events = json.load(f)["traceEvents"]
    steps = [s.dur_ns for s in recording.cpu_steps(events)]  # host steps, not the GPU-side ProfilerStep#
    recording.gzip_file(trace_path)
    return float(statistics.median(steps))


def fit(ns: list[int], extra: list[float]) -> dict[str, float]:
    slope, intercept = np.polyfit(np.array(ns, float), np.array(extra, float), 1)
    return {"per_event_ns": float(slope), "per_step_ns": float(intercept)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--traces", default=".")
    args = ap.parse_args()
    os.makedirs(args.traces, exist_ok=True)
    result: dict[str, object] = {
        "environment": {
            "gpu": torch.cuda.get_device_name(0),
            "torch": torch.__version__,
            "cuda": torch.version.cuda,
            "python": platform.python_version(),
            "cpu": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
            "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        },
        "workloads": {},
    }
    for name, make in WORKLOADS.items():
        rows = []
        for n in NS:
            step = make(n)
            recording.warm_up(lambda i, step=step: step())
            trace = os.path.join(args.traces, f"profiler_overhead_{name}_{n}.pt.trace.json")
            prof = profiled_ns(step, trace)
            unprof = unprofiled_ns(step)
            rows.append({"n": n, "profiled_step_ns": prof, "unprofiled_step_ns": unprof})
            print(f"{name} n={n}: profiled {prof / 1e3:.1f} us, unprofiled {unprof / 1e3:.1f} us", flush=True)
        extra = [r["profiled_step_ns"] - r["unprofiled_step_ns"] for r in rows]
        result["workloads"][name] = {"rows": rows, "fit": fit(list(NS), extra)}
        print(name, result["workloads"][name]["fit"], flush=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
