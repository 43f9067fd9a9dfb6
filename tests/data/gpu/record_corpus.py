"""Record a corpus of real before/after PyTorch-profiler (Kineto) trace pairs, one change per pair.

Usage (needs a CUDA GPU, torch and numpy; does not import tracekit):

    python3 tests/data/gpu/record_corpus.py WORKDIR [--out DIR] [--only NAME,NAME,...]
    python3 tests/data/gpu/record_corpus.py WORKDIR --assemble [--out DIR]

Each recording (see ``RECORDINGS``) runs in a fresh Python process (the script starts itself again
with ``--one NAME WORKDIR``). That process

1. builds the workload and runs 20 un-profiled warm-up iterations;
2. profiles 13 iterations with ``activities=[CPU, CUDA]``, ``record_shapes=True`` and
   ``schedule(wait=1, warmup=2, active=10, repeat=1)``, calling ``prof.step()`` after each, so the
   trace holds exactly 10 ``ProfilerStep#N`` steps; exports it and gzips it (level 9, mtime 0, empty
   file name) to ``WORKDIR/NAME.pt.trace.json.gz``;
3. then, un-profiled, runs 10 more iterations and times ``UNPROFILED_ITERS`` iterations one by one
   with ``time.perf_counter`` (every step ends with a synchronize), and writes the median, p10 and
   p90 (and, for throughput pairs, samples per second) to ``WORKDIR/NAME.recording.json``.

The parent then re-parses every trace with plain ``json``/``gzip`` (``analyze``), checks the truth
that the workload builds in (``CHECKS``: copies with bytes and pageable/pinned, nonzero and sync
calls, ``.item()`` copies, kernels per step, graph launches, GEMM/conv input dtypes, ...), and writes
``corpus.toml`` (one ``[[pair]]`` per pair, one ``[[same_code]]`` per ``_run2`` recording, an
``[environment]`` table), ``truth.txt`` and ``corpus_traces.tar`` (the traces and the per-recording
JSON) into ``--out`` (default: WORKDIR). It exits 1 if any check failed or any recording failed,
except ``chain80_compile``, which is skipped (and said so) if ``torch.compile`` fails there.

``--assemble`` redoes only the parent's part on the traces and JSON already in WORKDIR (for example
after re-recording a few names into the same folder).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import itertools
import json
import math
import os
import platform
import queue
import re
import statistics
import subprocess
import sys
import tarfile
import threading
import time
import tomllib
import traceback
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import recording
import torch

UNPROFILED_WARM = 10  # after the profiler has stopped, before the timed iterations
UNPROFILED_ITERS = 100  # timed un-profiled iterations (median, p10, p90)
CHILD_TIMEOUT_S = 120
COMPILE_TIMEOUT_S = 240
RUN_BUDGET_S = 560  # the parent starts no recording that could end later than this (device calls: 600 s)

MIB = 1 << 20
# where the traces are kept in the repository, relative to corpus.toml (tests/data/gpu/): a subfolder, so
# that tests/golden.py's tests/data/gpu/*.json.gz (every trace there needs a golden snapshot) skips them
TRACE_SUBDIR = "corpus"

# ------------------------------------------------------------------------------------ the corpus

RECORDINGS: list[str] = [
    "pageable_32mib",
    "pinned_32mib",
    "pageable_small",
    "pinned_small",
    "copy_serial",
    "copy_overlapped",
    "mask_boolean",
    "mask_static",
    "item_loop",
    "device_flag",
    "chain80_eager",
    "chain80_graph",
    "conv_fp32_tf32",
    "conv_fp32_notf32",
    "conv_bf16",
    "xformer_fp32_tf32",
    "xformer_fp32_notf32",
    "xformer_bf16",
    "preprocess_serial",
    "preprocess_parallel",
    "batch_16",
    "batch_32",
    "instances_1",
    "instances_2",
    "h2d_separate",
    "h2d_batched",
    "preprocess_workers",
    "copy_serial_bf16",
    "copy_overlapped_bf16",
    "batch_knee_n",
    "batch_knee_2n",
    "batch_32_run2",  # in the same call as batch_64 (the pair below)
    "batch_64",
    # the batch sweep, in one call: 64 -> 128 -> ... -> 2048 (BATCH_SWEEP)
    "batch_64_run2",
    "batch_128",
    "batch_256",
    "batch_512",
    "batch_1024",
    "batch_2048",
    # torch.compile of the bf16 transformer layer, with its eager run in the same call
    "xformer_bf16_run2",
    "xformer_bf16_compile",
    # the same code again, each in its own process (run-to-run noise, issue 16)
    "pageable_32mib_run2",
    "chain80_eager_run2",
    "conv_fp32_tf32_run2",
    "preprocess_serial_run2",
    # last: the slowest to start (compiles during its warm-up)
    "chain80_compile",
]

OPTIONAL = {"chain80_compile", "xformer_bf16_compile"}  # skipped, not failed, if torch.compile fails

PAIRS: list[dict[str, str]] = [
    {
        "id": "pin-memory-32mib",
        "before": "pageable_32mib",
        "after": "pinned_32mib",
        "change": "The 32 MiB host input of each step is allocated once in pinned memory (pin_memory()) "
        "instead of pageable memory; the copy call .to('cuda', non_blocking=True) is the same.",
        "expected_rule": "pin-memory",
        "metric": "step_time",
    },
    {
        "id": "pin-memory-small",
        "before": "pageable_small",
        "after": "pinned_small",
        "change": "The 24 host inputs of 64 KiB copied each step live in pinned instead of pageable memory; "
        "the 24 .to('cuda', non_blocking=True) calls are the same.",
        "expected_rule": "pin-memory",
        "metric": "step_time",
    },
    {
        "id": "overlap-copies",
        "before": "copy_serial",
        "after": "copy_overlapped",
        "change": "The 16 MiB pinned H2D copy of the next input is issued on a side stream (ordered with "
        "events) instead of the compute stream, so it overlaps the ~2 ms of compute on the current input.",
        "expected_rule": "overlap-copies",
        "single_bottleneck": False,
        "other_bottleneck": "fp32 GEMMs with TF32 off: mixed precision (or TF32) is a second lever",
        "metric": "step_time",
    },
    {
        "id": "static-shapes",
        "before": "mask_boolean",
        "after": "mask_static",
        "change": "Row selection by a boolean mask (h[keep]: nonzero, an implicit host sync and a dynamic "
        "shape) is replaced by computing all rows and multiplying the output by the mask.",
        "expected_rule": "static-shapes",
        "metric": "step_time",
    },
    {
        "id": "host-syncs",
        "before": "item_loop",
        "after": "device_flag",
        "change": "The 12 per-layer early-exit checks stay on the device (stacked flags, one .item() at the "
        "end) instead of one .item() per layer.",
        "expected_rule": "host-syncs",
        "metric": "step_time",
    },
    {
        "id": "graph-launch",
        "before": "chain80_eager",
        "after": "chain80_graph",
        "change": "The 80-kernel batch-1 chain is captured once as a torch.cuda.CUDAGraph and replayed "
        "instead of launched op by op.",
        "expected_rule": "graph-launch",
        "metric": "step_time",
    },
    {
        "id": "compile-fusion",
        "before": "chain80_eager",
        "after": "chain80_compile",
        "change": "The same 80-kernel chain runs through torch.compile(mode='default') (Inductor fusion) "
        "instead of eager.",
        "expected_rule": "fuse-elementwise",
        "metric": "step_time",
    },
    {
        "id": "mixed-precision-conv-tf32",
        "before": "conv_fp32_tf32",
        "after": "conv_bf16",
        "change": "The conv net's forward runs under torch.autocast('cuda', dtype=torch.bfloat16) instead "
        "of fp32 with TF32 allowed (cuDNN and matmul).",
        "expected_rule": "mixed-precision",
        "metric": "step_time",
    },
    {
        "id": "mixed-precision-conv-notf32",
        "before": "conv_fp32_notf32",
        "after": "conv_bf16",
        "change": "The conv net's forward runs under bf16 autocast instead of fp32 with TF32 off "
        "(both allow_tf32 flags False); the bf16 recording has the TF32 flags on, which bf16 "
        "convolutions do not use.",
        "expected_rule": "mixed-precision",
        "metric": "step_time",
    },
    {
        "id": "mixed-precision-xformer-tf32",
        "before": "xformer_fp32_tf32",
        "after": "xformer_bf16",
        "change": "The transformer encoder layer runs under bf16 autocast instead of fp32 with TF32 "
        "allowed (cuDNN and matmul).",
        "expected_rule": "mixed-precision",
        "metric": "step_time",
    },
    {
        "id": "mixed-precision-xformer-notf32",
        "before": "xformer_fp32_notf32",
        "after": "xformer_bf16",
        "change": "The transformer encoder layer runs under bf16 autocast instead of fp32 with TF32 off; "
        "the bf16 recording has the TF32 flags on, which bf16 GEMMs do not use.",
        "expected_rule": "mixed-precision",
        "metric": "step_time",
    },
    {
        "id": "cpu-bound",
        "before": "preprocess_serial",
        "after": "preprocess_parallel",
        "change": "The ~3 ms numpy preprocessing of the next input runs in a background thread "
        "(concurrent.futures, one worker) while the GPU works on the current one, instead of in the "
        "loop before it.",
        "expected_rule": "cpu-bound",
        "action": "one worker",  # the rule's pipelining alternative, not its k workers
        "metric": "step_time",
    },
    {
        "id": "bigger-batch",
        "before": "batch_16",
        "after": "batch_32",
        "change": "The MLP inference step runs at batch 32 instead of 16 (same model, same code).",
        "expected_rule": "bigger-batch",
        "metric": "throughput",
    },
    {
        "id": "more-instances",
        "before": "instances_1",
        "after": "instances_2",
        "change": "Two host threads, each with its own CUDA stream and input, run the same inference "
        "concurrently instead of one thread on one stream.",
        "expected_rule": "more-instances",
        "metric": "throughput",
    },
    {
        "id": "h2d-batch",
        "before": "h2d_separate",
        "after": "h2d_batched",
        "change": "The 28 small H2D copies per step (20 pageable, 8 pinned) become one copy of a single "
        "pinned buffer split on the device.",
        "expected_rule": "h2d-batch",
        "metric": "step_time",
    },
]

PAIRS += [
    {
        "id": "cpu-bound-workers",
        "before": "preprocess_serial",
        "after": "preprocess_workers",
        "change": "The ~3 ms numpy preprocessing runs in 4 worker processes (spawned "
        "ProcessPoolExecutor, inputs prefetched) instead of in the loop before the GPU part.",
        "expected_rule": "cpu-bound",
        "metric": "step_time",
    },
    {
        "id": "overlap-copies-bf16",
        "before": "copy_serial_bf16",
        "after": "copy_overlapped_bf16",
        "change": "As overlap-copies, with the compute already in bf16 (a single bottleneck: the copy): "
        "the 16 MiB pinned H2D copy of the next input moves to a side stream.",
        "expected_rule": "overlap-copies",
        "metric": "step_time",
    },
    {
        "id": "bigger-batch-knee",
        "before": "batch_knee_n",
        "after": "batch_knee_2n",
        "change": "The fp32 MLP runs at batch 2N instead of N, N chosen in the recording as the "
        "smallest candidate whose 2N forward keeps the device busy 1.5 x the host time of a forward "
        "(the device is full at 2N).",
        "expected_rule": "bigger-batch",
        "metric": "throughput",
    },
]

PAIRS += [
    {
        "id": "bigger-batch-32-64",
        "before": "batch_32_run2",
        "after": "batch_64",
        "change": "The MLP of bigger-batch runs at batch 64 instead of 32: does batch 32, the 'after' of "
        "bigger-batch, still gain from doubling (tracekit fires bigger-batch on it)?",
        "expected_rule": "bigger-batch",
        "metric": "throughput",
    },
]

BATCH_SWEEP = (64, 128, 256, 512, 1024, 2048)
PAIRS += [
    {
        "id": f"bigger-batch-{a}-{b}",
        "before": "batch_64_run2" if a == 64 else f"batch_{a}",
        "after": f"batch_{b}",
        "change": f"The MLP of bigger-batch at batch {b} instead of {a} (the sweep, one call): where does "
        "doubling stop paying?",
        "expected_rule": "bigger-batch",
        "metric": "throughput",
    }
    for a, b in itertools.pairwise(BATCH_SWEEP)
]

PAIRS += [
    {
        "id": "compile-fusion-xformer",
        "before": "xformer_bf16_run2",
        "after": "xformer_bf16_compile",
        "change": "The bf16 transformer encoder layer runs through torch.compile(mode='default') "
        "(Inductor fusion) instead of eager, in the same call as its eager run.",
        "expected_rule": "fuse-elementwise",
        "metric": "step_time",
    },
]

SAME_CODE: list[tuple[str, str]] = [
    ("pageable_32mib", "pageable_32mib_run2"),
    ("chain80_eager", "chain80_eager_run2"),
    ("conv_fp32_tf32", "conv_fp32_tf32_run2"),
    ("preprocess_serial", "preprocess_serial_run2"),
    ("batch_32", "batch_32_run2"),
    ("batch_64", "batch_64_run2"),
    ("xformer_bf16", "xformer_bf16_run2"),
]


def base_name(name: str) -> str:
    """The workload a recording runs: ``X_run2`` runs ``X``."""
    return name[: -len("_run2")] if name.endswith("_run2") else name


# ------------------------------------------------------------------------------------ workloads
# pin-memory
BIG_COPY_BYTES = 32 * MIB
SMALL_COPIES, SMALL_COPY_BYTES = 24, 64 * 1024
# overlap-copies
COPY_SIDE = 2048  # 2048 x 2048 float32 = 16 MiB
COPY_COMPUTE_MATMULS = 6  # fp32 (TF32 off) 2048^3 products, ~0.34 ms each on an H200
# static-shapes
MASK_B, MASK_D, MASK_PRE, MASK_POST, MASK_INPUTS = 4096, 512, 4, 4, 4
# host-syncs
FLAG_LAYERS, FLAG_B, FLAG_D = 12, 256, 1024
# graph-launch
CHAIN_D, CHAIN_BLOCKS = 256, 20  # 4 kernels per block: gemv (Linear with bias), GELU, mul, add
# conv
CONV_BLOCKS, CONV_B, CONV_C, CONV_HW = 6, 32, 64, 56
# transformer
XF_D, XF_HEADS, XF_FF, XF_SEQ, XF_B = 1024, 16, 4096, 512, 8
# cpu-bound
SORT_N = 440_000  # float64; one np.sort of it takes about 3 ms
FEAT_NUMEL = 4096  # 16 KiB float32 sent to the GPU each step
PREP_REPEAT = 32  # (64 x 64) repeated 32 x 32 -> 2048 x 2048
PREP_MATMULS = 3  # ~1 ms of fp32 2048^3 products
PREP_WORKERS = 4  # worker processes of the cpu-bound "after" (spawned; each sorts one input)
# overlap-copies, single bottleneck: the compute already in bf16
COPY_BF16_MATMULS = 40  # bf16 2048^3 products, ~30 us each on an H200
# bigger-batch
BATCH_D, BATCH_LAYERS = 2048, 4
# bigger-batch at the knee: fp32 (TF32 off) MLP; N is chosen in the recording (batch_knee_choice)
KNEE_D, KNEE_LAYERS = 1024, 8
KNEE_CANDIDATES = (32, 64, 128, 256, 512, 1024, 2048, 4096)
KNEE_MARGIN = 1.5  # at 2N the device time of a forward is >= 1.5 x the host time of one (profiled too)
# more-instances
INST_D, INST_LAYERS, INST_B = 1024, 6, 64
# h2d-batch: record_h2d_trace.py's workload (its host tensor sizes: recording.H2D_*_KIB)
H2D_FEAT = 256


_WORKDIR: dict[str, str] = {"dir": "."}  # set by record(): where a recording may leave a choice


class Recording:
    """What one workload gives the recorder: a step (ending in a synchronize) and its metadata."""

    def __init__(self, step: Callable[[int], Any], samples_per_step: int = 1, **notes: Any) -> None:
        self.step = step
        self.samples_per_step = samples_per_step
        self.notes = notes


def _dev() -> torch.device:
    return torch.device("cuda")


def _event_ms(fn: Callable[[], Any], reps: int = 10) -> float:
    """Median CUDA-event time of fn() in ms (after 3 untimed calls)."""
    for _ in range(3):
        fn()
    return round(statistics.median([recording.event_ms(fn) for _ in range(reps)]), 4)


def build_copy_size(pinned: bool, n_copies: int, nbytes: int) -> Recording:
    """n_copies host tensors of nbytes each, copied with .to('cuda', non_blocking=True), then a reduction."""
    numel = nbytes // 4
    hosts = [torch.full((numel,), float(k % 5 + 1), dtype=torch.float32) for k in range(n_copies)]
    if pinned:
        hosts = [h.pin_memory() for h in hosts]
    assert all(h.is_pinned() == pinned for h in hosts)

    def step(i: int) -> None:
        parts = [h.to("cuda", non_blocking=True) for h in hosts]
        x = parts[0] if len(parts) == 1 else torch.stack(parts)
        torch.relu(x).sum()
        torch.cuda.synchronize()

    return Recording(step, host_memory="pinned" if pinned else "pageable", copies=n_copies, bytes_each=nbytes)


def _matmul_chain(y: torch.Tensor, w: torch.Tensor, n: int) -> torch.Tensor:
    for _ in range(n):
        y = torch.relu(y @ w)
    return y.sum()


def build_copy_overlap(overlapped: bool, bf16: bool = False) -> Recording:
    """Per step: a 16 MiB pinned H2D copy of the next input, ~2 ms of compute on the current one
    (fp32 with TF32 off, or bf16 products of the input cast to bf16: ~1.2 ms)."""
    torch.backends.cuda.matmul.allow_tf32 = False
    dev = _dev()
    n = COPY_SIDE
    g = torch.Generator().manual_seed(0)
    hosts = [torch.randn(n, n, generator=g).pin_memory() for _ in range(2)]
    bufs = [torch.empty(n, n, device=dev) for _ in range(2)]
    bufs[0].copy_(hosts[0])
    w = torch.randn(n, n, generator=g).to(dev) / math.sqrt(n)
    matmuls = COPY_BF16_MATMULS if bf16 else COPY_COMPUTE_MATMULS
    if bf16:
        w = w.to(torch.bfloat16)

    def compute(x: torch.Tensor) -> torch.Tensor:
        return _matmul_chain(x.to(torch.bfloat16) if bf16 else x, w, matmuls)

    main = torch.cuda.current_stream()
    side = torch.cuda.Stream()
    copied = torch.cuda.Event()
    compute_ms = _event_ms(lambda: compute(bufs[0]))
    copy_ms = _event_ms(lambda: bufs[1].copy_(hosts[1], non_blocking=True))

    def step(i: int) -> None:
        cur, nxt, src = bufs[i % 2], bufs[(i + 1) % 2], hosts[(i + 1) % 2]
        if overlapped:
            side.wait_stream(main)  # nxt's last reader (the previous step's compute) is done
            with torch.cuda.stream(side):
                nxt.copy_(src, non_blocking=True)
                copied.record(side)
            compute(cur)
            main.wait_event(copied)  # the next step's compute reads nxt
        else:
            nxt.copy_(src, non_blocking=True)
            compute(cur)
        torch.cuda.synchronize()

    return Recording(
        step,
        copy_bytes=n * n * 4,
        compute_matmuls=matmuls,
        compute_dtype="bf16" if bf16 else "fp32 (TF32 off)",
        compute_event_ms=compute_ms,
        copy_event_ms=copy_ms,
        streams="side stream for the copy" if overlapped else "one stream",
    )


def build_mask(static: bool) -> Recording:
    """A small MLP whose rows are filtered by a data-dependent mask halfway."""
    dev = _dev()
    torch.manual_seed(0)
    pre = torch.nn.Sequential(
        *[m for _ in range(MASK_PRE) for m in (torch.nn.Linear(MASK_D, MASK_D), torch.nn.ReLU())]
    ).to(dev)
    post = torch.nn.Sequential(
        *[m for _ in range(MASK_POST) for m in (torch.nn.Linear(MASK_D, MASK_D), torch.nn.ReLU())]
    ).to(dev)
    head = torch.nn.Linear(MASK_D, 64).to(dev)
    xs = [torch.randn(MASK_B, MASK_D, device=dev) for _ in range(MASK_INPUTS)]
    kept = []
    with torch.no_grad():
        for x in xs:
            kept.append(int((pre(x)[:, 0] > 0).sum().item()))

    def step(i: int) -> None:
        with torch.no_grad():
            h = pre(xs[i % MASK_INPUTS])
            if static:
                keep = (h[:, 0] > 0).unsqueeze(1).to(h.dtype)
                (head(post(h)) * keep).sum()
            else:
                keep = h[:, 0] > 0
                sel = h[keep]  # nonzero + D2H count + sync; dynamic [k, D]
                head(post(sel)).sum()
        torch.cuda.synchronize()

    return Recording(step, rows=MASK_B, kept_rows_per_input=kept)


def build_flags(on_device: bool) -> Recording:
    """12 layers, each followed by an early-exit check (never true)."""
    dev = _dev()
    torch.manual_seed(0)
    layers = [torch.nn.Linear(FLAG_D, FLAG_D).to(dev) for _ in range(FLAG_LAYERS)]
    x = torch.randn(FLAG_B, FLAG_D, device=dev)

    def step(i: int) -> None:
        with torch.no_grad():
            h = x
            flags = []
            for fc in layers:
                h = torch.relu(fc(h))
                exit_now = h.abs().amax() > 1e6
                if on_device:
                    flags.append(exit_now)
                elif exit_now.item():
                    break
            if on_device and torch.stack(flags).any().item():
                pass
        torch.cuda.synchronize()

    return Recording(step, layers=FLAG_LAYERS, item_calls=1 if on_device else FLAG_LAYERS)


class ChainBlock(torch.nn.Module):
    """x + scale * GELU(Linear(x)): 4 kernels at batch 1."""

    def __init__(self, d: int) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(d, d)
        self.act = torch.nn.GELU()
        self.scale = torch.nn.Parameter(torch.full((d,), 0.5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.act(self.fc(x)) * self.scale


def build_chain(mode: str) -> Recording:
    """The 80-kernel chain at batch 1: eager, CUDA graph replay, or torch.compile."""
    dev = _dev()
    torch.manual_seed(0)
    model = torch.nn.Sequential(*[ChainBlock(CHAIN_D) for _ in range(CHAIN_BLOCKS)]).to(dev).eval()
    static_in = torch.randn(1, CHAIN_D, device=dev)
    if mode == "eager":

        def step(i: int) -> None:
            with torch.no_grad():
                model(static_in)
            torch.cuda.synchronize()

        return Recording(step, mode=mode)
    if mode == "compile":
        cmodel = torch.compile(model, mode="default")
        t0 = time.perf_counter()
        with torch.no_grad():
            cmodel(static_in)
        torch.cuda.synchronize()
        compile_s = round(time.perf_counter() - t0, 2)

        def step(i: int) -> None:
            with torch.no_grad():
                cmodel(static_in)
            torch.cuda.synchronize()

        return Recording(step, mode=mode, first_call_s=compile_s)
    assert mode == "graph"
    g, static_out = recording.capture_graph(lambda: model(static_in))

    def gstep(i: int) -> None:
        g.replay()
        torch.cuda.synchronize()

    gstep.static_out = static_out  # type: ignore[attr-defined]  # keep alive
    return Recording(gstep, mode=mode)


def _precision(precision: str) -> None:
    tf32 = precision != "fp32_notf32"
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32


def build_conv(precision: str) -> Recording:
    """6 x (conv3x3 64->64, BN, ReLU), batch 32, 56x56, inference."""
    _precision(precision)
    torch.backends.cudnn.benchmark = True
    dev = _dev()
    torch.manual_seed(0)
    net = (
        torch.nn.Sequential(
            *[
                torch.nn.Sequential(
                    torch.nn.Conv2d(CONV_C, CONV_C, 3, padding=1, bias=False),
                    torch.nn.BatchNorm2d(CONV_C),
                    torch.nn.ReLU(inplace=True),
                )
                for _ in range(CONV_BLOCKS)
            ]
        )
        .to(dev)
        .eval()
    )
    x = torch.randn(CONV_B, CONV_C, CONV_HW, CONV_HW, device=dev)
    bf16 = precision == "bf16"

    def step(i: int) -> None:
        with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16, enabled=bf16):
            net(x)
        torch.cuda.synchronize()

    flops = 2 * CONV_B * CONV_C * CONV_HW * CONV_HW * CONV_C * 9 * CONV_BLOCKS
    return Recording(
        step,
        precision=precision,
        cudnn_allow_tf32=torch.backends.cudnn.allow_tf32,
        matmul_allow_tf32=torch.backends.cuda.matmul.allow_tf32,
        conv_flops_per_step=flops,
    )


def build_xformer(precision: str, compiled: bool = False) -> Recording:
    """One nn.TransformerEncoderLayer (d 1024, 16 heads, FF 4096), batch 8 x seq 512, inference;
    `compiled`: through torch.compile(mode="default"), compiled by a first call before the warm-up."""
    _precision(precision)
    if hasattr(torch.backends, "mha") and hasattr(torch.backends.mha, "set_fastpath_enabled"):
        torch.backends.mha.set_fastpath_enabled(False)  # same (non-fused) path in fp32 and autocast
    dev = _dev()
    torch.manual_seed(0)
    layer = (
        torch.nn.TransformerEncoderLayer(XF_D, XF_HEADS, XF_FF, dropout=0.0, batch_first=True).to(dev).eval()
    )
    x = torch.randn(XF_B, XF_SEQ, XF_D, device=dev)
    bf16 = precision == "bf16"
    run = torch.compile(layer, mode="default") if compiled else layer

    def step(i: int) -> None:
        with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16, enabled=bf16):
            run(x)
        torch.cuda.synchronize()

    t0 = time.perf_counter()
    step(0)
    first_call_s = round(time.perf_counter() - t0, 2)

    tokens = XF_B * XF_SEQ
    flops = 2 * tokens * (4 * XF_D * XF_D + 2 * XF_D * XF_FF) + 4 * XF_B * XF_SEQ * XF_SEQ * XF_D
    return Recording(
        step,
        precision=precision,
        cudnn_allow_tf32=torch.backends.cudnn.allow_tf32,
        matmul_allow_tf32=torch.backends.cuda.matmul.allow_tf32,
        mha_fastpath=False,
        gemm_attention_flops_per_step=flops,
        compiled=compiled,
        first_call_s=first_call_s,
    )


def build_preprocess(parallel: bool | None) -> Recording:
    """~3 ms numpy sort per step, 16 KiB pageable H2D, ~1 ms of GPU matmuls, sync."""
    torch.backends.cuda.matmul.allow_tf32 = False
    dev = _dev()
    rng = np.random.default_rng(0)
    base = rng.standard_normal(SORT_N)
    idx = np.linspace(0, SORT_N - 1, FEAT_NUMEL).astype(np.int64)
    side = 64 * PREP_REPEAT
    w = torch.from_numpy(rng.standard_normal((side, side)).astype(np.float32)).to(dev) / math.sqrt(side)

    def prep(i: int) -> np.ndarray:
        with torch.profiler.record_function("preprocess"):
            srt = np.sort(base)
            return srt[idx].astype(np.float32)

    def gpu_part(a: np.ndarray) -> None:
        v = torch.from_numpy(a).to("cuda")  # 16 KiB pageable H2D
        m = v.view(64, 64).repeat(PREP_REPEAT, PREP_REPEAT)
        _matmul_chain(m, w, PREP_MATMULS)
        torch.cuda.synchronize()

    ts = []
    for _ in range(11):
        t0 = time.perf_counter()
        np.sort(base)
        ts.append(time.perf_counter() - t0)
    sort_ms = round(statistics.median(ts) * 1e3, 4)
    a0 = prep(0)
    gpu_ms = _event_ms(
        lambda: _matmul_chain(
            torch.from_numpy(a0).to(dev).view(64, 64).repeat(PREP_REPEAT, PREP_REPEAT), w, PREP_MATMULS
        )
    )
    notes = {"sort_n": SORT_N, "sort_ms_unprofiled": sort_ms, "gpu_part_event_ms": gpu_ms}

    if parallel is None:  # build_preprocess_workers reuses the GPU part
        return Recording(gpu_part, gpu_part=gpu_part, **notes)
    if not parallel:

        def step(i: int) -> None:
            gpu_part(prep(i))

        return Recording(step, mode="serial", **notes)

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    state = {"next": pool.submit(prep, 0)}

    def pstep(i: int) -> None:
        a = state["next"].result()
        state["next"] = pool.submit(prep, i + 1)  # overlaps this step's GPU part
        gpu_part(a)

    return Recording(pstep, mode="background thread (ThreadPoolExecutor, 1 worker)", **notes)


_PREP: dict[str, np.ndarray] = {}


def _prep_init() -> None:
    """A worker process's copy of the preprocessing input (the same as build_preprocess's)."""
    rng = np.random.default_rng(0)
    _PREP["base"] = rng.standard_normal(SORT_N)
    _PREP["idx"] = np.linspace(0, SORT_N - 1, FEAT_NUMEL).astype(np.int64)


def _prep_task(i: int) -> np.ndarray:
    return np.sort(_PREP["base"])[_PREP["idx"]].astype(np.float32)


def build_preprocess_workers() -> Recording:
    """build_preprocess's step with the preprocessing in PREP_WORKERS spawned processes, prefetched."""
    import collections
    import multiprocessing

    serial = build_preprocess(None)  # the same GPU part and weights
    gpu_part = serial.notes.pop("gpu_part")
    pool = concurrent.futures.ProcessPoolExecutor(
        PREP_WORKERS, mp_context=multiprocessing.get_context("spawn"), initializer=_prep_init
    )
    ahead = collections.deque(pool.submit(_prep_task, k) for k in range(PREP_WORKERS))

    def step(i: int) -> None:
        a = ahead.popleft().result()
        ahead.append(pool.submit(_prep_task, i + PREP_WORKERS))
        gpu_part(a)

    return Recording(step, mode=f"{PREP_WORKERS} worker processes, prefetched", **serial.notes)


