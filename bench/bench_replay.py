"""Benchmark: the what-if replay per step, for steps of 1k to 16k device operations.

    .venv/bin/python bench/bench_replay.py [--ops 1000 2000 4000 8000 16000] [--steps 3]

For each size a trace of `--steps` steps (bench/make_step_trace.py) is read in a fresh process,
which then times, per step (best of the steps): `build_step` (the replay model, from the step's
own rows), `replay_timeline` (the replay), `critical_path` (replay and walk, tracekit/analysis/
attribution.py), and the whole what-if block divided by the steps it replayed (every change, the
plan, calibration). The floor, in the same process: constructing the step's `Op` objects and
looping over them once, the least a Python replay of N operations costs. Linear means the cost per
operation stays flat from 1k to 16k. Times are CPU seconds of the process (process_time), so a
busy machine does not inflate them. Prints a table; writes bench/data/bench_replay.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(0, str(REPO))

import bench_analyze  # noqa: E402  (sibling scripts)
import make_step_trace  # noqa: E402

RESULT_PATH = BENCH_DIR / "data" / "bench_replay.json"
SIZES = (1000, 2000, 4000, 8000, 16000)
TARGET_S = 0.2  # a replayed step of 16k operations (build + replay)


def best(seconds: list[float]) -> float:
    return min(seconds)


def timed(function, *args) -> tuple[float, object]:
    """CPU seconds of the call (this process's own: on a shared machine, waiting for a core does
    not count) and its result."""
    start = time.process_time()
    result = function(*args)
    return time.process_time() - start, result


def measure_one(path: Path) -> dict[str, object]:
    """Per-step costs for the trace at `path` (run in its own process)."""
    from tracekit.analysis.attribution import critical_path
    from tracekit.analysis.columns import Columns
    from tracekit.analysis.replay import Op, replay_timeline
    from tracekit.analysis.step_model import build_step
    from tracekit.analysis.whatif import whatif_block
    from tracekit.model.steps import step_spans
    from tracekit.readers import read_trace

    trace = read_trace(path)
    table = trace.events
    cols = Columns.from_table(table)
    numbers, starts, ends = step_spans(table)
    cpu_start, wall_start = time.process_time(), time.perf_counter()
    build, replayed, walked, floor, ops = [], [], [], [], 0
    for number, start, end in zip(numbers.tolist(), starts.tolist(), ends.tolist(), strict=True):
        seconds, model = timed(build_step, table, cols, number, start, end)
        build.append(seconds)
        replayed.append(timed(replay_timeline, model)[0])
        walked.append(timed(critical_path, model, cols)[0])
        floor.append(timed(_floor, Op, len(model.rows))[0])
        ops = len(model.rows)
    whatif_s, block = timed(_whatif, whatif_block, table, cols)
    return {
        "ops": ops,
        "steps": len(numbers),
        "build_s": best(build),
        "replay_s": best(replayed),
        "critical_path_s": best(walked),
        "floor_s": best(floor),
        "whatif_per_step_s": whatif_s / max(block["steps_replayed"], 1),
        "cpu_s": time.process_time() - cpu_start,
        "wall_s": time.perf_counter() - wall_start,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }


def _whatif(whatif_block, table, cols) -> dict:
    """The what-if block of device 0, with every change the rules estimate."""
    try:
        from tracekit.rules import CHANGES
    except ImportError:  # before the rules name their changes
        return whatif_block(table, cols, 0)
    return whatif_block(table, cols, 0, changes=CHANGES)


def _floor(op_class, count: int) -> int:
    """Build `count` operations and loop over them once: a Python replay's least cost."""
    ops = [op_class(i, 7, i, 10, 1, 1, True) for i in range(count)]
    return sum(op.dur for op in ops)


def run_size(ops: int, steps: int, folder: Path) -> dict[str, object]:
    path = make_step_trace.write(folder / f"steps{ops}.pt.trace.json", ops, steps)
    out = subprocess.run(
        [sys.executable, __file__, "--one", str(path)], capture_output=True, text=True, check=True, cwd=REPO
    )
    return json.loads(out.stdout)


def table(rows: list[dict]) -> str:
    head = (f"{'ops':>6} {'build':>8} {'replay':>8} {'b+r':>8} {'us/op':>6} {'crit.path':>9} "
            f"{'what-if':>8} {'floor':>7} {'x floor':>7} {'RSS MB':>7}")  # fmt: skip
    lines = [head]
    for r in rows:
        step = r["build_s"] + r["replay_s"]
        lines.append(
            f"{r['ops']:>6} {r['build_s']:>8.4f} {r['replay_s']:>8.4f} {step:>8.4f} "
            f"{step / r['ops'] * 1e6:>6.2f} "
            f"{r['critical_path_s']:>9.4f} {r['whatif_per_step_s']:>8.3f} {r['floor_s']:>7.4f} "
            f"{step / r['floor_s']:>7.1f} {r['peak_rss_bytes'] / 1e6:>7.0f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)  # child: measure one trace
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(measure_one(args.one)))
        return 0
    with tempfile.TemporaryDirectory() as folder:
        rows = [run_size(n, args.steps, Path(folder)) for n in args.ops]
    print(table(rows))
    largest = rows[-1]
    step_s = largest["build_s"] + largest["replay_s"]
    per_op = [(r["build_s"] + r["replay_s"]) / r["ops"] for r in rows]
    print(f"\nlargest step: {largest['ops']} ops built and replayed in {step_s:.3f} s "
          f"(target < {TARGET_S} s: {'met' if step_s < TARGET_S else 'MISSED'}); "
          f"cost per op {max(per_op) / min(per_op):.2f}x from smallest to largest")  # fmt: skip
    RESULT_PATH.parent.mkdir(parents=True, exist_ok=True)
    machine = {"cpus": os.cpu_count(), "cpu_model": bench_analyze.machine()["cpu_model"],
               "python": platform.python_version()}  # fmt: skip
    date = datetime.now(UTC).isoformat(timespec="seconds")
    RESULT_PATH.write_text(json.dumps({"date": date, "machine": machine, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
