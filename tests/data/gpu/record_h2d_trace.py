"""Record small real PyTorch-profiler (Kineto) traces of host-to-device copies.

Usage (needs a CUDA GPU and torch; does not import tracekit):

    python3 tests/data/gpu/record_h2d_trace.py OUTDIR

Writes, into OUTDIR, gzip level-9 Chrome traces whose truth is known by
construction, plus ``truth.txt`` (a check of that truth, done by parsing the
written JSON with plain ``json``/``gzip``):

* ``h2d28_separate_run{1,2,3}.pt.trace.json.gz``: three separate recordings
  (each in a fresh process) of the same workload: per step, 28 separate H2D
  copies (20 pageable via ``.to('cuda')``, 8 pinned via
  ``.to('cuda', non_blocking=True)``), a small MLP, one D2H ``.cpu()``.
* ``h2d_batched.pt.trace.json.gz``: the same model and bytes, but the 28
  inputs live in ONE pinned host buffer copied with ONE non-blocking H2D
  copy per step, then split on the device.

Each trace holds exactly 10 ``ProfilerStep#N`` steps (schedule wait=1,
warmup=2, active=10).
"""

from __future__ import annotations

import gzip
import json
import os
import platform
import subprocess
import sys
from collections import Counter
from typing import Any

import torch

# Sizes in KiB (float32 => 256 elements per KiB).
PAGEABLE_KIB: list[int] = [
    4,
    8,
    16,
    32,
    64,
    128,
    256,
    4,
    8,
    16,
    32,
    64,
    128,
    256,
    4,
    8,
    16,
    32,
    64,
    128,
]
PINNED_KIB: list[int] = [4, 8, 16, 32, 64, 128, 256, 4]
FEAT = 256  # the flat input is viewed as (rows, FEAT)
WAIT, WARMUP, ACTIVE = 1, 2, 10
WARMUP_ITERS = 20  # un-profiled iterations first (cuBLAS init, allocator)

RECORDINGS: list[str] = [
    "h2d28_separate_run1",
    "h2d28_separate_run2",
    "h2d28_separate_run3",
    "h2d_batched",
]


def numel(kib: int) -> int:
    """float32 element count of a tensor of ``kib`` KiB."""
    return kib * 1024 // 4


def build_model(device: torch.device) -> torch.nn.Module:
    """Small deterministic MLP living on the GPU."""
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(FEAT, 64),
        torch.nn.ReLU(),
        torch.nn.Linear(64, 8),
    ).to(device)


def record(name: str, outdir: str) -> str:
    """Record one trace; return the path of the .pt.trace.json.gz file."""
    dev = torch.device("cuda")
    model = build_model(dev)
    sizes = [numel(k) for k in PAGEABLE_KIB + PINNED_KIB]
    batched = name.startswith("h2d_batched")

    # Host tensors, allocated ONCE and reused every step.
    if batched:
        host_buf = torch.arange(sum(sizes), dtype=torch.float32).remainder_(7.0)
        host_buf = host_buf.pin_memory()
    else:
        pageable = [
            torch.full((numel(k),), float(i % 5), dtype=torch.float32) for i, k in enumerate(PAGEABLE_KIB)
        ]
        pinned = [
            torch.full((numel(k),), float(i % 3), dtype=torch.float32).pin_memory()
            for i, k in enumerate(PINNED_KIB)
        ]
        assert not any(t.is_pinned() for t in pageable)
        assert all(t.is_pinned() for t in pinned)

    def step() -> float:
        with torch.no_grad():
            if batched:
                dbuf = host_buf.to("cuda", non_blocking=True)  # 1 H2D (pinned)
                parts = list(dbuf.split(sizes))  # views, no copy
            else:
                parts = [t.to("cuda") for t in pageable]  # 20 H2D pageable
                parts += [
                    t.to("cuda", non_blocking=True)  # 8 H2D pinned
                    for t in pinned
                ]
            x = torch.cat(parts).view(-1, FEAT)
            y = model(x)
            s = y.sum()
            return s.cpu().item()  # 1 D2H (syncs)

    for _ in range(WARMUP_ITERS):
        step()
    torch.cuda.synchronize()

    raw = os.path.join(outdir, f"{name}.pt.trace.json")
    acts = [torch.profiler.ProfilerActivity.CPU, torch.profiler.ProfilerActivity.CUDA]
    sched = torch.profiler.schedule(wait=WAIT, warmup=WARMUP, active=ACTIVE, repeat=1)
    with torch.profiler.profile(
        activities=acts,
        schedule=sched,
        on_trace_ready=lambda p: p.export_chrome_trace(raw),
    ) as prof:
        for _ in range(WAIT + WARMUP + ACTIVE):
            step()
            prof.step()
    torch.cuda.synchronize()

    gz = raw + ".gz"
    with (
        open(raw, "rb") as f_in,
        open(gz, "wb") as f_out,
        gzip.GzipFile(filename="", mode="wb", fileobj=f_out, compresslevel=9, mtime=0) as g,
    ):
        g.write(f_in.read())
    os.remove(raw)
    return gz


