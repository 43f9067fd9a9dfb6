"""What the device recording scripts of this folder share: the profiled loop and the CUDA helpers around
it, the gzip form of the traces, and the plain-json parsing their truth checks rest on.

The scripts run standalone on a GPU machine (torch, no tracekit) and import this module as a sibling
(``import recording``: Python puts a script's own folder on ``sys.path``). torch is imported inside the
functions that record, so the parsing half runs (and can be checked) without it.
"""

from __future__ import annotations

import gzip
import json
import os
import platform
import subprocess
import sys
from collections.abc import Callable
from typing import Any, NamedTuple

WAIT, WARMUP, ACTIVE = 1, 2, 10  # profiler schedule: ACTIVE recorded ProfilerStep#N steps per trace
WARMUP_ITERS = 20  # un-profiled iterations first (cuBLAS/cuDNN init, allocator, graph upload, compile)

# The H2D workload of record_h2d_trace.py, recorded again by record_corpus.py: host tensor sizes in KiB
H2D_PAGEABLE_KIB = [4, 8, 16, 32, 64, 128, 256, 4, 8, 16, 32, 64, 128, 256, 4, 8, 16, 32, 64, 128]
H2D_PINNED_KIB = [4, 8, 16, 32, 64, 128, 256, 4]

RUNTIME_CATS = ("cuda_runtime", "cuda_driver")
GPU_CATS = ("kernel", "gpu_memcpy", "gpu_memset")
VERSION_KEYS = ("cupti_version", "cuda_runtime_version", "cuda_driver_version", "schemaVersion")
HEADER_KEYS = ("baseTimeNanoseconds", *VERSION_KEYS)

# ------------------------------------------------------------------------------------ recording (torch)


def warm_up(step: Callable[[int], Any], iters: int = WARMUP_ITERS) -> None:
    """Run ``step(0)`` .. ``step(iters - 1)`` un-profiled, then synchronize."""
    import torch

    for i in range(iters):
        step(i)
    torch.cuda.synchronize()


def profile_steps(
    step: Callable[[int], Any],
    raw: str,
    first: int = 0,
    *,
    record_shapes: bool = False,
    profile_memory: bool = False,
) -> None:
    """Profile WAIT + WARMUP + ACTIVE calls ``step(first + i)``, each followed by ``prof.step()`` (CPU and
    CUDA activities), so that the trace holds ACTIVE ``ProfilerStep#N`` steps; export it as a Chrome trace
    to `raw`, then synchronize."""
    import torch

    activities = [torch.profiler.ProfilerActivity.CPU, torch.profiler.ProfilerActivity.CUDA]
    schedule = torch.profiler.schedule(wait=WAIT, warmup=WARMUP, active=ACTIVE, repeat=1)
    with torch.profiler.profile(
        activities=activities,
        schedule=schedule,
        record_shapes=record_shapes,
        profile_memory=profile_memory,
        on_trace_ready=lambda p: p.export_chrome_trace(raw),
    ) as prof:
        for i in range(WAIT + WARMUP + ACTIVE):
            step(first + i)
            prof.step()
    torch.cuda.synchronize()


def capture_graph(forward: Callable[[], Any]) -> tuple[Any, Any]:
    """``forward()`` captured as a ``torch.cuda.CUDAGraph`` as the PyTorch docs describe (3 warm-up calls
    on a side stream first, under ``no_grad``); return the graph and its static output (keep it alive)."""
    import torch

    with torch.no_grad():
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(3):
                forward()
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            static_out = forward()
    torch.cuda.synchronize()
    return graph, static_out


def event_ms(fn: Callable[[], Any]) -> float:
    """Device time of one call of `fn` in ms, between two CUDA events recorded around it."""
    import torch

    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    fn()
    end.record()
    end.synchronize()
    return start.elapsed_time(end)


def env_report(versions: str = "") -> str:
    """GPU, driver, torch/CUDA/cuDNN versions (then `versions`), Python and platform: one line each."""
    import torch

    return "\n".join(
        [
            f"nvidia-smi: {nvidia_smi('name,driver_version')}",
            f"torch {torch.__version__}, torch.version.cuda {torch.version.cuda}, "
            f"cudnn {torch.backends.cudnn.version()}{versions}",
            f"device: {torch.cuda.get_device_name(0)}, capability {torch.cuda.get_device_capability(0)}",
            f"python {platform.python_version()}, {platform.platform()}, {os.cpu_count()} CPUs",
        ]
    )


def nvidia_smi(query: str) -> str:
    """``nvidia-smi --query-gpu=QUERY`` as CSV without header ("" where it prints nothing)."""
    argv = ["nvidia-smi", f"--query-gpu={query}", "--format=csv,noheader"]
    return subprocess.run(argv, capture_output=True, text=True).stdout.strip()


def one_recording(script: str, name: str, outdir: str) -> list[str]:
    """The command that records `name` in a fresh process: `script` again, with ``--one NAME OUTDIR``."""
    return [sys.executable, os.path.abspath(script), "--one", name, outdir]


