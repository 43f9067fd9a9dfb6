"""Record small real PyTorch-profiler traces of operators of known size, and time them with CUDA events.

Usage (needs a CUDA GPU and torch; does not import tracekit):

    python3 tests/data/gpu/record_operators.py OUTDIR

For each precision (``fp32`` with TF32 off, ``tf32``, ``bf16``) the script

1. builds the cases below (GEMMs, a batched matmul with broadcasting, a dense and a grouped strided
   convolution; in bf16 also flash attention with and without a causal mask),
2. times each case un-profiled with CUDA events: 5 warm-up calls, then ``REPS`` calls, each between
   its own pair of events recorded behind a short GPU spin (``torch.cuda._sleep``), so that the host's
   dispatch of the call is hidden and the events time its kernels; the median gives the event-timed
   TFLOP/s,
3. records one trace with ``record_shapes=True`` (schedule wait=0, warmup=1, active=``ACTIVE``;
   one step runs every case once) and writes it gzipped (level 9, mtime 0).

It also writes ``operators_noshapes`` (the bf16 GEMM without ``record_shapes``), ``truth.json`` (every
case: operator, shapes, dtype, FLOPs, median ms, TFLOP/s) and ``environment.json``.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass

import recording
import torch
import torch.nn.functional as F

REPS = 15
QUEUE_CYCLES = 5_000_000  # a ~2.5 ms GPU spin before each timed call: the host enqueues the call while
# the GPU is still busy, so the events time the call's kernels and not the host's dispatch of it
WARMUP_CALLS = 5
ACTIVE = 3


@dataclass
class Case:
    """One operator call of known FLOPs."""

    name: str
    operator: str
    shapes: list[list[int]]
    flops: int
    run: Callable[[], torch.Tensor]


def matmul_cases(dtype: torch.dtype, side: int) -> list[Case]:
    """mm (side^3), linear with bias on a 3-D input, and matmul broadcasting [4,1] x [1,8] batches."""
    dev = "cuda"
    a = torch.randn(side, side, device=dev, dtype=dtype)
    b = torch.randn(side, side, device=dev, dtype=dtype)
    x = torch.randn(4, 1024, 4096, device=dev, dtype=dtype)
    w = torch.randn(8192, 4096, device=dev, dtype=dtype)
    bias = torch.randn(8192, device=dev, dtype=dtype)
    p = torch.randn(4, 1, 1024, 1024, device=dev, dtype=dtype)
    q = torch.randn(1, 8, 1024, 1024, device=dev, dtype=dtype)
    return [
        Case("mm", "aten::mm", [[side, side], [side, side]], 2 * side**3, lambda: torch.mm(a, b)),
        Case(
            "linear",
            "aten::linear",
            [[4, 1024, 4096], [8192, 4096], [8192]],
            2 * 4096 * 4096 * 8192 + 4096 * 8192,
            lambda: F.linear(x, w, bias),
        ),
        Case(
            "matmul_broadcast",
            "aten::matmul",
            [[4, 1, 1024, 1024], [1, 8, 1024, 1024]],
            32 * 2 * 1024**3,
            lambda: torch.matmul(p, q),
        ),
    ]


def conv_cases(dtype: torch.dtype) -> list[Case]:
    """A dense 3x3 convolution and a grouped (8), strided (2) one, both without bias."""
    x = torch.randn(32, 256, 56, 56, device="cuda", dtype=dtype)
    w = torch.randn(256, 256, 3, 3, device="cuda", dtype=dtype)
    wg = torch.randn(256, 32, 3, 3, device="cuda", dtype=dtype)
    return [
        Case(
            "conv2d",
            "aten::conv2d",
            [[32, 256, 56, 56], [256, 256, 3, 3]],
            2 * 32 * 256 * 56 * 56 * 256 * 9,
            lambda: F.conv2d(x, w, padding=1),
        ),
        Case(
            "conv2d_grouped_strided",
            "aten::conv2d",
            [[32, 256, 56, 56], [256, 32, 3, 3]],
            2 * 32 * 256 * 28 * 28 * 32 * 9,
            lambda: F.conv2d(x, wg, stride=2, padding=1, groups=8),
        ),
    ]


def attention_cases(dtype: torch.dtype) -> list[Case]:
    """Flash attention [8, 16, 2048, 128], without and with a causal mask (half the score matrix)."""
    q, k, v = (torch.randn(8, 16, 2048, 128, device="cuda", dtype=dtype) for _ in range(3))
    full = 4 * 8 * 16 * 2048 * 2048 * 128
    shape = [[8, 16, 2048, 128]] * 3
    return [
        Case("sdpa", "aten::scaled_dot_product_attention", shape, full,
             lambda: F.scaled_dot_product_attention(q, k, v)),
        Case("sdpa_causal", "aten::scaled_dot_product_attention", shape, full // 2,
             lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True)),
    ]  # fmt: skip


PRECISIONS = {
    "fp32": (torch.float32, False, 4096),
    "tf32": (torch.float32, True, 8192),
    "bf16": (torch.bfloat16, False, 8192),
}


def set_tf32(enabled: bool) -> None:
    torch.backends.cuda.matmul.allow_tf32 = enabled
    torch.backends.cudnn.allow_tf32 = enabled


def build_cases(precision: str) -> list[Case]:
    dtype, tf32, side = PRECISIONS[precision]
    set_tf32(tf32)
    cases = matmul_cases(dtype, side) + conv_cases(dtype)
    if precision == "bf16":
        cases += attention_cases(dtype)
    return cases


def event_median_ms(run: Callable[[], torch.Tensor]) -> float:
    """Median of REPS event-timed calls after WARMUP_CALLS un-timed ones."""
    for _ in range(WARMUP_CALLS):
        run()
    torch.cuda.synchronize()
    times = []
    for _ in range(REPS):
        torch.cuda._sleep(QUEUE_CYCLES)
        times.append(recording.event_ms(run))
    return statistics.median(times)


def record_trace(path: str, cases: list[Case], record_shapes: bool) -> None:
    """One profiled step per call of every case; the trace is written gzipped to `path`."""
    schedule = torch.profiler.schedule(wait=0, warmup=1, active=ACTIVE, repeat=1)
    activities = [torch.profiler.ProfilerActivity.CPU, torch.profiler.ProfilerActivity.CUDA]
    with torch.profiler.profile(
        activities=activities, schedule=schedule, record_shapes=record_shapes
    ) as prof:
        for _ in range(1 + ACTIVE):
            for case in cases:
                case.run()
            torch.cuda.synchronize()
            prof.step()
    plain = path.removesuffix(".gz")
    prof.export_chrome_trace(plain)
    recording.gzip_file(plain)


def environment() -> dict[str, object]:
    smi = recording.nvidia_smi("name,driver_version,clocks.max.sm")
    props = torch.cuda.get_device_properties(0)
    return {
        "gpu": props.name,
        "compute_capability": f"{props.major}.{props.minor}",
        "sms": props.multi_processor_count,
        "nvidia_smi": smi,
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version(),
        "python": platform.python_version(),
        "command": " ".join(sys.argv),
    }


def main(outdir: str) -> None:
    os.makedirs(outdir, exist_ok=True)
    torch.backends.cudnn.benchmark = True
    truth = []
    for precision in PRECISIONS:
        cases = build_cases(precision)
        for case in cases:
            ms = event_median_ms(case.run)
            truth.append({
                "trace": f"operators_{precision}", "case": case.name, "operator": case.operator,
                "precision": precision, "shapes": case.shapes, "flops": case.flops,
                "median_ms": ms, "tflops": case.flops / (ms * 1e-3) / 1e12,
            })  # fmt: skip
            print(f"{precision} {case.name} {ms:.4f} ms {truth[-1]['tflops']:.1f} TFLOP/s", flush=True)
        record_trace(os.path.join(outdir, f"operators_{precision}.pt.trace.json.gz"), cases, True)
        if precision == "bf16":
            record_trace(os.path.join(outdir, "operators_noshapes.pt.trace.json.gz"), cases[:1], False)
        del cases
        torch.cuda.empty_cache()
    with open(os.path.join(outdir, "truth.json"), "w") as out:
        json.dump({"environment": environment(), "cases": truth}, out, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