def _steps(events: list[dict[str, Any]]) -> list[tuple[str, float, float]]:
    """CPU-side ProfilerStep#N windows as (name, start, end)."""
    out = [
        (e["name"], float(e["ts"]), float(e["ts"]) + float(e["dur"]))
        for e in events
        if e.get("ph") == "X"
        and e.get("name", "").startswith("ProfilerStep#")
        and e.get("cat") != "gpu_user_annotation"
    ]
    return sorted(out, key=lambda s: s[1])


def verify(path: str) -> str:
    """Count per-step copies/kernels with plain json; return a report."""
    with gzip.open(path, "rb") as f:
        text = f.read().decode()
    doc = json.loads(text)
    ev: list[dict[str, Any]] = doc["traceEvents"]
    lines = [
        f"== {os.path.basename(path)}  ({os.path.getsize(path)} B gz, {len(text)} B json, {len(ev)} events)"
    ]
    lines.append(f"top-level keys: {sorted(doc.keys())}")
    for k in (
        "baseTimeNanoseconds",
        "cupti_version",
        "cuda_runtime_version",
        "cuda_driver_version",
        "schemaVersion",
        "trace_id",
        "displayTimeUnit",
    ):
        lines.append(f"  {k}: {doc.get(k, '<absent>')!r}")
    props = doc.get("deviceProperties")
    if props:
        lines.append(f"  deviceProperties[0]: {json.dumps(props[0])[:300]}")
    ts_types = Counter(type(e.get("ts")).__name__ for e in ev if "ts" in e)
    lines.append(f"ts python types: {dict(ts_types)}")
    sample = [e["ts"] for e in ev if e.get("cat") == "gpu_memcpy"][:3]
    lines.append(f"sample gpu_memcpy ts values: {sample}")
    i = text.find('"ts":')
    lines.append(f"raw ts text sample: {text[i : i + 40]!r}")
    lines.append(f"cats: {dict(Counter(e.get('cat', '<none>') for e in ev))}")
    memnames = Counter(e["name"] for e in ev if e.get("cat") == "gpu_memcpy")
    lines.append(f"gpu_memcpy names (all): {dict(memnames)}")
    memsets = Counter(e["name"] for e in ev if e.get("cat") == "gpu_memset")
    if memsets:
        lines.append(f"gpu_memset names: {dict(memsets)}")
    ex = next((e for e in ev if e.get("cat") == "gpu_memcpy"), None)
    if ex:
        lines.append(f"example gpu_memcpy event: {json.dumps(ex)}")

    steps = _steps(ev)
    lines.append(f"ProfilerStep count: {len(steps)}: {[s[0] for s in steps]}")
    gpu_steps = [
        e["name"]
        for e in ev
        if e.get("cat") == "gpu_user_annotation" and e.get("name", "").startswith("ProfilerStep#")
    ]
    lines.append(f"gpu_user_annotation ProfilerStep count: {len(gpu_steps)}")

    # correlation id -> CPU launch timestamp (cuda_runtime / cuda_driver)
    corr_ts: dict[int, float] = {}
    for e in ev:
        if e.get("cat") in ("cuda_runtime", "cuda_driver") and e.get("ph") == "X":
            c = e.get("args", {}).get("correlation")
            if c is not None:
                corr_ts[int(c)] = float(e["ts"])

    def step_of(t: float) -> str | None:
        for n, a, b in steps:
            if a <= t <= b:
                return n
        return None

    per: dict[str, Counter] = {s[0]: Counter() for s in steps}
    outside = Counter()
    for e in ev:
        cat = e.get("cat")
        if e.get("ph") != "X":
            continue
        if cat in ("cuda_runtime", "cuda_driver"):
            s = step_of(float(e["ts"]))
            (per[s] if s else outside)[f"rt:{e['name']}"] += 1
            continue
        if cat not in ("gpu_memcpy", "kernel", "gpu_memset"):
            continue
        c = e.get("args", {}).get("correlation")
        t = corr_ts.get(int(c)) if c is not None else None
        s = step_of(t) if t is not None else None
        key = "kernel" if cat == "kernel" else e["name"]
        tgt = per[s] if s else outside
        tgt[key] += 1
        if cat == "gpu_memcpy":
            tgt[f"bytes:{e['name']}"] += int(e.get("args", {}).get("bytes", 0))
        if cat == "kernel":
            tgt[f"k:{e['name'][:70]}"] += 1

    table = [
        f"{n}: {dict(sorted((k, v) for k, v in c.items() if not k.startswith(('k:', 'rt:'))))}"
        for n, c in per.items()
    ]
    lines.append("per-step GPU activity (by correlation -> CPU launch in step window):")
    lines += ["  " + t for t in table]
    distinct = {json.dumps(dict(sorted(c.items()))) for c in per.values()}
    lines.append(f"all steps identical (incl. kernel names + runtime calls): {len(distinct) == 1}")
    if per:
        first = next(iter(per.values()))
        lines.append(
            "first step kernels: "
            + json.dumps({k[2:]: v for k, v in sorted(first.items()) if k.startswith("k:")})
        )
        lines.append(
            "first step runtime calls: "
            + json.dumps({k[3:]: v for k, v in sorted(first.items()) if k.startswith("rt:")})
        )
    if outside:
        lines.append(f"activity outside any step: {dict(outside)}")
    return "\n".join(lines)


