"""Benchmark: the Kineto reader and `tracekit analyze` (HTML on) against the floor, a bare msgspec typed
decode of the same file, on tiled traces of 0.1, 1 and 5 GB (and 10 GB with --ten).

    .venv/bin/python bench/bench_kineto.py [--sizes 0.1,1,5] [--ten] [--repeat 2] [--dir DIR] [--keep]
        [--before REV | --before-dir DIR] [--source TRACE]

Traces are made by bench/make_large_trace.py in DIR (default: a new folder under the temporary
directory), deleted at the end unless --keep. Each measurement runs in a fresh subprocess, interleaved
(floor, read, analyze, floor, ...); wall time is taken around the process, CPU time and the largest
single-process RSS come from os.wait4 (workers the child waited for included; Linux counts the bench's
own RSS at the fork in it, so the bench keeps little), and the peak RSS of the whole process tree (the
child, its reader workers and what-if helpers, summed; RSS and PSS, which splits the pages a forked
helper shares with its parent) is sampled from /proc every 20 ms. `--before REV` adds `analyze`
with the tracekit package of git revision REV (extracted beside the traces), interleaved with the
others, for before/after numbers under the same load (`--before-dir DIR`: the package DIR/tracekit,
extracted beforehand, on a machine without git). The
best time and the largest RSS of the runs count. Results: printed, and bench/data/kineto_result.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

import bench_analyze  # noqa: E402  (sibling scripts, importable once bench/ is on the path)
import make_large_trace  # noqa: E402

RESULT_PATH = make_large_trace.DATA_DIR / "kineto_result.json"
TIME_RATIO_TARGET = 1.5  # analyze (HTML on) / floor
RSS_TARGET_BYTES = 2e9
"""Peak memory of analyze on the 10 GB trace: of its largest process (RSS) and of its whole tree (PSS;
summed RSS counts a page that 16 forked step helpers share with their parent 16 times)."""
THROUGHPUT_TARGET = 150e6  # bytes/s of analyze on the ~480 MB trace
SAMPLE_S = 0.02
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
"""Set to 1 by the command before numpy is imported (tracekit/cli/entry.py), and so in `read`'s child."""


@dataclass
class Runs:
    """The runs of one command on one trace."""

    name: str
    command: list[str]
    cwd: str = str(REPO)  # `python -m tracekit` imports the tracekit of this folder
    wall_s: list[float] = field(default_factory=list)
    cpu_s: list[float] = field(default_factory=list)
    rss_bytes: list[int] = field(default_factory=list)  # largest single process (ru_maxrss)
    tree_rss_bytes: list[int] = field(default_factory=list)  # sampled peak of the process tree
    tree_pss_bytes: list[int] = field(default_factory=list)  # the same, shared pages split (PSS)

    def best(self) -> dict[str, float]:
        return {
            "wall_s": min(self.wall_s),
            "cpu_s": min(self.cpu_s),
            "rss_bytes": max(self.rss_bytes),
            "tree_rss_bytes": max(self.tree_rss_bytes),
            "tree_pss_bytes": max(self.tree_pss_bytes),
        }


def read_only(path: Path) -> None:
    """The child of the `read` measurement: read_trace alone, numpy's BLAS set as the command sets it."""
    for variable in BLAS_THREADS:
        os.environ.setdefault(variable, "1")
    from tracekit.readers import read_trace

    began = time.perf_counter()
    rows = read_trace(path).events.num_rows
    print(json.dumps({"read_s": time.perf_counter() - began, "rows": rows}))