def _forward_ms(model: torch.nn.Module, x: torch.Tensor) -> float:
    """Device time of one forward, without the host: a CUDA graph of it, replayed (CUDA events)."""
    graph = torch.cuda.CUDAGraph()
    with torch.no_grad():
        model(x)
        torch.cuda.synchronize()
        with torch.cuda.graph(graph):
            model(x)
    return _event_ms(graph.replay, reps=20)


def _host_ms(model: torch.nn.Module, x: torch.Tensor) -> float:
    """Wall time of an eager forward and synchronize at a batch whose device time is negligible."""
    ts = []
    with torch.no_grad():
        for k in range(30):
            t0 = time.perf_counter()
            model(x)
            torch.cuda.synchronize()
            if k >= 10:
                ts.append(time.perf_counter() - t0)
    return statistics.median(ts) * 1e3


def batch_knee_choice() -> dict[str, Any]:
    """N: the smallest candidate whose 2N forward takes the device KNEE_MARGIN x the host time of a
    forward (so batch 2N fills the device even with the profiler's host overhead)."""
    model = _mlp(KNEE_D, KNEE_LAYERS)
    host = _host_ms(model, torch.randn(8, KNEE_D, device=_dev()))
    device = {b: _forward_ms(model, torch.randn(b, KNEE_D, device=_dev())) for b in KNEE_CANDIDATES}
    n = next((b for b in KNEE_CANDIDATES[:-1] if device[2 * b] >= KNEE_MARGIN * host), KNEE_CANDIDATES[-2])
    return {"n": n, "host_ms": round(host, 4), "device_ms": {str(b): t for b, t in device.items()}}


