"""Benchmark: end-to-end `tracekit analyze` on a large trace, next to a bare typed decode of it.

    make bench            # or: .venv/bin/python bench/bench_analyze.py [--trace FILE] [--repeat 2]

Each measurement runs in a fresh subprocess; wall time is taken around the process (interpreter
start, imports and reading the file included) and peak RSS is that child's own ru_maxrss, from
os.wait4. Both commands run `--repeat` times, interleaved; the best time and the largest RSS count.
The result is printed as a table and written to bench/data/last_result.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import msgspec

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

import make_large_trace  # noqa: E402  (sibling script, importable once bench/ is on the path)

RESULT_PATH = make_large_trace.DATA_DIR / "last_result.json"
TIME_RATIO_TARGET = 2.0  # end-to-end wall time / bare decode wall time
RSS_TARGET_BYTES = 1.5e9  # peak RSS of the end-to-end run; GB = 1e9 bytes
MIN_TRACE_BYTES = 400e6
NONE = -1


@dataclass
class Measurement:
    """Wall times and peak RSS of the runs of one command; the best time and largest RSS count."""

    name: str
    command: list[str]
    wall_s: list[float] = field(default_factory=list)
    cpu_s: list[tuple[float, float]] = field(default_factory=list)  # (user, system) per run
    peak_rss_bytes: list[int] = field(default_factory=list)
    child_report: dict[str, object] | None = None

    @property
    def best_s(self) -> float:
        return min(self.wall_s)

    @property
    def max_rss(self) -> int:
        return max(self.peak_rss_bytes)


# --- the bare decode (runs in the child) -----------------------------------------------------------
# The same fields, types and defaults as tracekit.readers.kineto._Args/_Event/_Document, defined here so
# the baseline imports msgspec only; `decode_types_match` checks that the two stay in step.

IntOrStr = int | str | None
Loose = int | float | str | None


class _Args(msgspec.Struct, frozen=True, gc=False):
    device: Loose = NONE
    stream: Loose = NONE
    correlation: Loose = NONE
    bytes: Loose = NONE
    external_id: Loose = msgspec.field(name="External id", default=NONE)
    external_id_2021: Loose = msgspec.field(name="external id", default=NONE)
    device_type: Loose = msgspec.field(name="Device Type", default=NONE)
    device_id: Loose = msgspec.field(name="Device Id", default=NONE)
    size: Loose = msgspec.field(name="Bytes", default=0)
    total_allocated: Loose = msgspec.field(name="Total Allocated", default=NONE)
    input_dims: msgspec.Raw = msgspec.field(name="Input Dims", default=msgspec.Raw())
    input_type: msgspec.Raw = msgspec.field(name="Input type", default=msgspec.Raw())
    concrete_inputs: msgspec.Raw = msgspec.field(name="Concrete Inputs", default=msgspec.Raw())
    collective: Loose = msgspec.field(name="Collective name", default=None)
    in_nelems: Loose = msgspec.field(name="In msg nelems", default=None)
    out_nelems: Loose = msgspec.field(name="Out msg nelems", default=None)
    group_size: Loose = msgspec.field(name="Group size", default=None)
    dtype: Loose = None


_NO_ARGS = _Args()


class _Event(msgspec.Struct, gc=False):
    ph: str = ""
    cat: str = ""
    name: str = ""
    pid: IntOrStr = NONE
    tid: IntOrStr = NONE
    ts: int | float = math.nan
    dur: int | float = 0
    args: _Args = _NO_ARGS


class _Document(msgspec.Struct, gc=False):
    traceEvents: list[_Event] | None = None
    schemaVersion: Loose = None
    deviceProperties: msgspec.Raw = msgspec.Raw()
    distributedInfo: msgspec.Raw = msgspec.Raw()


def decode_only(path: Path) -> None:
    """Read the file and decode it with the typed Structs above; print timings as one JSON line."""
    t0 = time.perf_counter()
    data = path.read_bytes()
    t1 = time.perf_counter()
    events = msgspec.json.decode(data, type=_Document).traceEvents or []
    t2 = time.perf_counter()
    print(json.dumps({"read_s": t1 - t0, "decode_s": t2 - t1, "events": len(events)}))


def decode_types_match() -> bool | None:
    """True when the baseline decodes what tracekit decodes (None when tracekit cannot be imported)."""
    try:
        from tracekit.readers import kineto
    except ImportError:
        return None
    pairs = [(_Event, kineto._Event), (_Args, kineto._Args), (_Document, kineto._Document)]
    return all(_shape(mine) == _shape(theirs) for mine, theirs in pairs)


def _shape(struct: type) -> list[tuple[str, ...]]:
    """Options of the Struct, then encoded name, type, default and default factory of each field."""

    def plain(value: object) -> str:
        text = value.__qualname__ if isinstance(value, type) else repr(value)
        text = re.sub(r" at 0x[0-9a-f]+", "", text)  # msgspec.Raw defaults: equal whatever their address
        return re.sub(r"\b[\w.]+\.(?=\w)", "", text)

    config = struct.__struct_config__
    options = ("frozen", "gc", "array_like", "tag", "tag_field", "forbid_unknown_fields", "omit_defaults")
    return [tuple(plain(getattr(config, name)) for name in options)] + [
        (f.encode_name, plain(f.type), plain(f.default), plain(f.default_factory))
        for f in msgspec.structs.fields(struct)
    ]


# --- measuring (runs in the parent) --------------------------------------------------------------


def run_once(command: list[str]) -> tuple[float, resource.struct_rusage, str]:
    """Run a command; (wall seconds, the child's resource usage, last line of its stdout)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, cwd=REPO)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            err.seek(0)
            detail = err.read().decode(errors="replace")[-2000:]
            raise RuntimeError(f"{' '.join(command)} exited {process.returncode}: {detail}")
        out.seek(0)
        lines = out.read().decode(errors="replace").strip().splitlines()
    return wall, usage, lines[-1] if lines else ""


def measure(measurements: list[Measurement], repeat: int) -> None:
    """Run every command `repeat` times, interleaved (a, b, a, b) so slow spells hit both alike."""
    for i in range(repeat):
        for m in measurements:
            wall, usage, last_line = run_once(m.command)
            rss = usage.ru_maxrss * 1024  # KiB on Linux
            m.wall_s.append(wall)
            m.cpu_s.append((usage.ru_utime, usage.ru_stime))
            m.peak_rss_bytes.append(rss)
            if last_line.startswith("{"):
                m.child_report = json.loads(last_line)
            cpu = f"user {usage.ru_utime:5.2f} s, sys {usage.ru_stime:5.2f} s"
            line = f"  {m.name:<18} run {i + 1}/{repeat}: {wall:6.2f} s ({cpu}), RSS {rss / 1e6:5.0f} MB"
            print(line, flush=True)


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


def revision() -> str:
    """`git describe` of the tree measured, `-dirty` when tracekit/ has uncommitted changes."""
    try:
        head = _git("rev-parse", "--short", "HEAD")
        dirty = _git("status", "--porcelain", "--", "tracekit")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("-dirty" if dirty else "")


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()


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


def save(trace: Path, measurements: list[Measurement], verdict: dict[str, object], meta: dict) -> None:
    """Write the machine-readable result."""
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "trace": {"path": str(trace), "bytes": trace.stat().st_size},
        "machine": machine(),
        **meta,
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
    parser.add_argument("--decode-only", type=Path, help=argparse.SUPPRESS)  # the baseline's child
    args = parser.parse_args(argv)
    if args.decode_only:
        decode_only(args.decode_only)
        return 0
    trace = ensure_trace(args.trace.resolve())
    meta = {"revision": revision(), "decode_types_match_tracekit": decode_types_match()}
    if meta["decode_types_match_tracekit"] is False:
        print("warning: the baseline's Structs differ from tracekit.readers.kineto's; update bench/")
    print(f"benchmarking {trace.name} at {meta['revision']}, {args.repeat} runs each", flush=True)
    python = sys.executable
    decode = Measurement("bare typed decode", [python, __file__, "--decode-only", str(trace)])
    analyze = Measurement("tracekit analyze", [python, "-m", "tracekit", "analyze", str(trace), "--no-json"])
    measure([decode, analyze], args.repeat)
    verdict = verdicts(decode, analyze)
    print(table(trace, decode, analyze, verdict))
    save(trace, [decode, analyze], verdict, meta)
    return 1 if args.strict and not (verdict["time_pass"] and verdict["rss_pass"]) else 0


if __name__ == "__main__":
    sys.exit(main())