def env_info() -> str:
    """GPU / driver / torch versions."""
    smi = subprocess.run(
        ["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return "\n".join(
        [
            f"nvidia-smi: {smi}",
            f"torch {torch.__version__}, torch.version.cuda {torch.version.cuda}, "
            f"cudnn {torch.backends.cudnn.version()}",
            f"device: {torch.cuda.get_device_name(0)}, capability {torch.cuda.get_device_capability(0)}",
            f"python {platform.python_version()}, {platform.platform()}",
        ]
    )


def main(argv: list[str]) -> int:
    if len(argv) == 4 and argv[1] == "--one":
        print(record(argv[2], argv[3]))
        return 0
    if len(argv) != 2:
        print(__doc__)
        return 2
    outdir = argv[1]
    os.makedirs(outdir, exist_ok=True)
    assert torch.cuda.is_available(), "needs a CUDA GPU"
    report = [env_info()]
    sizes = PAGEABLE_KIB + PINNED_KIB
    report.append(f"pageable KiB ({len(PAGEABLE_KIB)}): {PAGEABLE_KIB} = {sum(PAGEABLE_KIB) * 1024} B")
    report.append(f"pinned KiB ({len(PINNED_KIB)}): {PINNED_KIB} = {sum(PINNED_KIB) * 1024} B")
    report.append(f"total per step: {sum(sizes) * 1024} B")
    for name in RECORDINGS:  # each recording in a fresh process
        subprocess.run([sys.executable, os.path.abspath(__file__), "--one", name, outdir], check=True)
        report.append(verify(os.path.join(outdir, f"{name}.pt.trace.json.gz")))
    out = "\n\n".join(report)
    print(out)
    with open(os.path.join(outdir, "truth.txt"), "w") as f:
        f.write(out + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
