"""Benchmark: `tracekit check` and `tracekit diff` on a pair of ~100 MB Kineto traces.

    .venv/bin/python bench/bench_check.py [--size-mb 100] [--repeat 2]

The pair: two runs of the same program (tests/data/gpu/h2d28_separate_run1 and _run2), each tiled in
time to --size-mb (bench/make_large_trace.py; kept in bench/data/). Each command runs in a fresh
process, `--repeat` times, interleaved with the floor: the bare typed decode of both files one after
the other (bench/bench_analyze.py's decode, the least any reader can do). Wall time, CPU time
(user + sys, worker processes included) and peak RSS (the largest process) per command; the best
time and the largest RSS count. Writes bench/data/bench_check.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

import bench_analyze  # noqa: E402  (sibling scripts)
import make_large_trace  # noqa: E402

RESULT_PATH = make_large_trace.DATA_DIR / "bench_check.json"
SOURCES = {"base": "h2d28_separate_run2", "new": "h2d28_separate_run1"}
TARGET_S = 5.0  # tracekit check on two 100 MB traces


def ensure_pair(size_mb: float) -> dict[str, Path]:
    """The two tiled traces, made when missing."""
    pair = {}
    for role, name in SOURCES.items():
        path = make_large_trace.DATA_DIR / f"{name}.{size_mb:g}mb.pt.trace.json"
        if not path.is_file():
            make_large_trace.make(path, size_mb, REPO / f"tests/data/gpu/{name}.pt.trace.json.gz")
        pair[role] = path
    return pair


def both_decodes(paths: list[Path]) -> None:
    """The floor's child: decode each file in turn."""
    for path in paths:
        bench_analyze.decode_only(path)


def commands(pair: dict[str, Path]) -> list[bench_analyze.Measurement]:
    python, base, new = sys.executable, str(pair["base"]), str(pair["new"])
    floor = [python, __file__, "--decode-only", base, new]
    return [
        bench_analyze.Measurement("bare decode of both", floor),
        bench_analyze.Measurement(
            "tracekit check", [python, "-m", "tracekit", "check", new, "--baseline", base]
        ),
        bench_analyze.Measurement("tracekit diff", [python, "-m", "tracekit", "diff", base, new]),
    ]


def measure(measurements: list[bench_analyze.Measurement], repeat: int) -> None:
    """Each command `repeat` times, interleaved; check's exit 1 (a regression found) is a result."""
    for i in range(repeat):
        for m in measurements:
            with tempfile.TemporaryFile() as out:
                start = time.perf_counter()
                process = subprocess.Popen(m.command, stdout=out, stderr=subprocess.DEVNULL, cwd=REPO)
                _, status, usage = os.wait4(process.pid, 0)
                wall = time.perf_counter() - start
            if os.waitstatus_to_exitcode(status) not in (0, 1):
                raise RuntimeError(f"{' '.join(m.command)} exited {os.waitstatus_to_exitcode(status)}")
            m.wall_s.append(wall)
            m.cpu_s.append((usage.ru_utime, usage.ru_stime))
            m.peak_rss_bytes.append(usage.ru_maxrss * 1024)
            print(f"  {m.name:<22} run {i + 1}/{repeat}: {wall:6.2f} s", flush=True)


def summary(pair: dict[str, Path], measurements: list[bench_analyze.Measurement]) -> str:
    sizes = ", ".join(f"{role} {path.stat().st_size / 1e6:.0f} MB" for role, path in pair.items())
    floor = measurements[0].best_s
    rows = [f"pair: {sizes}", f"{'command':<22}{'best s':>8}{'x floor':>9}{'CPU s':>8}{'RSS MB':>8}"]
    for m in measurements:
        cpu = min(user + system for user, system in m.cpu_s)
        rows.append(f"{m.name:<22}{m.best_s:>8.2f}{m.best_s / floor:>9.2f}{cpu:>8.2f}{m.max_rss / 1e6:>8.0f}")
    check = measurements[1].best_s
    rows.append(
        f"check {check:.2f} s (target <= {TARGET_S:.0f} s: {'met' if check <= TARGET_S else 'MISSED'})"
    )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=100.0)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--decode-only", type=Path, nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.decode_only:
        both_decodes(args.decode_only)
        return 0
    pair = ensure_pair(args.size_mb)
    measurements = commands(pair)
    measure(measurements, args.repeat)
    print(summary(pair, measurements))
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": bench_analyze.machine(),
        "revision": bench_analyze.revision(),
        "pair": {role: {"path": str(p), "bytes": p.stat().st_size} for role, p in pair.items()},
        "measurements": [{**asdict(m), "best_s": m.best_s, "max_rss_bytes": m.max_rss} for m in measurements],
    }
    RESULT_PATH.parent.mkdir(parents=True, exist_ok=True)
    RESULT_PATH.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
