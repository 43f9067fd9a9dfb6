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

import json
import os
import subprocess
import sys
from collections import Counter
from typing import Any

import recording
import torch

# Sizes in KiB (float32 => 256 elements per KiB).
PAGEABLE_KIB: list[int] = recording.H2D_PAGEABLE_KIB
PINNED_KIB: list[int] = recording.H2D_PINNED_KIB
FEAT = 256  # the flat input is viewed as (rows, FEAT)
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

    recording.warm_up(lambda i: step())
    raw = os.path.join(outdir, f"{name}.pt.trace.json")
    recording.profile_steps(lambda i: step(), raw)
    return recording.gzip_file(raw)


def verify(path: str) -> str:
    """Count per-step copies/kernels with plain json; return a report."""
    text, doc = recording.load_trace(path)
    ev: list[dict[str, Any]] = doc["traceEvents"]
    lines = [recording.trace_line(path, text, ev)]
    lines.append(f"top-level keys: {sorted(doc.keys())}")
    lines += recording.header_lines(doc, (*recording.HEADER_KEYS, "trace_id", "displayTimeUnit"))
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

    steps = recording.cpu_steps(ev)
    lines.append(f"ProfilerStep count: {len(steps)}: {[s.name for s in steps]}")
    gpu_steps = [
        e["name"]
        for e in ev
        if e.get("cat") == "gpu_user_annotation" and e.get("name", "").startswith("ProfilerStep#")
    ]
    lines.append(f"gpu_user_annotation ProfilerStep count: {len(gpu_steps)}")

    calls = recording.launches(ev)
    per: list[Counter] = [Counter() for _ in steps]
    outside = Counter()
    for e in ev:
        cat = e.get("cat")
        if e.get("ph") != "X":
            continue
        if cat in recording.RUNTIME_CATS:
            k = recording.step_index(steps, float(e["ts"]))
            (per[k] if k is not None else outside)[f"rt:{e['name']}"] += 1
            continue
        if cat not in recording.GPU_CATS:
            continue
        launch = recording.launch_of(e, calls)
        k = recording.step_index(steps, float(launch["ts"]) if launch is not None else None)
        key = "kernel" if cat == "kernel" else e["name"]
        tgt = per[k] if k is not None else outside
        tgt[key] += 1
        if cat == "gpu_memcpy":
            tgt[f"bytes:{e['name']}"] += int(e.get("args", {}).get("bytes", 0))
        if cat == "kernel":
            tgt[f"k:{e['name'][:70]}"] += 1

    table = [
        f"{s.name}: {dict(sorted((k, v) for k, v in c.items() if not k.startswith(('k:', 'rt:'))))}"
        for s, c in zip(steps, per, strict=True)
    ]
    lines.append("per-step GPU activity (by correlation -> CPU launch in step window):")
    lines += ["  " + t for t in table]
    distinct = {json.dumps(dict(sorted(c.items()))) for c in per}
    lines.append(f"all steps identical (incl. kernel names + runtime calls): {len(distinct) == 1}")
    if per:
        first = per[0]
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


def main(argv: list[str]) -> int:
    if recording.ran_one(argv, record):
        return 0
    outdir = recording.out_folder(argv, __doc__)
    if outdir is None:
        return 2
    report = [recording.env_report()]
    sizes = PAGEABLE_KIB + PINNED_KIB
    report.append(f"pageable KiB ({len(PAGEABLE_KIB)}): {PAGEABLE_KIB} = {sum(PAGEABLE_KIB) * 1024} B")
    report.append(f"pinned KiB ({len(PINNED_KIB)}): {PINNED_KIB} = {sum(PINNED_KIB) * 1024} B")
    report.append(f"total per step: {sum(sizes) * 1024} B")
    for name in RECORDINGS:  # each recording in a fresh process
        subprocess.run(recording.one_recording(__file__, name, outdir), check=True)
        report.append(verify(os.path.join(outdir, f"{name}.pt.trace.json.gz")))
    recording.write_truth(outdir, report)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