def out_folder(argv: list[str], usage: str) -> str | None:
    """OUTDIR of ``SCRIPT OUTDIR``, created (a CUDA GPU is needed); None, after printing `usage`, if the
    arguments are not that."""
    import torch

    if len(argv) != 2:
        print(usage)
        return None
    os.makedirs(argv[1], exist_ok=True)
    assert torch.cuda.is_available(), "needs a CUDA GPU"
    return argv[1]


def ran_one(argv: list[str], record: Callable[[str, str], str]) -> bool:
    """In a process started by `one_recording`: ``record(NAME, OUTDIR)``, print what it wrote, True."""
    if len(argv) == 4 and argv[1] == "--one":
        print(record(argv[2], argv[3]))
        return True
    return False


def gzip_file(raw: str) -> str:
    """Gzip `raw` to ``raw + ".gz"`` (level 9, mtime 0, empty file name: the same bytes for the same
    trace), remove `raw`; return the .gz path."""
    gz = raw + ".gz"
    with (
        open(raw, "rb") as f_in,
        open(gz, "wb") as f_out,
        gzip.GzipFile(filename="", mode="wb", fileobj=f_out, compresslevel=9, mtime=0) as g,
    ):
        g.write(f_in.read())
    os.remove(raw)
    return gz


# ------------------------------------------------------------------------------------ parsing (plain json)


class Step(NamedTuple):
    """A host ``ProfilerStep#N`` window: start and end in the trace's microseconds, dur in ns."""

    name: str
    start: float
    end: float
    dur_ns: int


def load_trace(path: str) -> tuple[str, dict[str, Any]]:
    """A gzipped trace's JSON text and its document."""
    with gzip.open(path, "rb") as f:
        text = f.read().decode()
    return text, json.loads(text)


def ns(us: float) -> int:
    """Microsecond float with 3 decimals -> integer nanoseconds."""
    return round(float(us) * 1000)


def is_cpu_step(event: dict[str, Any]) -> bool:
    """A host ``ProfilerStep#N`` range (not the GPU-side annotation of the same name)."""
    return (
        event.get("ph") == "X"
        and str(event.get("name", "")).startswith("ProfilerStep#")
        and event.get("cat") != "gpu_user_annotation"
    )


def cpu_steps(events: list[dict[str, Any]]) -> list[Step]:
    """The host ``ProfilerStep#N`` windows, by start; `dur_ns` from the exact ``dur`` field."""
    steps = (
        Step(e["name"], float(e["ts"]), float(e["ts"]) + float(e["dur"]), ns(e["dur"]))
        for e in events
        if is_cpu_step(e)
    )
    return sorted(steps, key=lambda s: s.start)


def step_index(steps: list[Step], t: float | None) -> int | None:
    """The first step whose window holds host time `t` (both ends included), or None."""
    if t is None:
        return None
    return next((k for k, s in enumerate(steps) if s.start <= t <= s.end), None)


def launches(events: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """The host runtime (or driver) call of each correlation id."""
    out: dict[int, dict[str, Any]] = {}
    for e in events:
        if e.get("cat") in RUNTIME_CATS and e.get("ph") == "X":
            c = (e.get("args") or {}).get("correlation")
            if c is not None:
                out[int(c)] = e
    return out


def launch_of(event: dict[str, Any], calls: dict[int, dict[str, Any]]) -> dict[str, Any] | None:
    """The host call that launched a GPU event, through ``args.correlation`` (None: unknown). A GPU event
    belongs to the step whose window holds its launch's ``ts``."""
    c = (event.get("args") or {}).get("correlation")
    return calls.get(int(c)) if c is not None else None


def merge(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, disjoint intervals covering the same time (touching ones joined)."""
    out: list[tuple[int, int]] = []
    for s, e in sorted(intervals):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def covered(merged: list[tuple[int, int]]) -> int:
    """Total length of merged intervals."""
    return sum(e - s for s, e in merged)


def overlap(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> int:
    """Length of the intersection of two merged interval lists."""
    i = j = total = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if hi > lo:
            total += hi - lo
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return total


def trace_line(path: str, text: str, events: list[dict[str, Any]]) -> str:
    """The report's first line about a trace: its name, gzip and JSON sizes, event count."""
    sizes = f"{os.path.getsize(path)} B gz, {len(text)} B json, {len(events)} events"
    return f"== {os.path.basename(path)}  ({sizes})"


def header_lines(doc: dict[str, Any], keys: tuple[str, ...] = HEADER_KEYS) -> list[str]:
    """One report line per trace header field."""
    return [f"  {k}: {doc.get(k, '<absent>')!r}" for k in keys]


def write_truth(outdir: str, parts: list[str]) -> None:
    """Print the truth report and write it to ``OUTDIR/truth.txt``."""
    out = "\n\n".join(parts)
    print(out)
    with open(os.path.join(outdir, "truth.txt"), "w") as f:
        f.write(out + "\n")
