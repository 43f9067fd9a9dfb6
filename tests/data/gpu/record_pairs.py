"""Record small real PyTorch-profiler (Kineto) traces in contrasting pairs.

Usage (needs a CUDA GPU, torch and numpy; does not import tracekit):

    python3 tests/data/gpu/record_pairs.py OUTDIR

Writes, into OUTDIR, gzip level-9 Chrome traces whose truth is known by
construction, plus ``truth.txt`` (a check of that truth, done by parsing the
written JSON with plain ``json``/``gzip``):

* ``decode_eager.pt.trace.json.gz`` / ``decode_graph.pt.trace.json.gz``: one
  launch-bound "decode" token per step through 16 blocks of
  ``x + GELU(Linear(256, 256)(x))`` (fp32, batch 1). Eager runs the model op by
  op; graph replays the same model captured once as a ``torch.cuda.CUDAGraph``.
  Both copy the token into the same static input first (pinned host,
  ``non_blocking=True``) and end with ``torch.cuda.synchronize()``.
* ``memory_leak.pt.trace.json.gz`` / ``memory_steady.pt.trace.json.gz``
  (``profile_memory=True``): each step allocates one 1 MiB float32 CUDA tensor
  (262,144 floats) and reduces it; leak keeps it in a global list, steady drops it.
* ``cpu_bound.pt.trace.json.gz``: each step sorts a host numpy array sized to take
  about 2 ms (inside ``record_function("preprocess")``), copies a 16 KiB result
  to the GPU, runs a short (~0.2 ms) matmul there and synchronizes.

Each recording runs in a fresh process (the script starts itself again with
``--one NAME OUTDIR``) and holds exactly 10 ``ProfilerStep#N`` steps (schedule
wait=1, warmup=2, active=10) after 20 un-profiled warm-up iterations.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import statistics
import subprocess
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import recording
import torch

RECORDINGS: list[str] = [
    "decode_eager",
    "decode_graph",
    "memory_leak",
    "memory_steady",
    "cpu_bound",
]

# decode
D_MODEL = 256
N_BLOCKS = 16
N_TOKENS = 4  # distinct pinned host tokens, cycled

# memory
LEAK_NUMEL = 262_144  # float32 => 1,048,576 B
KEPT: list[torch.Tensor] = []  # the "leak": never freed

# cpu_bound
SORT_TARGET_S = 2.0e-3
GPU_TARGET_S = 0.2e-3
FEAT_NUMEL = 4096  # 16 KiB float32 sent to the GPU each step
GPU_REPEATS = (12, 16, 20, 24, 28, 32)  # matmul side = 64 * R


# --------------------------------------------------------------------------- recording


class Block(torch.nn.Module):
    """One residual block: ``x + GELU(Linear(x))``."""

    def __init__(self, d: int) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(d, d)
        self.act = torch.nn.GELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.act(self.fc(x))


def trace_steps(step: Callable[[int], Any], raw: str, profile_memory: bool = False) -> str:
    """Warm up, profile WAIT+WARMUP+ACTIVE iterations, export, gzip; return the .gz path."""
    recording.warm_up(step)
    recording.profile_steps(step, raw, recording.WARMUP_ITERS, profile_memory=profile_memory)
    return recording.gzip_file(raw)


def make_decode_step(graph: bool) -> Callable[[int], Any]:
    """One token per step through the 16-block model, eager or as a CUDA graph replay."""
    dev = torch.device("cuda")
    torch.manual_seed(0)
    model = torch.nn.Sequential(*[Block(D_MODEL) for _ in range(N_BLOCKS)]).to(dev).eval()
    tokens = [torch.randn(1, D_MODEL).pin_memory() for _ in range(N_TOKENS)]
    static_in = torch.zeros(1, D_MODEL, device=dev)

    if not graph:

        def eager_step(i: int) -> None:
            with torch.no_grad():
                static_in.copy_(tokens[i % N_TOKENS], non_blocking=True)
                model(static_in)
            torch.cuda.synchronize()

        return eager_step

    g, static_out = recording.capture_graph(lambda: model(static_in))

    def graph_step(i: int) -> None:
        static_in.copy_(tokens[i % N_TOKENS], non_blocking=True)
        g.replay()
        torch.cuda.synchronize()

    graph_step.static_out = static_out  # type: ignore[attr-defined]  # keep alive
    return graph_step


def make_memory_step(leak: bool) -> Callable[[int], Any]:
    """Allocate one 1 MiB CUDA tensor per step, reduce it; keep it (leak) or drop it."""

    def step(i: int) -> float:
        x = torch.full((LEAK_NUMEL,), float(i % 7), dtype=torch.float32, device="cuda")
        x.mul_(0.5).add_(1.0)
        v = x.sum().item()
        if leak:
            KEPT.append(x)
        return v

    return step


def _median_time(fn: Callable[[], Any], reps: int) -> float:
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def make_cpu_bound_step() -> Callable[[int], Any]:
    """~2 ms numpy sort on the host, 16 KiB H2D, ~0.2 ms matmul on the GPU, sync."""
    rng = np.random.default_rng(0)
    # Size the sort so one call takes about SORT_TARGET_S on this machine.
    n = 1 << 14
    while True:
        a = rng.standard_normal(n)
        t = _median_time(lambda a=a: np.sort(a), 7)
        if t >= SORT_TARGET_S / 2 or n >= 1 << 26:
            break
        n *= 2
    n = max(FEAT_NUMEL, round(n * SORT_TARGET_S / t / FEAT_NUMEL) * FEAT_NUMEL)
    base = rng.standard_normal(n)
    t_sort = _median_time(lambda: np.sort(base), 11)
    idx = np.linspace(0, n - 1, FEAT_NUMEL).astype(np.int64)

    # Size the GPU part so it takes about GPU_TARGET_S (CUDA events).
    torch.manual_seed(0)
    v0 = torch.randn(FEAT_NUMEL, device="cuda")

    def gpu_part(v: torch.Tensor, r: int, w: torch.Tensor) -> torch.Tensor:
        m = v.view(64, 64).repeat(r, r)
        return torch.relu(m @ w).sum()

    best: tuple[float, int] | None = None
    timings = {}
    for r in GPU_REPEATS:
        w = torch.randn(64 * r, 64 * r, device="cuda") / (64 * r) ** 0.5
        for _ in range(3):
            gpu_part(v0, r, w)
        run = functools.partial(gpu_part, v0, r, w)
        ts = [recording.event_ms(run) * 1e-3 for _ in range(10)]
        t_gpu = statistics.median(ts)
        timings[r] = t_gpu
        if best is None or abs(t_gpu - GPU_TARGET_S) < abs(best[0] - GPU_TARGET_S):
            best = (t_gpu, r)
    assert best is not None
    r = best[1]
    w = torch.randn(64 * r, 64 * r, device="cuda") / (64 * r) ** 0.5
    print(
        f"cpu_bound calibration: sort n={n} float64 (median {t_sort * 1e3:.3f} ms unprofiled); "
        f"GPU part R={r} -> matmul {64 * r}x{64 * r} fp32 "
        f"(CUDA-event medians ms: { {64 * k: round(t * 1e3, 4) for k, t in timings.items()} })",
        flush=True,
    )

    def step(i: int) -> float:
        with torch.profiler.record_function("preprocess"):
            srt = np.sort(base)
            feat = torch.from_numpy(srt[idx].astype(np.float32))
        v = feat.to("cuda")  # 16 KiB pageable H2D
        return gpu_part(v, r, w).item()  # syncs

    return step


def record(name: str, outdir: str) -> str:
    """Record one trace; return the path of the .pt.trace.json.gz file."""
    assert torch.cuda.is_available(), "needs a CUDA GPU"
    raw = os.path.join(outdir, f"{name}.pt.trace.json")
    if name == "decode_eager":
        return trace_steps(make_decode_step(graph=False), raw)
    if name == "decode_graph":
        return trace_steps(make_decode_step(graph=True), raw)
    if name == "memory_leak":
        return trace_steps(make_memory_step(leak=True), raw, profile_memory=True)
    if name == "memory_steady":
        return trace_steps(make_memory_step(leak=False), raw, profile_memory=True)
    if name == "cpu_bound":
        return trace_steps(make_cpu_bound_step(), raw)
    raise ValueError(name)


# --------------------------------------------------------------------------- verification
# (plain json/gzip only from here on)


ns = recording.ns


def _med(xs: list[int]) -> float | int:
    return statistics.median(xs) if xs else 0


def analyze(path: str) -> tuple[list[str], dict[str, Any]]:
    """Parse one trace with plain json; return (report lines, summary)."""
    text, doc = recording.load_trace(path)
    ev: list[dict[str, Any]] = doc["traceEvents"]
    name = os.path.basename(path).split(".")[0]
    lines = [recording.trace_line(path, text, ev), *recording.header_lines(doc)]
    lines.append(f"cats: {dict(Counter(e.get('cat', '<none>') for e in ev))}")

    steps = recording.cpu_steps(ev)
    lines.append(f"ProfilerStep count: {len(steps)}: {[s.name for s in steps]}")

    def step_of(t: float) -> str | None:
        k = recording.step_index(steps, t)
        return None if k is None else steps[k].name

    corr = recording.launches(ev)

    per: dict[str, dict[str, Any]] = {
        s[0]: {"rt": Counter(), "kernels": [], "memcpy": [], "memset": [], "gpu": []} for s in steps
    }
    outside: Counter = Counter()
    for e in ev:
        if e.get("ph") != "X":
            continue
        cat = e.get("cat")
        if cat in recording.RUNTIME_CATS:
            s = step_of(float(e["ts"]))
            if s:
                per[s]["rt"][e["name"]] += 1
            else:
                outside[f"rt:{e['name']}"] += 1
            continue
        if cat not in recording.GPU_CATS:
            continue
        launch = recording.launch_of(e, corr)
        s = step_of(float(launch["ts"])) if launch is not None else None
        if s is None:
            outside[f"{cat}:{e['name'][:60]}"] += 1
            continue
        d = per[s]
        d["gpu"].append((ns(e["ts"]), ns(float(e["ts"]) + float(e["dur"]))))
        rec = {
            "name": e["name"],
            "ts": float(e["ts"]),
            "dur_ns": ns(e["dur"]),
            "launch": launch["name"],
            "launch_dur_ns": ns(launch["dur"]),
            "bytes": e.get("args", {}).get("bytes"),
        }
        {"kernel": d["kernels"], "gpu_memcpy": d["memcpy"], "gpu_memset": d["memset"]}[cat].append(rec)

    step_dur = [s.dur_ns for s in steps]  # exact dur fields (no float end - start rounding)

    lines.append(
        "per step: name | CPU dur ns | kernels | memcpy | memset | GPU busy ns (union) | "
        "kernel sum ns | runtime calls"
    )
    summary: dict[str, Any] = {"name": name, "steps": []}
    for (sname, _, _, _), dur in zip(steps, step_dur, strict=True):
        d = per[sname]
        d["kernels"].sort(key=lambda r: r["ts"])
        busy = recording.covered(recording.merge(d["gpu"]))
        ksum = sum(r["dur_ns"] for r in d["kernels"])
        rt = dict(sorted(d["rt"].items()))
        lines.append(
            f"  {sname} | {dur} | {len(d['kernels'])} | {len(d['memcpy'])} | {len(d['memset'])} | "
            f"{busy} | {ksum} | {rt}"
        )
        summary["steps"].append(
            {
                "name": sname,
                "dur_ns": dur,
                "kernels": [r["name"] for r in d["kernels"]],
                "busy_ns": busy,
                "ksum_ns": ksum,
                "rt": rt,
            }
        )
    busy_all = [s["busy_ns"] for s in summary["steps"]]
    lines.append(f"step CPU durations ns: {step_dur}")
    lines.append(
        f"step CPU duration ns: median {_med(step_dur)}, min {min(step_dur, default=0)}, "
        f"max {max(step_dur, default=0)}, sum {sum(step_dur)}"
    )
    lines.append(f"GPU busy (union) ns per step: {busy_all}; median {_med(busy_all)}")
    summary["median_step_ns"] = _med(step_dur)
    seqs = {json.dumps(s["kernels"]) for s in summary["steps"]}
    rts = {json.dumps(s["rt"]) for s in summary["steps"]}
    lines.append(
        f"all steps: same kernel sequence: {len(seqs) == 1}; same runtime-call counts: {len(rts) == 1}"
    )
    memcpy_names = Counter((r["name"], r["bytes"]) for s in steps for r in per[s[0]]["memcpy"])
    lines.append(f"memcpy (name, bytes) over all steps: {dict(memcpy_names)}")
    memset_names = Counter((r["name"], r["bytes"]) for s in steps for r in per[s[0]]["memset"])
    if memset_names:
        lines.append(f"memset (name, bytes) over all steps: {dict(memset_names)}")
    if steps:
        first = per[steps[0][0]]
        kc = Counter(r["name"] for r in first["kernels"])
        lines.append(f"first step distinct kernels ({len(kc)}), count each:")
        for k, v in kc.items():
            lines.append(f"    {v} x {k[:150]}")
    if outside:
        lines.append(f"activity outside any step: {dict(outside)}")

    # ---- launch-bound view (all kernels of the active steps)
    ks = [r for s in steps for r in per[s[0]]["kernels"]]
    if ks:
        kd = [r["dur_ns"] for r in ks]
        lines.append(f"kernel dur ns over {len(ks)} kernels: median {_med(kd)}, min {min(kd)}, max {max(kd)}")
        by_launch: dict[str, list[dict[str, Any]]] = {}
        for r in ks:
            by_launch.setdefault(r["launch"], []).append(r)
        for lname, rs in sorted(by_launch.items()):
            ld = [r["launch_dur_ns"] for r in rs]
            shorter = sum(1 for r in rs if r["dur_ns"] < r["launch_dur_ns"])
            lines.append(
                f"  kernels launched by {lname}: {len(rs)}; launch-call dur ns median {_med(ld)} "
                f"(min {min(ld)}, max {max(ld)}); kernels shorter than their launch call: "
                f"{shorter}/{len(rs)}"
            )
        for rn in ("cudaLaunchKernel", "cudaLaunchKernelExC", "cudaGraphLaunch"):
            dl = [
                ns(e["dur"])
                for e in ev
                if e.get("cat") == "cuda_runtime"
                and e.get("ph") == "X"
                and e.get("name") == rn
                and step_of(float(e["ts"]))
            ]
            if dl:
                lines.append(f"  {rn} calls in steps: {len(dl)}; dur ns median {_med(dl)}")
        ratio = [round(s["busy_ns"] / s["dur_ns"], 4) if s["dur_ns"] else None for s in summary["steps"]]
        lines.append(f"GPU busy / step CPU dur per step: {ratio}")

    # ---- memory events
    mem = [e for e in ev if e.get("name") == "[memory]"]
    if mem:
        lines.append(f"[memory] events: {len(mem)}; ph {dict(Counter(e.get('ph') for e in mem))}")
        lines.append(f"  example: {json.dumps(mem[0])}")
        lines.append(
            "  (Device Type, Device Id) counts: "
            f"{dict(Counter((e['args'].get('Device Type'), e['args'].get('Device Id')) for e in mem))}"
        )
        cuda_mem = sorted((e for e in mem if e["args"].get("Device Type") == 1), key=lambda e: float(e["ts"]))
        if steps:
            before = [e for e in cuda_mem if float(e["ts"]) < steps[0][1]]
            after = [e for e in cuda_mem if float(e["ts"]) > steps[-1][2]]
            lines.append(
                f"  CUDA [memory] events before first step: {len(before)}, after last step: {len(after)}"
            )
            if before:
                lines.append(
                    f"  CUDA Total Allocated before first step: {before[-1]['args'].get('Total Allocated')}"
                )
        lines.append(
            "  per step (CUDA): name | events | allocs | frees | net Bytes | alloc sizes | "
            "Total Allocated at step end | Total Reserved at step end"
        )
        ends = []
        nets = []
        for sname, a, b, _ in steps:
            se = [e for e in cuda_mem if a <= float(e["ts"]) <= b]
            by = [int(e["args"].get("Bytes", 0)) for e in se]
            allocs = [x for x in by if x > 0]
            frees = [x for x in by if x < 0]
            end_alloc = se[-1]["args"].get("Total Allocated") if se else None
            end_res = se[-1]["args"].get("Total Reserved") if se else None
            ends.append(end_alloc)
            nets.append(sum(by))
            lines.append(
                f"    {sname} | {len(se)} | {len(allocs)} | {len(frees)} | {sum(by)} | "
                f"{dict(Counter(allocs))} | {end_alloc} | {end_res}"
            )
        growth = [(y - x) if x is not None and y is not None else None for x, y in itertools.pairwise(ends)]
        lines.append(f"  CUDA Total Allocated at step ends: {ends}")
        lines.append(f"  growth between consecutive step ends (B): {growth}")
        lines.append(f"  net CUDA Bytes per step (sum of Bytes): {nets}")
        if ends and ends[0] is not None and ends[-1] is not None:
            lines.append(f"  last - first step end: {ends[-1] - ends[0]} B over {len(ends) - 1} steps")
        summary["mem_ends"] = ends

    # ---- preprocess annotation
    pre = sorted(
        (
            e
            for e in ev
            if e.get("ph") == "X" and e.get("name") == "preprocess" and e.get("cat") != "gpu_user_annotation"
        ),
        key=lambda e: float(e["ts"]),
    )
    if pre:
        pd = [ns(e["dur"]) for e in pre]
        lines.append(
            f"preprocess (cat {dict(Counter(e.get('cat') for e in pre))}): {len(pre)} events; "
            f"in steps: {[step_of(float(e['ts'])) for e in pre]}"
        )
        lines.append(f"preprocess dur ns: {pd}")
        lines.append(f"preprocess dur ns: median {_med(pd)}, min {min(pd)}, max {max(pd)}")
        share = [round(p / s, 4) for p, s in zip(pd, step_dur, strict=False)]
        lines.append(f"preprocess / step CPU dur per step: {share}")
    return lines, summary


def verify(path: str) -> str:
    """Re-parse the written trace with plain json/gzip; return a truth report."""
    try:
        return "\n".join(analyze(path)[0])
    except Exception:  # report, don't lose the other recordings
        return f"== {path}: VERIFY FAILED\n{traceback.format_exc()}"


def compare_decode(outdir: str) -> str:
    """Eager vs graph: same kernels per step? medians side by side."""
    try:
        _, se = analyze(os.path.join(outdir, "decode_eager.pt.trace.json.gz"))
        _, sg = analyze(os.path.join(outdir, "decode_graph.pt.trace.json.gz"))
    except Exception:
        return f"== decode comparison FAILED\n{traceback.format_exc()}"
    ke = [s["kernels"] for s in se["steps"]]
    kg = [s["kernels"] for s in sg["steps"]]
    lines = ["== decode_eager vs decode_graph"]
    lines.append(f"kernels per step eager: {[len(k) for k in ke]}")
    lines.append(f"kernels per step graph: {[len(k) for k in kg]}")
    if ke and kg:
        lines.append(f"same ordered kernel names (first steps): {ke[0] == kg[0]}")
        lines.append(f"same kernel-name multiset (first steps): {Counter(ke[0]) == Counter(kg[0])}")
        if Counter(ke[0]) != Counter(kg[0]):
            lines.append(f"  only eager: {dict(Counter(ke[0]) - Counter(kg[0]))}")
            lines.append(f"  only graph: {dict(Counter(kg[0]) - Counter(ke[0]))}")
    lines.append(f"median step CPU dur ns: eager {se['median_step_ns']}, graph {sg['median_step_ns']}")
    if sg["median_step_ns"]:
        lines.append(f"eager / graph median: {se['median_step_ns'] / sg['median_step_ns']:.3f}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if recording.ran_one(argv, record):
        return 0
    outdir = recording.out_folder(argv, __doc__)
    if outdir is None:
        return 2
    report = [recording.env_report(f", numpy {np.__version__}")]
    rc = 0
    for name in RECORDINGS:  # each recording in a fresh process
        r = subprocess.run(
            recording.one_recording(__file__, name, outdir),
            stdout=subprocess.PIPE,
            text=True,
        )
        print(r.stdout, end="", flush=True)
        notes = [ln for ln in r.stdout.splitlines() if not ln.endswith(".pt.trace.json.gz")]
        if notes:
            report.append(f"-- {name} recording process said:\n" + "\n".join(notes))
        if r.returncode != 0:
            rc = 1
            report.append(f"== {name}: recording FAILED (rc {r.returncode})")
            continue
        report.append(verify(os.path.join(outdir, f"{name}.pt.trace.json.gz")))
    report.append(compare_decode(outdir))
    recording.write_truth(outdir, report)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv))