def build_batch_knee(double: bool) -> Recording:
    """fp32 MLP inference on a device-resident batch of N (or 2N), N from batch_knee_choice (chosen
    once, by the N recording, and read back by the 2N one from the work folder)."""
    path = os.path.join(_WORKDIR["dir"], "batch_knee_choice.json")
    if not double or not os.path.exists(path):
        with open(path, "w") as f:
            json.dump(batch_knee_choice(), f, indent=1)
    with open(path) as f:
        choice = json.load(f)
    batch = choice["n"] * (2 if double else 1)
    model = _mlp(KNEE_D, KNEE_LAYERS)
    x = torch.randn(batch, KNEE_D, device=_dev())

    def step(i: int) -> None:
        with torch.no_grad():
            model(x)
        torch.cuda.synchronize()

    return Recording(step, samples_per_step=batch, batch=batch, knee=choice)


def _mlp(d: int, layers: int) -> torch.nn.Module:
    torch.manual_seed(0)
    mods: list[torch.nn.Module] = []
    for _ in range(layers):
        mods += [torch.nn.Linear(d, d), torch.nn.ReLU()]
    return torch.nn.Sequential(*mods).to(_dev()).eval()


def build_batch(batch: int) -> Recording:
    """MLP inference at a given batch: pinned H2D of the batch, 4 x Linear(2048)+ReLU, sync."""
    model = _mlp(BATCH_D, BATCH_LAYERS)
    host = torch.randn(batch, BATCH_D).pin_memory()

    def step(i: int) -> None:
        with torch.no_grad():
            model(host.to("cuda", non_blocking=True))
        torch.cuda.synchronize()

    return Recording(step, samples_per_step=batch, batch=batch)


