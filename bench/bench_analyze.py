"""Benchmark: end-to-end `tracekit analyze` on a large trace, next to a bare typed decode of it.

    make bench            # or: .venv/bin/python bench/bench_analyze.py [--trace FILE] [--repeat 2]

Each measurement runs in a fresh subprocess; wall time is taken around the process (interpreter
start, imports, reading the file included) and peak RSS is the child's own ru_maxrss, from
os.wait4. Every measurement runs `--repeat` times; the best time and the largest RSS are kept.
The result is printed as a table and written to bench/data/last_result.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import msgspec

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import make_large_trace  # noqa: E402  (sibling script, importable once bench/ is on the path)

RESULT_PATH = make_large_trace.DATA_DIR / "last_result.json"
TIME_RATIO_TARGET = 2.0  # end-to-end wall time / bare decode wall time
RSS_TARGET_BYTES = 1.5e9  # 1.5 GB peak RSS of the end-to-end run
MIN_TRACE_BYTES = 400e6


@dataclass
class Measurement:
    """Best wall time and largest peak RSS over the runs of one command."""

    name: str
    command: list[str]
    wall_s: list[float]
    peak_rss_bytes: list[int]
    child_report: dict[str, object] | None = None

    @property
    def best_s(self) -> float:
        return min(self.wall_s)

    @property
    def max_rss(self) -> int:
        return max(self.peak_rss_bytes)


# --- the bare decode (runs in the child) -----------------------------------------------------------


IntOrStr = int | str | None


class _Args(msgspec.Struct, gc=False):
    device: IntOrStr = None
    stream: IntOrStr = None
    correlation: IntOrStr = None
    bytes: IntOrStr = None
    external_id: IntOrStr = msgspec.field(name="External id", default=None)
    external_id_2021: IntOrStr = msgspec.field(name="external id", default=None)


class _Event(msgspec.Struct, gc=False):
    """The fields tracekit decodes, with its types (mirrors tracekit.readers.kineto._Event)."""

    ph: str = ""
    cat: str = ""
    name: str = ""
    pid: IntOrStr = None
    tid: IntOrStr = None
    ts: float = 0.0
    dur: float = 0.0
    args: _Args | None = None


class _Document(msgspec.Struct, gc=False):
    traceEvents: list[_Event] = []


def decode_only(path: Path) -> None:
    """Read the file and decode it with the typed Structs above; print timings as JSON.

    The types are defined here, not imported from tracekit, so the baseline imports msgspec only.
    """
    t0 = time.perf_counter()
    data = path.read_bytes()
    t1 = time.perf_counter()
    events = msgspec.json.decode(data, type=_Document).traceEvents
    t2 = time.perf_counter()
    spans = sum(1 for e in events if e.ph == "X")
    print(json.dumps({"read_s": t1 - t0, "decode_s": t2 - t1, "events": len(events), "x_events": spans}))


# --- measuring (runs in the parent) --------------------------------------------------------------


def run_once(command: list[str]) -> tuple[float, int, str]:
    """Run a command; (wall seconds, peak RSS bytes of that child, its stdout's last line)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, cwd=BENCH_DIR.parent)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            err.seek(0)
            detail = err.read().decode(errors="replace")[-2000:]
            raise RuntimeError(f"{' '.join(command)} exited {process.returncode}: {detail}")
        out.seek(0)
        lines = out.read().decode(errors="replace").strip().splitlines()
    return wall, usage.ru_maxrss * 1024, lines[-1] if lines else ""  # ru_maxrss is in KiB on Linux


def measure(name: str, command: list[str], repeat: int) -> Measurement:
    """Run a command `repeat` times, printing each run."""
    result = Measurement(name, command, [], [])
    for i in range(repeat):
        wall, rss, last_line = run_once(command)
        result.wall_s.append(wall)
        result.peak_rss_bytes.append(rss)
        if last_line.startswith("{"):
            result.child_report = json.loads(last_line)
        print(f"  {name} run {i + 1}/{repeat}: {wall:6.2f} s, peak RSS {rss / 1e6:7.0f} MB", flush=True)
    return result


def ensure_trace(path: Path) -> Path:
    """The benchmark trace, created by tiling a real trace when missing."""
    if not path.is_file():
        make_large_trace.make(path)
    size = path.stat().st_size
    if size < MIN_TRACE_BYTES:
        print(f"warning: {path} is {size / 1e6:.0f} MB, below the {MIN_TRACE_BYTES / 1e6:.0f} MB bench size")
    return path


def machine() -> dict[str, object]:
    """What the numbers were measured on."""
    return {
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_bytes": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def _cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor()
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "")


def verdicts(decode: Measurement, analyze: Measurement) -> dict[str, object]:
    """The two targets, each with its measured value and pass/fail."""
    ratio = analyze.best_s / decode.best_s
    return {
        "time_ratio": ratio,
        "time_ratio_target": TIME_RATIO_TARGET,
        "time_pass": ratio <= TIME_RATIO_TARGET,
        "peak_rss_bytes": analyze.max_rss,
        "peak_rss_target_bytes": RSS_TARGET_BYTES,
        "rss_pass": analyze.max_rss <= RSS_TARGET_BYTES,
    }


def table(trace: Path, decode: Measurement, analyze: Measurement, verdict: dict[str, object]) -> str:
    """The printed summary."""
    events = (decode.child_report or {}).get("events")
    count = f"{events:,}" if isinstance(events, int) else "?"
    rows = [
        f"trace: {trace} ({trace.stat().st_size / 1e6:.1f} MB, {count} events)",
        f"{'measurement':<24}{'best wall s':>12}{'peak RSS MB':>13}",
        f"{decode.name:<24}{decode.best_s:>12.2f}{decode.max_rss / 1e6:>13.0f}",
        f"{analyze.name:<24}{analyze.best_s:>12.2f}{analyze.max_rss / 1e6:>13.0f}",
        f"time  analyze / decode = {verdict['time_ratio']:.2f}x  (target <= {TIME_RATIO_TARGET:.1f}x)  "
        f"{_pass(verdict['time_pass'])}",
        f"RSS   analyze peak     = {analyze.max_rss / 1e9:.2f} GB  "
        f"(target <= {RSS_TARGET_BYTES / 1e9:.1f} GB)  {_pass(verdict['rss_pass'])}",
    ]
    return "\n".join(rows)


def _pass(ok: object) -> str:
    return "PASS" if ok else "FAIL"


def save(trace: Path, measurements: list[Measurement], verdict: dict[str, object]) -> None:
    """Write the machine-readable result."""
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "trace": {"path": str(trace), "bytes": trace.stat().st_size},
        "machine": machine(),
        "measurements": [{**asdict(m), "best_s": m.best_s, "max_rss_bytes": m.max_rss} for m in measurements],
        "targets": verdict,
    }
    RESULT_PATH.parent.mkdir(parents=True, exist_ok=True)
    RESULT_PATH.write_text(json.dumps(result, indent=2) + "\n")
    print(f"result written to {RESULT_PATH}")


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; exit 1 only with --strict and a missed target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trace", type=Path, default=make_large_trace.DEFAULT_OUT, help="trace to analyse")
    parser.add_argument("--repeat", type=int, default=2, help="runs per measurement")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--decode-only", type=Path, help=argparse.SUPPRESS)  # the child of the baseline
    args = parser.parse_args(argv)
    if args.decode_only:
        decode_only(args.decode_only)
        return 0
    trace = ensure_trace(args.trace.resolve())
    python = sys.executable
    print(f"benchmarking {trace.name}, {args.repeat} runs each", flush=True)
    decode = measure("bare typed decode", [python, __file__, "--decode-only", str(trace)], args.repeat)
    analyze = measure(
        "tracekit analyze", [python, "-m", "tracekit", "analyze", str(trace), "--no-json"], args.repeat
    )
    verdict = verdicts(decode, analyze)
    print(table(trace, decode, analyze, verdict))
    save(trace, [decode, analyze], verdict)
    return 1 if args.strict and not (verdict["time_pass"] and verdict["rss_pass"]) else 0


if __name__ == "__main__":
    sys.exit(main())
