"""Make a Kineto trace whose steps each launch N device operations, for the replay benchmark.

Each step is one host thread driving two streams, the shapes an LLM decode step shows: per
operation a CPU operator (`aten::mm`) around a launch call and its kernel; every COPY_EVERY-th
operation an H2D copy (pageable) issued by `aten::to`; every SYNC_EVERY-th a `.item()` read
(`aten::item` around a D2H copy and a `cudaStreamSynchronize`); every SIDE_EVERY-th kernel on a
second stream that the next kernel of the main stream waits for; a data-dependent `aten::nonzero`
now and then. Durations come from a seeded generator, so a trace is the same on every run.

    python bench/make_step_trace.py --ops 16000 --steps 4 --out bench/data/steps16k.pt.trace.json
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

PID, TID, DEVICE, MAIN, SIDE = 100, 100, 0, 7, 8
COPY_EVERY, SYNC_EVERY, SIDE_EVERY, NONZERO_EVERY = 50, 500, 20, 1000
STEP_GAP_US = 50


@dataclass
class _Writer:
    """Events of the trace being built, with the next correlation id and each stream's end (µs)."""

    rng: random.Random
    events: list[dict] = field(default_factory=list)
    correlation: int = 0
    stream_end: dict[int, float] = field(default_factory=lambda: {MAIN: 0.0, SIDE: 0.0})

    def host(self, cat: str, name: str, ts: float, dur: float, args: dict | None = None) -> None:
        self.events.append({"ph": "X", "cat": cat, "name": name, "pid": PID, "tid": TID,
                            "ts": round(ts, 3), "dur": round(dur, 3), "args": args or {}})  # fmt: skip

    def launch(self, call: str, cat: str, name: str, ts: float, dur: float, stream: int, **args) -> float:
        """A launch call at ts and the device operation it issues; returns the operation's end."""
        self.correlation += 1
        self.host("cuda_runtime", call, ts, 2.0, {"correlation": self.correlation})
        start = max(ts + 4.0, self.stream_end[stream] + 1.0)
        self.events.append({"ph": "X", "cat": cat, "name": name, "pid": DEVICE, "tid": stream,
                            "ts": round(start, 3), "dur": round(dur, 3),
                            "args": {"device": DEVICE, "stream": stream, "correlation": self.correlation,
                                     **args}})  # fmt: skip
        self.stream_end[stream] = start + dur
        return start + dur


def _operation(w: _Writer, j: int, t: float) -> float:
    """Operation j of a step at host time t; returns the host time after it."""
    if j % SYNC_EVERY == SYNC_EVERY - 1:
        w.host("cpu_op", "aten::item", t, 30.0)
        end = w.launch("cudaMemcpyAsync", "gpu_memcpy", "Memcpy DtoH (Device -> Pageable)", t + 1, 1.5, MAIN,
                       bytes=4)  # fmt: skip
        wait = max(end, t + 4) - (t + 4)
        w.host("cuda_runtime", "cudaStreamSynchronize", t + 4, wait + 2.0)
        return t + 8 + wait
    if j % COPY_EVERY == COPY_EVERY - 1:
        w.host("cpu_op", "aten::to", t, 9.0)
        w.launch("cudaMemcpyAsync", "gpu_memcpy", "Memcpy HtoD (Pageable -> Device)", t + 1, 3.0, MAIN,
                 bytes=4096)  # fmt: skip
        return t + 10
    name = "aten::nonzero" if j % NONZERO_EVERY == NONZERO_EVERY // 2 else "aten::mm"
    stream = SIDE if j % SIDE_EVERY == SIDE_EVERY - 1 else MAIN
    w.host("cpu_op", name, t, 7.0)
    w.launch("cudaLaunchKernel", "kernel", f"gemm_{j % 7}", t + 1, w.rng.uniform(2.0, 12.0), stream)
    if stream == SIDE:
        w.stream_end[MAIN] = max(w.stream_end[MAIN], w.stream_end[SIDE])  # the next waits for it
    return t + 8


def step_events(ops: int, steps: int, seed: int = 0) -> list[dict]:
    """The trace's events: `steps` steps of `ops` device operations each."""
    w = _Writer(random.Random(seed))
    t = 0.0
    for n in range(1, steps + 1):
        begin = t
        for j in range(ops):
            t = _operation(w, j, t)
        t = max(t, *w.stream_end.values()) + STEP_GAP_US
        w.events.append({"ph": "X", "cat": "user_annotation", "name": f"ProfilerStep#{n}", "pid": PID,
                         "tid": TID, "ts": round(begin, 3), "dur": round(t - begin, 3),
                         "args": {}})  # fmt: skip
    return w.events


def write(out: Path, ops: int, steps: int, seed: int = 0) -> Path:
    """Write the trace as a Kineto JSON document."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"schemaVersion": 1, "traceEvents": step_events(ops, steps, seed)}))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=16_000, help="device operations per step")
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    print(write(args.out, args.ops, args.steps, args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