def build_instances(n: int) -> Recording:
    """n host threads, each with its own stream and input, run one MLP inference per step."""
    model = _mlp(INST_D, INST_LAYERS)
    streams = [torch.cuda.Stream() for _ in range(n)]
    xs = [torch.randn(INST_B, INST_D, device=_dev()) for _ in range(n)]
    torch.cuda.synchronize()
    todo: list[queue.Queue] = [queue.Queue() for _ in range(n)]
    done: list[queue.Queue] = [queue.Queue() for _ in range(n)]

    def worker(k: int) -> None:  # instance k: its own host thread, stream and input
        s = streams[k]
        while todo[k].get() is not None:
            with torch.no_grad(), torch.cuda.stream(s):
                model(xs[k])
            s.synchronize()
            done[k].put(True)

    for k in range(n):
        threading.Thread(target=worker, args=(k,), daemon=True, name=f"instance{k}").start()

    def step(i: int) -> None:
        for q in todo:
            q.put(i)
        for q in done:
            q.get()

    return Recording(
        step, samples_per_step=n * INST_B, instances=n, batch_per_instance=INST_B, threads=n, streams=n
    )


def build_h2d(batched: bool) -> Recording:
    """record_h2d_trace.py's workload: 28 small H2D copies (or one batched), cat, MLP, .cpu().item()."""
    dev = _dev()
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(H2D_FEAT, 64), torch.nn.ReLU(), torch.nn.Linear(64, 8)).to(
        dev
    )
    sizes = [k * 256 for k in recording.H2D_PAGEABLE_KIB + recording.H2D_PINNED_KIB]
    if batched:
        host_buf = torch.arange(sum(sizes), dtype=torch.float32).remainder_(7.0).pin_memory()
    else:
        pageable = [
            torch.full((k * 256,), float(i % 5), dtype=torch.float32)
            for i, k in enumerate(recording.H2D_PAGEABLE_KIB)
        ]
        pinned = [
            torch.full((k * 256,), float(i % 3), dtype=torch.float32).pin_memory()
            for i, k in enumerate(recording.H2D_PINNED_KIB)
        ]

    def step(i: int) -> float:
        with torch.no_grad():
            if batched:
                parts = list(host_buf.to("cuda", non_blocking=True).split(sizes))
            else:
                parts = [t.to("cuda") for t in pageable]
                parts += [t.to("cuda", non_blocking=True) for t in pinned]
            y = model(torch.cat(parts).view(-1, H2D_FEAT))
            return y.sum().cpu().item()  # 1 D2H (syncs)

    return Recording(step, h2d_bytes=sum(sizes) * 4)


BUILDERS: dict[str, Callable[[], Recording]] = {
    "pageable_32mib": lambda: build_copy_size(False, 1, BIG_COPY_BYTES),
    "pinned_32mib": lambda: build_copy_size(True, 1, BIG_COPY_BYTES),
    "pageable_small": lambda: build_copy_size(False, SMALL_COPIES, SMALL_COPY_BYTES),
    "pinned_small": lambda: build_copy_size(True, SMALL_COPIES, SMALL_COPY_BYTES),
    "copy_serial": lambda: build_copy_overlap(False),
    "copy_overlapped": lambda: build_copy_overlap(True),
    "copy_serial_bf16": lambda: build_copy_overlap(False, bf16=True),
    "copy_overlapped_bf16": lambda: build_copy_overlap(True, bf16=True),
    "preprocess_workers": build_preprocess_workers,
    "batch_knee_n": lambda: build_batch_knee(False),
    "batch_knee_2n": lambda: build_batch_knee(True),
    "mask_boolean": lambda: build_mask(False),
    "mask_static": lambda: build_mask(True),
    "item_loop": lambda: build_flags(False),
    "device_flag": lambda: build_flags(True),
    "chain80_eager": lambda: build_chain("eager"),
    "chain80_graph": lambda: build_chain("graph"),
    "chain80_compile": lambda: build_chain("compile"),
    "conv_fp32_tf32": lambda: build_conv("fp32_tf32"),
    "conv_fp32_notf32": lambda: build_conv("fp32_notf32"),
    "conv_bf16": lambda: build_conv("bf16"),
    "xformer_fp32_tf32": lambda: build_xformer("fp32_tf32"),
    "xformer_fp32_notf32": lambda: build_xformer("fp32_notf32"),
    "xformer_bf16": lambda: build_xformer("bf16"),
    "xformer_bf16_compile": lambda: build_xformer("bf16", compiled=True),
    "preprocess_serial": lambda: build_preprocess(False),
    "preprocess_parallel": lambda: build_preprocess(True),
    "batch_16": lambda: build_batch(16),
    "batch_32": lambda: build_batch(32),
    "batch_64": lambda: build_batch(64),
    **{f"batch_{n}": (lambda n=n: build_batch(n)) for n in (128, 256, 512, 1024, 2048)},
    "instances_1": lambda: build_instances(1),
    "instances_2": lambda: build_instances(2),
    "h2d_separate": lambda: build_h2d(False),
    "h2d_batched": lambda: build_h2d(True),
}


# ------------------------------------------------------------------------------------ recording