def tree_memory(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of a process and all its descendants, summed, in bytes (0 once they are gone): RSS
    counts a page a forked helper shares with its parent once in each, PSS splits it between them (the
    memory the tree holds)."""
    rss, pss, pending = 0, 0, [pid]
    while pending:
        current = pending.pop()
        try:
            rollup = _kib_fields(Path(f"/proc/{current}/smaps_rollup").read_text())
            rss, pss = rss + rollup["Rss"], pss + rollup["Pss"]
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, KeyError, ValueError):
            continue
    return rss, pss


def _kib_fields(text: str) -> dict[str, int]:
    """The `Name: N kB` lines of a /proc file, in bytes."""
    fields = (line.split() for line in text.splitlines())
    return {f[0].rstrip(":"): int(f[1]) << 10 for f in fields if len(f) == 3 and f[2] == "kB"}


def run_once(command: list[str], cwd: str = str(REPO)) -> tuple[float, float, int, tuple[int, int]]:
    """(wall s, CPU s, ru_maxrss bytes, the tree's peak (RSS, PSS) bytes) of one run; raises when it
    fails."""
    with tempfile.TemporaryFile() as err:
        began = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, cwd=cwd)
        peak = [0, 0]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[:] = map(max, peak, tree_memory(process.pid))
                done.wait(SAMPLE_S)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - began
        done.set()
        sampler.join()
        if os.waitstatus_to_exitcode(status) != 0:
            err.seek(0)
            raise RuntimeError(f"{' '.join(command)} failed: {err.read().decode(errors='replace')[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, (peak[0], peak[1])


def commands(trace: Path, out: Path, floor: bool, analyze: bool, before: Path | None = None) -> list[Runs]:
    """The floor (unless too large to hold), the reader alone, and analyze with JSON and HTML (and
    with the tracekit of `before`, another revision, when given)."""
    python = sys.executable
    runs = [Runs("read", [python, __file__, "--read-only", str(trace)])]
    if analyze:
        command = [python, "-m", "tracekit", "analyze", str(trace), "--json", str(out / "a.json")]
        runs.append(Runs("analyze", [*command, "--html", str(out / "a.html")]))
        if before is not None:
            runs.append(Runs("before", [*command, "--html", str(out / "a.html")], str(before)))
    if floor:
        runs.insert(0, Runs("floor", [python, bench_analyze.__file__, "--decode-only", str(trace)]))
    return runs


def measure(runs: list[Runs], repeat: int) -> None:
    for i in range(repeat):
        for r in runs:
            wall, cpu, rss, (tree, tree_pss) = run_once(r.command, r.cwd)
            r.wall_s.append(wall)
            r.cpu_s.append(cpu)
            r.rss_bytes.append(rss)
            r.tree_rss_bytes.append(tree)
            r.tree_pss_bytes.append(tree_pss)
            line = f"  {r.name:<8} run {i + 1}/{repeat}: {wall:7.2f} s, CPU {cpu:7.2f} s"
            line += f", RSS {rss / 1e6:6.0f} MB (tree {tree / 1e6:6.0f} MB, PSS {tree_pss / 1e6:6.0f} MB)"
            print(line, flush=True)


def bench_size(
    size_gb: float,
    folder: Path,
    repeat: int,
    keep: bool,
    analyze: bool,
    before: Path | None = None,
    source: Path | None = None,
) -> dict[str, object]:
    """Make a trace of about `size_gb` GB (tiling `source`, else make_large_trace's own), measure it,
    delete it unless `keep`."""
    tiled = f"{source.name.split('.')[0]}_" if source else ""
    trace = folder / f"tiled_{tiled}{size_gb:g}gb.pt.trace.json"
    if not trace.exists():  # in a child: a child's peak RSS counts its parent's at the fork
        make = [sys.executable, make_large_trace.__file__, "--size-mb", str(size_gb * 1000)]
        make += ["--source", str(source)] if source else []
        subprocess.run([*make, "--out", str(trace)], check=True, cwd=REPO)
    size = trace.stat().st_size
    floor = size < 6e9  # a bare decode of 10 GB holds ~20 GB of objects: more than this machine has
    out = Path(tempfile.mkdtemp(prefix="tracekit-bench-out-"))
    try:
        runs = commands(trace, out, floor, analyze, before)
        print(f"{trace.name}: {size / 1e9:.2f} GB, {repeat} run(s) each", flush=True)
        measure(runs, repeat)
    finally:
        shutil.rmtree(out, ignore_errors=True)
        if not keep:
            trace.unlink()
    best = {r.name: r.best() for r in runs}
    return {"size_gb": size_gb, "bytes": size, "runs": [asdict(r) for r in runs], "best": best}


def checkout(revision: str, folder: Path) -> Path:
    """The `tracekit` package of a git revision, extracted into a new folder under `folder`."""
    target = Path(tempfile.mkdtemp(prefix="tracekit-before-", dir=folder))
    archive = subprocess.run(
        ["git", "archive", revision, "tracekit"], cwd=REPO, capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target


def verdicts(result: dict[str, object]) -> list[str]:
    """One line per target met or missed, with the measured value."""
    lines = []
    for size in result["sizes"]:
        best = size["best"]
        measured = "analyze" if "analyze" in best else "read"
        analyze = best[measured]
        mbps = size["bytes"] / analyze["wall_s"] / 1e6
        line = f"{size['bytes'] / 1e9:6.2f} GB: {measured} {analyze['wall_s']:7.2f} s ({mbps:4.0f} MB/s)"
        if "floor" in best:
            ratio = analyze["wall_s"] / best["floor"]["wall_s"]
            cpu_ratio = analyze["cpu_s"] / best["floor"]["cpu_s"]
            line += f", {ratio:.2f}x the floor (CPU {cpu_ratio:.2f}x"
            if measured == "analyze":  # the target is end to end; the reader alone is for information
                verdict = "PASS" if ratio <= TIME_RATIO_TARGET else "FAIL"
                line += f"; target <= {TIME_RATIO_TARGET}x) {verdict}"
            else:
                line += ")"
        tree, pss = analyze["tree_rss_bytes"] / 1e9, analyze["tree_pss_bytes"] / 1e9
        line += f", tree RSS {tree:.2f} GB (PSS {pss:.2f})"
        line += f", read alone {best['read']['wall_s']:.2f} s"
        if "before" in best:
            line += f"; before: {best['before']['wall_s']:.2f} s, CPU {best['before']['cpu_s']:.2f} s"
        if size["bytes"] >= 9e9:
            met = max(analyze["rss_bytes"], analyze["tree_pss_bytes"]) <= RSS_TARGET_BYTES
            largest = analyze["rss_bytes"] / 1e9
            line += f" (largest process {largest:.2f} GB, tree PSS {pss:.2f} GB; target <= 2 GB:"
            line += f" {'PASS' if met else 'FAIL'})"
        lines.append(line)
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="0.1,1,5", help="trace sizes in GB (10^9 B), comma-separated")
    parser.add_argument("--ten", action="store_true", help="also a 10 GB trace (needs ~11 GB of disk)")
    parser.add_argument("--repeat", type=int, default=2, help="runs per command")
    parser.add_argument("--dir", type=Path, default=None, help="where the traces are made")
    parser.add_argument("--keep", action="store_true", help="keep the traces")
    parser.add_argument("--analyze-up-to", type=float, default=100.0, help="GB; larger traces: reader only")
    parser.add_argument(
        "--before", metavar="REV", help="also analyze with the tracekit of git revision REV, interleaved"
    )
    parser.add_argument(
        "--before-dir",
        type=Path,
        metavar="DIR",
        help="the same with DIR/tracekit, a package extracted beforehand (where git is missing)",
    )
    parser.add_argument(
        "--source", type=Path, help="the trace to tile (default: make_large_trace.py's, a V100 ResNet-50)"
    )
    parser.add_argument("--read-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.read_only:
        read_only(args.read_only)
        return 0
    sizes = [float(s) for s in args.sizes.split(",") if s] + ([10.0] if args.ten else [])
    folder = args.dir or Path(tempfile.mkdtemp(prefix="tracekit-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": bench_analyze.machine(),
        "revision": bench_analyze.revision(),
        "load_average": os.getloadavg(),
        "sizes": [],
    }
    before = checkout(args.before, folder) if args.before else args.before_dir
    if args.before:
        result["before"] = bench_analyze._git("rev-parse", "--short", args.before)
    elif before is not None:
        result["before"] = str(before)
    for size in sizes:
        repeat = 1 if size >= 5 else args.repeat
        analyze = size <= args.analyze_up_to
        result["sizes"].append(bench_size(size, folder, repeat, args.keep, analyze, before, args.source))
    if args.before:
        shutil.rmtree(before, ignore_errors=True)
    if not args.keep and args.dir is None:
        shutil.rmtree(folder, ignore_errors=True)
    print("\n".join(verdicts(result)))
    RESULT_PATH.parent.mkdir(parents=True, exist_ok=True)
    RESULT_PATH.write_text(json.dumps(result, indent=2) + "\n")
    print(f"result written to {RESULT_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