def record(name: str, workdir: str) -> str:
    """Record one trace and its un-profiled timing (in this process); return the JSON path."""
    assert torch.cuda.is_available(), "needs a CUDA GPU"
    torch.backends.cuda.matmul.allow_tf32 = False  # the defaults, stated
    torch.backends.cudnn.allow_tf32 = True
    torch.backends.cudnn.benchmark = False
    _WORKDIR["dir"] = workdir
    rec = BUILDERS[base_name(name)]()
    step = rec.step

    recording.warm_up(step)
    raw = os.path.join(workdir, f"{name}.pt.trace.json")
    t0 = time.perf_counter()
    recording.profile_steps(step, raw, recording.WARMUP_ITERS, record_shapes=True)
    profiled_s = time.perf_counter() - t0
    gz = recording.gzip_file(raw)

    # un-profiled, same process, after the profiled part
    k0 = recording.WARMUP_ITERS + recording.WAIT + recording.WARMUP + recording.ACTIVE
    for i in range(UNPROFILED_WARM):
        step(k0 + i)
    torch.cuda.synchronize()
    k0 += UNPROFILED_WARM
    ts_ns = []
    for i in range(UNPROFILED_ITERS):
        t_a = time.perf_counter_ns()
        step(k0 + i)  # every step ends with a synchronize (or .item())
        ts_ns.append(time.perf_counter_ns() - t_a)
    dec = statistics.quantiles(ts_ns, n=10)
    med = statistics.median(ts_ns)
    out = {
        "name": name,
        "workload": base_name(name),
        "trace": os.path.basename(gz),
        "unprofiled": {
            "iters": UNPROFILED_ITERS,
            "median_ns": round(med),
            "p10_ns": round(dec[0]),
            "p90_ns": round(dec[8]),
            "mean_ns": round(statistics.fmean(ts_ns)),
            "min_ns": min(ts_ns),
            "max_ns": max(ts_ns),
            "samples_ns": ts_ns,
        },
        "samples_per_step": rec.samples_per_step,
        "per_s": rec.samples_per_step / (med * 1e-9),
        "steps_per_s": 1.0 / (med * 1e-9),
        "profiled_block_s": round(profiled_s, 4),
        "notes": rec.notes,
        "settings": {
            "matmul_allow_tf32": torch.backends.cuda.matmul.allow_tf32,
            "cudnn_allow_tf32": torch.backends.cudnn.allow_tf32,
            "cudnn_benchmark": torch.backends.cudnn.benchmark,
        },
    }
    path = os.path.join(workdir, f"{name}.recording.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
    print(
        f"{name}: unprofiled median {med / 1e6:.4f} ms (p10 {dec[0] / 1e6:.4f}, p90 {dec[8] / 1e6:.4f}); "
        f"notes {json.dumps(rec.notes)}",
        flush=True,
    )
    return path


# ------------------------------------------------------------------------------------ verification
# (plain json/gzip only from here on)

SYNC_CALLS = ("cudaStreamSynchronize", "cudaDeviceSynchronize", "cudaEventSynchronize")
KERNEL_LAUNCHES = ("cudaLaunchKernel", "cudaLaunchKernelExC", "cuLaunchKernel", "cuLaunchKernelEx")
GEMM_OPS = {
    "aten::mm",
    "aten::addmm",
    "aten::bmm",
    "aten::baddbmm",
    "aten::matmul",
    "aten::linear",
    "aten::scaled_dot_product_attention",
    "aten::_scaled_dot_product_efficient_attention",
    "aten::_scaled_dot_product_flash_attention",
    "aten::_scaled_dot_product_cudnn_attention",
}


ns = recording.ns


def _dtype_class(t: str) -> str:
    if "BFloat16" in t:
        return "bf16"
    if "Half" in t:
        return "fp16"
    if t == "float":
        return "fp32"
    return t or "none"


def analyze(path: str) -> dict[str, Any]:
    """Parse one trace with plain json; return per-step counts and a few distributions."""
    text, doc = recording.load_trace(path)
    ev: list[dict[str, Any]] = doc["traceEvents"]
    steps = recording.cpu_steps(ev)

    def step_of(t: float) -> int | None:
        return recording.step_index(steps, t)

    corr = recording.launches(ev)

    per = [
        {
            "rt": Counter(),
            "ops": Counter(),
            "ann": Counter(),
            "ann_tids": set(),
            "kernels": [],
            "k_iv": [],
            "c_iv": [],
            "all_iv": [],
            "k_streams": set(),
            "c_streams": set(),
            "launch_tids": set(),
            "h2d_pageable": [],
            "h2d_pinned": [],
            "d2h": [],
            "d2d": [],
            "memset": 0,
            "dtypes": Counter(),
            "gemm_shapes": set(),
        }
        for _ in steps
    ]
    outside: Counter = Counter()
    for e in ev:
        if e.get("ph") != "X":
            continue
        cat = e.get("cat")
        args = e.get("args", {}) or {}
        if cat in recording.RUNTIME_CATS:
            k = step_of(float(e["ts"]))
            if k is None:
                outside[f"rt:{e['name']}"] += 1
                continue
            per[k]["rt"][e["name"]] += 1
            if e["name"] in (*KERNEL_LAUNCHES, "cudaGraphLaunch", "cudaMemcpyAsync"):
                per[k]["launch_tids"].add(e.get("tid"))
            continue
        if cat == "cpu_op":
            k = step_of(float(e["ts"]))
            if k is None:
                outside[f"cpu_op:{e['name']}"] += 1
                continue
            d = per[k]
            d["ops"][e["name"]] += 1
            types = args.get("Input type") or []
            t0 = _dtype_class(types[0]) if types else "none"
            if e["name"] in GEMM_OPS:
                d["dtypes"][f"gemm_{t0}"] += 1
                d["dtypes"][f"{e['name']} {t0}"] += 1
                dims = args.get("Input Dims")
                if dims and e["name"] in ("aten::linear", "aten::addmm", "aten::mm"):
                    d["gemm_shapes"].add(json.dumps(dims[:2]))
            elif e["name"].startswith("aten::") and "conv" in e["name"]:
                d["dtypes"][f"conv_{t0}"] += 1
                d["dtypes"][f"{e['name']} {t0}"] += 1
            continue
        if cat == "user_annotation" and not str(e.get("name", "")).startswith("ProfilerStep#"):
            k = step_of(float(e["ts"]))
            if k is not None:
                per[k]["ann"][e["name"]] += 1
                if e["name"] == "preprocess":
                    per[k]["ann_tids"].add(e.get("tid"))
            else:
                outside[f"annotation:{e['name']}"] += 1
            continue
        if cat not in recording.GPU_CATS:
            continue
        launch = recording.launch_of(e, corr)
        k = step_of(float(launch["ts"])) if launch is not None else None
        if k is None:
            outside[f"{cat}:{e['name'][:60]}"] += 1
            continue
        d = per[k]
        iv = (ns(e["ts"]), ns(e["ts"]) + ns(e["dur"]))
        d["all_iv"].append(iv)
        if cat == "kernel":
            d["kernels"].append((float(e["ts"]), e["name"]))
            d["k_iv"].append(iv)
            d["k_streams"].add(args.get("stream"))
        elif cat == "gpu_memset":
            d["memset"] += 1
        else:
            nm = e["name"]
            b = int(args.get("bytes", 0))
            if "HtoD" in nm:
                d["h2d_pinned" if "Pinned" in nm else "h2d_pageable"].append(b)
                d["c_iv"].append(iv)
                d["c_streams"].add(args.get("stream"))
            elif "DtoH" in nm:
                d["d2h"].append(b)
            else:
                d["d2d"].append(b)

    rows: list[dict[str, Any]] = []
    for (sname, _, _, dur), d in zip(steps, per, strict=True):
        rt = d["rt"]
        kmerged, cmerged = recording.merge(d["k_iv"]), recording.merge(d["c_iv"])
        row: dict[str, Any] = {
            "step": sname,
            "profiled_step_ns": dur,
            "gpu_busy_ns": recording.covered(recording.merge(d["all_iv"])),
            "kernel_sum_ns": sum(b - a for a, b in d["k_iv"]),
            "copy_kernel_overlap_ns": recording.overlap(cmerged, kmerged),
            "kernels": len(d["kernels"]),
            "h2d_pageable": len(d["h2d_pageable"]),
            "h2d_pageable_bytes": sum(d["h2d_pageable"]),
            "h2d_pinned": len(d["h2d_pinned"]),
            "h2d_pinned_bytes": sum(d["h2d_pinned"]),
            "d2h": len(d["d2h"]),
            "d2h_bytes": sum(d["d2h"]),
            "d2d": len(d["d2d"]),
            "memset": d["memset"],
            "kernel_launch_calls": sum(rt[n] for n in KERNEL_LAUNCHES),
            "cudaLaunchKernel": rt["cudaLaunchKernel"] + rt["cudaLaunchKernelExC"],
            "cuLaunchKernel": rt["cuLaunchKernel"] + rt["cuLaunchKernelEx"],
            "cudaGraphLaunch": rt["cudaGraphLaunch"],
            "cudaMemcpyAsync": rt["cudaMemcpyAsync"],
            "sync_calls": sum(rt[n] for n in SYNC_CALLS),
            "cudaStreamSynchronize": rt["cudaStreamSynchronize"],
            "cudaDeviceSynchronize": rt["cudaDeviceSynchronize"],
            "cudaEventSynchronize": rt["cudaEventSynchronize"],
            "cudaStreamWaitEvent": rt["cudaStreamWaitEvent"],
            "cudaEventRecord": rt["cudaEventRecord"],
            "runtime_calls": sum(rt.values()),
            "cpu_ops": sum(d["ops"].values()),
            "nonzero": d["ops"]["aten::nonzero"],
            "item": d["ops"]["aten::item"],
            "local_scalar_dense": d["ops"]["aten::_local_scalar_dense"],
            "preprocess": d["ann"]["preprocess"],
            "kernel_streams": len(d["k_streams"]),
            "copy_streams": len(d["c_streams"]),
            "copy_on_kernel_stream": int(bool(d["c_streams"]) and d["c_streams"] <= d["k_streams"]),
            "launch_threads": len(d["launch_tids"]),
            "preprocess_threads": len(d["ann_tids"]),
            "gemm_fp32": d["dtypes"]["gemm_fp32"],
            "gemm_bf16": d["dtypes"]["gemm_bf16"],
            "conv_fp32": d["dtypes"]["conv_fp32"],
            "conv_bf16": d["dtypes"]["conv_bf16"],
        }
        row["_kernel_names"] = [n for _, n in sorted(d["kernels"])]
        row["_dtypes"] = dict(sorted(d["dtypes"].items()))
        row["_runtime"] = dict(sorted(rt.items()))
        row["_gemm_shapes"] = sorted(d["gemm_shapes"])
        rows.append(row)

    header = {k: doc.get(k) for k in recording.VERSION_KEYS}
    distinct_shapes = len({s for r in rows for s in r["_gemm_shapes"]})
    return {
        "file": os.path.basename(path),
        "gz_bytes": os.path.getsize(path),
        "json_bytes": len(text),
        "events": len(ev),
        "cats": dict(Counter(e.get("cat", "<none>") for e in ev)),
        "header": header,
        "n_steps": len(steps),
        "rows": rows,
        "outside": dict(outside),
        "distinct_gemm_shapes": distinct_shapes,
    }


COUNT_KEYS = [
    "kernels",
    "h2d_pageable",
    "h2d_pageable_bytes",
    "h2d_pinned",
    "h2d_pinned_bytes",
    "d2h",
    "d2h_bytes",
    "d2d",
    "memset",
    "kernel_launch_calls",
    "cudaLaunchKernel",
    "cuLaunchKernel",
    "cudaGraphLaunch",
    "cudaMemcpyAsync",
    "sync_calls",
    "cudaStreamSynchronize",
    "cudaDeviceSynchronize",
    "cudaEventSynchronize",
    "cudaStreamWaitEvent",
    "cudaEventRecord",
    "runtime_calls",
    "cpu_ops",
    "nonzero",
    "item",
    "local_scalar_dense",
    "preprocess",
    "kernel_streams",
    "copy_streams",
    "copy_on_kernel_stream",
    "launch_threads",
    "preprocess_threads",
    "gemm_fp32",
    "gemm_bf16",
    "conv_fp32",
    "conv_bf16",
]
TIME_KEYS = ["profiled_step_ns", "gpu_busy_ns", "kernel_sum_ns", "copy_kernel_overlap_ns"]


def per_step_truth(a: dict[str, Any]) -> dict[str, Any]:
    """Counts per step: the value when all steps agree, else the median (listed in not_uniform)."""
    rows = a["rows"]
    out: dict[str, Any] = {"steps": a["n_steps"]}
    not_uniform = []
    for k in COUNT_KEYS:
        vals = [r[k] for r in rows]
        if len(set(vals)) == 1:
            out[k] = vals[0]
        else:
            out[k] = statistics.median(vals)
            not_uniform.append(k)
    out["not_uniform"] = not_uniform
    for k in TIME_KEYS:
        out[f"median_{k}"] = statistics.median([r[k] for r in rows]) if rows else 0
    out["same_kernel_sequence_all_steps"] = len({json.dumps(r["_kernel_names"]) for r in rows}) == 1
    out["distinct_gemm_input_shapes"] = a["distinct_gemm_shapes"]
    if rows:
        out["gemm_conv_input_dtypes"] = rows[0]["_dtypes"]
    return out


# (metric, op, value); the metric must hold in every one of the 10 steps
Check = tuple[str, str, int]
CHECKS: dict[str, list[Check]] = {
    "pageable_32mib": [
        ("h2d_pageable", "==", 1),
        ("h2d_pageable_bytes", "==", BIG_COPY_BYTES),
        ("h2d_pinned", "==", 0),
        ("d2h", "==", 0),
    ],
    "pinned_32mib": [
        ("h2d_pinned", "==", 1),
        ("h2d_pinned_bytes", "==", BIG_COPY_BYTES),
        ("h2d_pageable", "==", 0),
        ("d2h", "==", 0),
    ],
    "pageable_small": [
        ("h2d_pageable", "==", SMALL_COPIES),
        ("h2d_pageable_bytes", "==", SMALL_COPIES * SMALL_COPY_BYTES),
        ("h2d_pinned", "==", 0),
    ],
    "pinned_small": [
        ("h2d_pinned", "==", SMALL_COPIES),
        ("h2d_pinned_bytes", "==", SMALL_COPIES * SMALL_COPY_BYTES),
        ("h2d_pageable", "==", 0),
    ],
    "copy_serial": [
        ("h2d_pinned", "==", 1),
        ("h2d_pinned_bytes", "==", COPY_SIDE * COPY_SIDE * 4),
        ("h2d_pageable", "==", 0),
        ("copy_on_kernel_stream", "==", 1),
        ("kernel_streams", "==", 1),
        ("copy_kernel_overlap_ns", "==", 0),
    ],
    "copy_overlapped": [
        ("h2d_pinned", "==", 1),
        ("h2d_pinned_bytes", "==", COPY_SIDE * COPY_SIDE * 4),
        ("h2d_pageable", "==", 0),
        ("copy_on_kernel_stream", "==", 0),
        ("kernel_streams", "==", 1),
        ("copy_kernel_overlap_ns", ">", 0),
    ],
    "mask_boolean": [("nonzero", "==", 1), ("d2h", ">=", 1), ("cudaStreamSynchronize", ">=", 1)],
    "mask_static": [("nonzero", "==", 0), ("d2h", "==", 0), ("cudaStreamSynchronize", "==", 0)],
    "item_loop": [
        ("item", "==", FLAG_LAYERS),
        ("d2h", "==", FLAG_LAYERS),
        ("cudaStreamSynchronize", "==", FLAG_LAYERS),
    ],
    "device_flag": [("item", "==", 1), ("d2h", "==", 1), ("cudaStreamSynchronize", "==", 1)],
    "chain80_eager": [
        ("kernels", "==", 4 * CHAIN_BLOCKS),
        ("cudaLaunchKernel", "==", 4 * CHAIN_BLOCKS),
        ("cudaGraphLaunch", "==", 0),
    ],
    "chain80_graph": [
        ("kernels", "==", 4 * CHAIN_BLOCKS),
        ("cudaGraphLaunch", "==", 1),
        ("kernel_launch_calls", "==", 0),
    ],
    "chain80_compile": [
        ("kernels", "<", 4 * CHAIN_BLOCKS),
        ("kernels", ">", 0),
        ("cudaGraphLaunch", "==", 0),
    ],
    "conv_fp32_tf32": [("conv_fp32", ">=", CONV_BLOCKS), ("conv_bf16", "==", 0), ("gemm_bf16", "==", 0)],
    "conv_fp32_notf32": [("conv_fp32", ">=", CONV_BLOCKS), ("conv_bf16", "==", 0), ("gemm_bf16", "==", 0)],
    "conv_bf16": [("conv_bf16", ">=", CONV_BLOCKS)],
    "xformer_fp32_tf32": [("gemm_fp32", ">=", 4), ("gemm_bf16", "==", 0)],
    "xformer_fp32_notf32": [("gemm_fp32", ">=", 4), ("gemm_bf16", "==", 0)],
    "xformer_bf16": [("gemm_bf16", ">=", 4)],
    "xformer_bf16_compile": [("kernels", ">", 0)],
    "preprocess_serial": [
        ("preprocess", "==", 1),
        ("h2d_pageable", "==", 1),
        ("h2d_pageable_bytes", "==", FEAT_NUMEL * 4),
    ],
    "preprocess_parallel": [("h2d_pageable", "==", 1), ("h2d_pageable_bytes", "==", FEAT_NUMEL * 4)],
    "preprocess_workers": [("preprocess", "==", 0), ("h2d_pageable", "==", 1)],
    "copy_serial_bf16": [
        ("h2d_pinned", "==", 1),
        ("h2d_pinned_bytes", "==", COPY_SIDE * COPY_SIDE * 4),
        ("copy_on_kernel_stream", "==", 1),
        ("copy_kernel_overlap_ns", "==", 0),
    ],
    "copy_overlapped_bf16": [
        ("h2d_pinned", "==", 1),
        ("h2d_pinned_bytes", "==", COPY_SIDE * COPY_SIDE * 4),
        ("copy_on_kernel_stream", "==", 0),
        ("copy_kernel_overlap_ns", ">", 0),
    ],
    "batch_knee_n": [("d2h", "==", 0)],
    "batch_knee_2n": [("d2h", "==", 0)],
    "batch_16": [("h2d_pinned", "==", 1), ("h2d_pinned_bytes", "==", 16 * BATCH_D * 4)],
    "batch_32": [("h2d_pinned", "==", 1), ("h2d_pinned_bytes", "==", 32 * BATCH_D * 4)],
    **{
        f"batch_{n}": [("h2d_pinned", "==", 1), ("h2d_pinned_bytes", "==", n * BATCH_D * 4)]
        for n in (64, 128, 256, 512, 1024, 2048)
    },
    "instances_1": [("kernel_streams", "==", 1), ("launch_threads", "==", 1)],
    "instances_2": [("kernel_streams", "==", 2), ("launch_threads", "==", 2)],
    "h2d_separate": [
        ("h2d_pageable", "==", len(recording.H2D_PAGEABLE_KIB)),
        ("h2d_pageable_bytes", "==", sum(recording.H2D_PAGEABLE_KIB) * 1024),
        ("h2d_pinned", "==", len(recording.H2D_PINNED_KIB)),
        ("h2d_pinned_bytes", "==", sum(recording.H2D_PINNED_KIB) * 1024),
        ("d2h", "==", 1),
    ],
    "h2d_batched": [
        ("h2d_pageable", "==", 0),
        ("h2d_pinned", "==", 1),
        ("h2d_pinned_bytes", "==", (sum(recording.H2D_PAGEABLE_KIB) + sum(recording.H2D_PINNED_KIB)) * 1024),
        ("d2h", "==", 1),
    ],
}
COMMON_CHECKS: list[Check] = [("kernels", ">", 0)]

OPS: dict[str, Callable[[float, float], bool]] = {
    "==": lambda a, b: a == b,
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
}


def run_checks(name: str, a: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Return (passed, failed) check descriptions for one recording's trace."""
    passed, failed = [], []
    if a["n_steps"] != recording.ACTIVE:
        failed.append(f"steps == {recording.ACTIVE} (got {a['n_steps']})")
    else:
        passed.append(f"steps == {recording.ACTIVE}")
    gpu_outside = {
        k: v for k, v in a["outside"].items() if not k.startswith(("rt:", "cpu_op:", "annotation:"))
    }
    if gpu_outside:
        failed.append(f"no GPU activity outside the steps (got {gpu_outside})")
    for metric, op, val in COMMON_CHECKS + CHECKS[base_name(name)]:
        vals = [r[metric] for r in a["rows"]]
        ok = bool(vals) and all(OPS[op](v, val) for v in vals)
        desc = f"{metric} {op} {val} in every step"
        if ok:
            passed.append(desc)
        else:
            failed.append(f"{desc} (got {vals})")
    return passed, failed


def pair_checks(
    pair: dict[str, str], tb: dict[str, Any], ta: dict[str, Any], ab: Any, aa: Any
) -> tuple[list[str], list[str]]:
    """Cross checks between the two sides of a pair."""
    passed, failed = [], []

    def chk(desc: str, ok: bool, got: str) -> None:
        (passed if ok else failed).append(desc if ok else f"{desc} (got {got})")

    if pair["id"] == "graph-launch":
        kb = ab["rows"][0]["_kernel_names"]
        ka = aa["rows"][0]["_kernel_names"]
        chk(
            "same kernel-name multiset per step (eager vs graph)",
            Counter(kb) == Counter(ka),
            f"{len(kb)} vs {len(ka)}",
        )
        chk("same ordered kernel names per step (eager vs graph)", kb == ka, "order differs")
    if pair["id"].startswith("bigger-batch") and pair["id"] != "bigger-batch-knee":  # other GEMMs, split-K
        chk("same CPU ops per step", tb["cpu_ops"] == ta["cpu_ops"], f"{tb['cpu_ops']} vs {ta['cpu_ops']}")
        chk(
            "same GEMM ops per step",
            tb["gemm_fp32"] == ta["gemm_fp32"],
            f"{tb['gemm_fp32']} vs {ta['gemm_fp32']}",
        )
    if pair["id"] == "more-instances":
        chk(
            "2 x the kernels per step",
            ta["kernels"] == 2 * tb["kernels"],
            f"{tb['kernels']} vs {ta['kernels']}",
        )
    if pair["id"] in (
        "overlap-copies",
        "overlap-copies-bf16",
        "h2d-batch",
        "pin-memory-32mib",
        "pin-memory-small",
    ):
        hb = tb["h2d_pageable_bytes"] + tb["h2d_pinned_bytes"]
        ha = ta["h2d_pageable_bytes"] + ta["h2d_pinned_bytes"]
        chk("same H2D bytes per step", hb == ha, f"{hb} vs {ha}")
    if pair["id"].startswith("mixed-precision"):
        chk("same kernels per step or more in bf16 (casts)", ta["kernels"] >= 1, str(ta["kernels"]))
    return passed, failed


# ------------------------------------------------------------------------------------ TOML output


def _key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else json.dumps(k)


def _val(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(v)
        if v == int(v) and abs(v) < 1e15:
            return f"{v:.1f}"
        return repr(round(v, 6))
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_val(x) for x in v) + "]"
    if v is None:
        return '""'
    raise TypeError(type(v))


def _table(lines: list[str], header: str, d: dict[str, Any], array: bool = False) -> None:
    lines.append(f"[[{header}]]" if array else f"[{header}]")
    subs = []
    for k, v in d.items():
        if isinstance(v, dict):
            subs.append((k, v))
        else:
            lines.append(f"{_key(k)} = {_val(v)}")
    for k, v in subs:
        lines.append("")
        _table(lines, f"{header}.{_key(k)}", v)


def to_toml(doc: dict[str, Any], comment: str) -> str:
    lines = [f"# {ln}" if ln else "#" for ln in comment.splitlines()]
    lines.append("")
    for k, v in doc.items():
        if isinstance(v, list):
            for item in v:
                _table(lines, k, item, array=True)
                lines.append("")
        else:
            _table(lines, k, v)
            lines.append("")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------ parent


def _sha256(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def env_info() -> dict[str, Any]:
    smi = recording.nvidia_smi("name,driver_version,clocks.max.sm,memory.total")
    parts = [p.strip() for p in smi.split(",")]
    props = torch.cuda.get_device_properties(0)
    return {
        "gpu": torch.cuda.get_device_name(0),
        "compute_capability": ".".join(map(str, torch.cuda.get_device_capability(0))),
        "sm_count": props.multi_processor_count,
        "driver": parts[1] if len(parts) > 1 else "",
        "nvidia_smi": smi,
        "torch": torch.__version__,
        "cuda": str(torch.version.cuda),
        "cudnn": int(torch.backends.cudnn.version() or 0),
        "numpy": np.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count() or 0,
        "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
    }


def run_children(names: list[str], workdir: str, log: list[str]) -> dict[str, str]:
    """Record each name in a fresh process; return {name: status}."""
    status: dict[str, str] = {}
    t_start = time.monotonic()
    for name in names:
        limit = COMPILE_TIMEOUT_S if name in OPTIONAL else CHILD_TIMEOUT_S
        if time.monotonic() - t_start + limit > RUN_BUDGET_S:
            status[name] = "not run (time budget)"
            log.append(f"== {name}: NOT RUN (it could end past {RUN_BUDGET_S} s)")
            continue
        t0 = time.monotonic()
        try:
            r = subprocess.run(
                recording.one_recording(__file__, name, workdir),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=limit,
            )
            rc, out = r.returncode, r.stdout
        except subprocess.TimeoutExpired as exc:
            rc = -9
            out = (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
            out += f"\nTIMEOUT after {limit} s"
        dt = time.monotonic() - t0
        tail = (
            "\n".join(out.splitlines()[-25:])
            if rc != 0
            else "\n".join(ln for ln in out.splitlines() if ln.startswith(name + ":") or "Warning" in ln)
        )
        print(f"-- {name}: rc {rc}, {dt:.1f} s\n{tail}", flush=True)
        log.append(f"-- {name}: rc {rc}, {dt:.1f} s\n{tail}")
        status[name] = "ok" if rc == 0 else f"failed (rc {rc})"
    return status


def assemble(workdir: str, outdir: str, status: dict[str, str], log: list[str]) -> int:
    """Verify every trace, write corpus.toml, truth.txt and corpus_traces.tar; return the exit code."""
    rc = 0
    analyses: dict[str, dict[str, Any]] = {}
    truths: dict[str, dict[str, Any]] = {}
    recs: dict[str, dict[str, Any]] = {}
    checks: dict[str, tuple[list[str], list[str]]] = {}
    for name in RECORDINGS:
        trace = os.path.join(workdir, f"{name}.pt.trace.json.gz")
        jpath = os.path.join(workdir, f"{name}.recording.json")
        if not (os.path.exists(trace) and os.path.exists(jpath)):
            st = status.get(name, "missing")
            log.append(f"== {name}: no trace/recording ({st})")
            if name not in OPTIONAL:
                rc = 1
            continue
        with open(jpath) as f:
            recs[name] = json.load(f)
        try:
            a = analyze(trace)
        except Exception:
            log.append(f"== {name}: VERIFY FAILED\n{traceback.format_exc()}")
            rc = 1
            continue
        analyses[name] = a
        truths[name] = per_step_truth(a)
        checks[name] = run_checks(name, a)
        p, fl = checks[name]
        if fl:
            rc = 1
        u = recs[name]["unprofiled"]
        t = truths[name]
        log.append(
            f"== {name}  ({a['gz_bytes']} B gz, {a['json_bytes']} B json, {a['events']} events)\n"
            f"  unprofiled median {u['median_ns']} ns (p10 {u['p10_ns']}, p90 {u['p90_ns']}); "
            f"profiled step median {t['median_profiled_step_ns']} ns; "
            f"GPU busy median {t['median_gpu_busy_ns']} ns\n"
            f"  notes: {json.dumps(recs[name]['notes'])}\n"
            f"  per step: " + ", ".join(f"{k}={t[k]}" for k in COUNT_KEYS if t[k]) + "\n"
            f"  not uniform: {t['not_uniform']}; "
            f"same kernel sequence: {t['same_kernel_sequence_all_steps']}\n"
            f"  dtypes (first step): {t.get('gemm_conv_input_dtypes')}\n"
            f"  runtime (first step): {a['rows'][0]['_runtime'] if a['rows'] else {}}\n"
            f"  outside steps: {a['outside']}\n"
            f"  checks passed: {len(p)}; FAILED: {fl}"
        )
        if a["rows"]:
            kc = Counter(a["rows"][0]["_kernel_names"])
            log.append("  kernels (first step):\n" + "\n".join(f"    {v} x {k[:140]}" for k, v in kc.items()))

    pairs_out = []
    for pair in PAIRS:
        b, af = pair["before"], pair["after"]
        entry: dict[str, Any] = dict(pair)
        if b not in recs or af not in recs:
            missing = [n for n in (b, af) if n not in recs]
            entry["recorded"] = False
            entry["skipped_reason"] = (
                f"not recorded: {missing} ({[status.get(n, 'missing') for n in missing]})"
            )
            pairs_out.append(entry)
            log.append(f"== pair {pair['id']}: SKIPPED {entry['skipped_reason']}")
            if not set(missing) <= OPTIONAL:
                rc = 1
            continue
        ub, ua = recs[b]["unprofiled"], recs[af]["unprofiled"]
        entry["recorded"] = True
        entry["before_trace"] = f"{TRACE_SUBDIR}/{b}.pt.trace.json.gz"
        entry["after_trace"] = f"{TRACE_SUBDIR}/{af}.pt.trace.json.gz"
        entry["unprofiled_before_ns"] = ub["median_ns"]
        entry["unprofiled_after_ns"] = ua["median_ns"]
        entry["unprofiled_before_p10_ns"] = ub["p10_ns"]
        entry["unprofiled_before_p90_ns"] = ub["p90_ns"]
        entry["unprofiled_after_p10_ns"] = ua["p10_ns"]
        entry["unprofiled_after_p90_ns"] = ua["p90_ns"]
        entry["unprofiled_iters"] = ub["iters"]
        if pair["metric"] == "throughput":
            entry["before_samples_per_step"] = recs[b]["samples_per_step"]
            entry["after_samples_per_step"] = recs[af]["samples_per_step"]
            entry["before_per_s"] = round(recs[b]["per_s"], 1)
            entry["after_per_s"] = round(recs[af]["per_s"], 1)
            entry["per_s_unit"] = "samples/s"
            entry["measured_speedup"] = round(recs[af]["per_s"] / recs[b]["per_s"], 4)
        else:
            entry["measured_speedup"] = round(ub["median_ns"] / ua["median_ns"], 4)
        sp = entry["measured_speedup"]
        entry["effect"] = "faster" if sp >= 1.1 else "slower" if sp <= 1 / 1.1 else "unclear (within 10 %)"
        entry["profiled_step_before_ns"] = truths[b]["median_profiled_step_ns"]
        entry["profiled_step_after_ns"] = truths[af]["median_profiled_step_ns"]
        pp, pf = pair_checks(pair, truths[b], truths[af], analyses[b], analyses[af])
        if pf:
            rc = 1
        entry["checks_passed"] = (
            [f"before: {c}" for c in checks[b][0]]
            + [f"after: {c}" for c in checks[af][0]]
            + [f"pair: {c}" for c in pp]
        )
        entry["checks_failed"] = (
            [f"before: {c}" for c in checks[b][1]]
            + [f"after: {c}" for c in checks[af][1]]
            + [f"pair: {c}" for c in pf]
        )
        entry["before_notes"] = recs[b]["notes"]
        entry["after_notes"] = recs[af]["notes"]
        entry["before_truth"] = truths[b]
        entry["after_truth"] = truths[af]
        pairs_out.append(entry)
        log.append(
            f"== pair {pair['id']}: {b} {ub['median_ns']} ns -> {af} {ua['median_ns']} ns; "
            f"measured speedup ({pair['metric']}) {entry['measured_speedup']}; pair checks failed: {pf}"
        )

    same_out = []
    for b, r2 in SAME_CODE:
        if b not in recs or r2 not in recs:
            same_out.append({"before": b, "run2": r2, "recorded": False})
            rc = 1
            continue
        ub, u2 = recs[b]["unprofiled"], recs[r2]["unprofiled"]
        tb, t2 = truths[b], truths[r2]
        same_counts = all(tb[k] == t2[k] for k in COUNT_KEYS if k not in ("cpu_ops", "runtime_calls"))
        same_out.append(
            {
                "before": b,
                "run2": r2,
                "recorded": True,
                "unprofiled_before_ns": ub["median_ns"],
                "unprofiled_run2_ns": u2["median_ns"],
                "unprofiled_before_p10_ns": ub["p10_ns"],
                "unprofiled_before_p90_ns": ub["p90_ns"],
                "unprofiled_run2_p10_ns": u2["p10_ns"],
                "unprofiled_run2_p90_ns": u2["p90_ns"],
                "unprofiled_ratio": round(u2["median_ns"] / ub["median_ns"], 4),
                "profiled_step_before_ns": tb["median_profiled_step_ns"],
                "profiled_step_run2_ns": t2["median_profiled_step_ns"],
                "gpu_busy_before_ns": tb["median_gpu_busy_ns"],
                "gpu_busy_run2_ns": t2["median_gpu_busy_ns"],
                "same_per_step_counts": same_counts,
                "checks_failed": checks[b][1] + checks[r2][1],
            }
        )
        log.append(
            f"== same code {b} vs {r2}: unprofiled {ub['median_ns']} vs {u2['median_ns']} ns "
            f"(x{u2['median_ns'] / ub['median_ns']:.4f}); same per-step counts: {same_counts}"
        )

    env_path = os.path.join(workdir, "environment.json")
    env: dict[str, Any] = {}
    if os.path.exists(env_path):
        with open(env_path) as f:
            env = json.load(f)
    if analyses:
        env.update(
            {f"trace_{k}": v for k, v in next(iter(analyses.values()))["header"].items() if v is not None}
        )
    env["trace_dir"] = TRACE_SUBDIR
    env["recordings"] = len(analyses)
    env["total_trace_gz_bytes"] = sum(a["gz_bytes"] for a in analyses.values())

    files = {
        n: {
            "path": f"{TRACE_SUBDIR}/{a['file']}",
            "gz_bytes": a["gz_bytes"],
            "json_bytes": a["json_bytes"],
            "events": a["events"],
            "sha256": _sha256(os.path.join(workdir, a["file"])),
        }
        for n, a in analyses.items()
    }
    doc = {
        "environment": env,
        "pair": pairs_out,
        "same_code": same_out,
        "file": [dict(name=n, **v) for n, v in files.items()],
    }
    comment = (
        "Truth of the before/after corpus recorded by tests/data/gpu/record_corpus.py (see SOURCE.md).\n"
        "Times in ns. unprofiled_*: median (p10, p90) wall time of one step measured with\n"
        "time.perf_counter in the recording process after the profiled part, without the profiler,\n"
        "over unprofiled_iters steps. measured_speedup: before/after median step time, or\n"
        "after/before samples per second (metric = throughput).\n"
        "*_truth: counts per ProfilerStep (10 steps) parsed from the trace with plain json; a key listed in\n"
        "not_uniform differed between steps and holds the median."
    )
    text = to_toml(doc, comment)
    tomllib.loads(text)  # fail loudly on a malformed file
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "corpus.toml"), "w") as f:
        f.write(text)
    log.append(f"exit code {rc}")
    with open(os.path.join(outdir, "truth.txt"), "w") as f:
        f.write("\n\n".join(log) + "\n")
    tar_path = os.path.join(outdir, "corpus_traces.tar")
    with tarfile.open(tar_path, "w") as tar:
        for name in RECORDINGS:
            for suffix in (".pt.trace.json.gz", ".recording.json"):
                p = os.path.join(workdir, name + suffix)
                if os.path.exists(p):
                    tar.add(p, arcname=name + suffix)
        if os.path.exists(env_path):
            tar.add(env_path, arcname="environment.json")

    # summary table last (the device reply carries the end of the output)
    print("\n".join(log[-(len(PAIRS) + len(SAME_CODE) + 2) :]))
    print(f"\n{'pair':32} {'before ns':>11} {'after ns':>11} {'speedup':>8}  checks")
    for e in pairs_out:
        if e.get("recorded"):
            bad = len(e["checks_failed"])
            print(
                f"{e['id']:32} {e['unprofiled_before_ns']:>11} {e['unprofiled_after_ns']:>11} "
                f"{e['measured_speedup']:>8}  {'OK' if not bad else f'{bad} FAILED'}"
            )
        else:
            print(f"{e['id']:32} SKIPPED: {e['skipped_reason']}")
    for s in same_out:
        if s.get("recorded"):
            b, r2 = s["unprofiled_before_ns"], s["unprofiled_run2_ns"]
            print(f"same {s['before']:27} {b:>11} {r2:>11} x{s['unprofiled_ratio']}")
    print(f"total trace bytes (gz): {env['total_trace_gz_bytes']}; exit {rc}")
    return rc


def main(argv: list[str]) -> int:
    if recording.ran_one(argv, record):
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("workdir")
    ap.add_argument("--out", default=None, help="where corpus.toml, truth.txt and corpus_traces.tar go")
    ap.add_argument("--only", default="", help="comma-separated recording names (default: all)")
    ap.add_argument("--assemble", action="store_true", help="only verify and write the outputs")
    args = ap.parse_args(argv[1:])
    workdir = os.path.abspath(args.workdir)
    outdir = os.path.abspath(args.out or workdir)
    os.makedirs(workdir, exist_ok=True)
    names = [n for n in args.only.split(",") if n] or RECORDINGS
    unknown = [n for n in names if n not in RECORDINGS]
    if unknown:
        ap.error(f"unknown recordings: {unknown}; known: {RECORDINGS}")
    log: list[str] = []
    status: dict[str, str] = {}
    if not args.assemble:
        status = run_children(names, workdir, log)
        env = env_info()  # after the children: the parent holds no CUDA context while they record
        with open(os.path.join(workdir, "environment.json"), "w") as f:
            json.dump(env, f, indent=1)
        log.insert(0, json.dumps(env))
    return assemble(workdir, outdir, status, log)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
