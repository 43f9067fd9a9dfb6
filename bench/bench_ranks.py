"""Many ranks: `tracekit analyze DIR` over a local process pool (and a Dask cluster) against one rank
at a time, with the peak memory and CPU time of every process.

The ranks are copies of one tiled real trace (`make_large_trace.py`), each with its own
`distributedInfo` rank, written once to bench/data/ranks/ (git-ignored). Each measurement runs the
CLI as a child process on the whole folder: `--jobs 1` (one rank at a time, in-process), the same
with the reader on one core (`TRACEKIT_READ_JOBS=1`: a large Kineto file is otherwise decoded on
every core even one rank at a time), the default pool (every core), and with `--dask` a
LocalCluster of one single-threaded worker process per core through `--scheduler`. Peak memory
(VmHWM) and CPU time are polled from /proc while it runs. Every mode's JSON must equal the first
mode's, byte for byte.

    python bench/bench_ranks.py [--ranks 8] [--size-mb 100] [--repeat 1] [--dask]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))

from bench.make_large_trace import default_source, load, tiles_for, write  # noqa: E402

DATA_DIR = BENCH_DIR / "data"
RANKS_DIR = DATA_DIR / "ranks"
RESULT = DATA_DIR / "ranks_result.json"
TARGET_RATIO = 0.6  # pool time / one-rank-at-a-time time, on 2 cores
POLL_S = 0.05
READ_JOBS_ENV = "TRACEKIT_READ_JOBS"  # 1: a large Kineto file is decoded in one process, not on every core


def make_ranks(ranks: int, size_mb: float) -> list[Path]:
    """rank0..rank{N-1}.pt.trace.json, each the tiled trace with its own distributedInfo."""
    doc, prefix = load(default_source())
    tiles = tiles_for(doc, size_mb)
    paths = []
    for rank in range(ranks):
        path = RANKS_DIR / f"rank{rank}.pt.trace.json"
        if not path.exists():
            doc["distributedInfo"] = {"backend": "nccl", "rank": rank, "world_size": ranks}
            events, size = write(doc, tiles, path, prefix)
            print(f"wrote {path.name}: {events:,} events, {size / 1e6:.1f} MB", flush=True)
        paths.append(path)
    return paths


@dataclass
class Peaks:
    """Peak resident memory (VmHWM, bytes) and CPU time (s) of every process seen, with its command
    line and the tree it was seen in (`cli`: the analyze process and its pool workers; `cluster`:
    the rest)."""

    by_pid: dict[int, tuple[str, str, int]] = field(default_factory=dict)
    cpu: dict[int, tuple[float, float]] = field(default_factory=dict)  # first and last seen

    def sample(self, root: int, tree: str) -> None:
        for pid in _tree(root):
            peak = _vm_hwm(pid)
            seen = self.by_pid.get(pid)
            if peak and seen is None:
                self.by_pid[pid] = (tree, _cmdline(pid), peak)
            elif peak:
                self.by_pid[pid] = (seen[0], seen[1], max(peak, seen[2]))
            now = _cpu_s(pid)  # 0 once the process is gone: its last reading stands
            first, last = self.cpu.get(pid, (now, now))
            self.cpu[pid] = (first, max(last, now))

    def cpu_s(self, pid: int) -> float:
        """CPU time the process used while watched (Dask workers outlive one run)."""
        first, last = self.cpu.get(pid, (0.0, 0.0))
        return last - first


def _tree(root: int) -> list[int]:
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        for task in Path(f"/proc/{pid}/task").glob("*/children"):  # children of every thread
            try:
                todo += [int(child) for child in task.read_text().split()]
            except OSError:
                continue
    return pids


def _vm_hwm(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _cpu_s(pid: int) -> float:
    """User + system CPU time of the process so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:200]
    except OSError:
        return ""


def run_analyze(folder: Path, out: Path, extra: list[str], cluster: bool, env: dict[str, str]) -> dict:
    """One `tracekit analyze` of the folder: wall time, and the peak memory of the CLI process and
    of its largest worker (pool workers are its children; Dask workers are this process's)."""
    command = [sys.executable, "-m", "tracekit", "analyze", str(folder), "--no-html", "--json", str(out)]
    command += extra
    peaks, done = Peaks(), threading.Event()
    start = time.perf_counter()
    environment = {**os.environ, **env}
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=environment)

    def poll() -> None:
        while not done.is_set():
            peaks.sample(child.pid, "cli")
            if cluster:
                peaks.sample(os.getpid(), "cluster")
            time.sleep(POLL_S)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    _, stderr = child.communicate()
    wall = time.perf_counter() - start
    done.set()
    poller.join()
    if child.returncode:
        raise SystemExit(f"analyze failed ({child.returncode}): {stderr.decode()[-500:]}")
    main = peaks.by_pid.get(child.pid, ("", "", 0))[2]
    wanted = "cluster" if cluster else "cli"
    own = (child.pid, os.getpid())
    workers = [pid for pid, (tree, name, _) in peaks.by_pid.items()
               if tree == wanted and pid not in own and _is_worker(name, cluster)]  # fmt: skip
    worker_peak = max((peaks.by_pid[pid][2] for pid in workers), default=0)
    worker_cpu = [peaks.cpu_s(pid) for pid in workers]
    return {"wall_s": wall, "main_peak_mb": main / 1e6, "worker_peak_mb": worker_peak / 1e6,
            "workers_seen": len(workers), "main_cpu_s": peaks.cpu_s(child.pid),
            "worker_cpu_s": sorted(worker_cpu, reverse=True)}  # fmt: skip


def _is_worker(cmdline: str, cluster: bool) -> bool:
    """A pool worker (a forked child of the CLI), or a Dask worker (a spawned child of this process)."""
    if "resource_tracker" in cmdline:
        return False
    return "spawn_main" in cmdline if cluster else True


def outputs(out: Path) -> dict[str, bytes]:
    """The per-rank JSON files one run wrote (x.rank<N>.json), by rank label."""
    return {p.name.split(".")[1]: p.read_bytes() for p in sorted(out.parent.glob(f"{out.stem}.rank*.json"))}


def best(runs: list[dict]) -> dict:
    """The fastest run's time, the largest peaks over the runs."""
    return {
        "wall_s": min(r["wall_s"] for r in runs),
        "main_peak_mb": max(r["main_peak_mb"] for r in runs),
        "worker_peak_mb": max(r["worker_peak_mb"] for r in runs),
        "workers_seen": max(r["workers_seen"] for r in runs),
        "main_cpu_s": min(r["main_cpu_s"] for r in runs),
        "worker_cpu_s": min((r["worker_cpu_s"] for r in runs), key=sum),
    }


def measure(folder: Path, work: Path, repeat: int, dask: bool) -> dict[str, dict]:
    """Interleaved runs of each mode; every mode's JSON checked against the serial run's."""
    modes: dict[str, list[str]] = {
        "one rank at a time (--jobs 1)": ["--jobs", "1"],
        "one rank at a time, one core": ["--jobs", "1", f"{READ_JOBS_ENV}=1"],
        "local pool": [],
    }
    cluster = _local_cluster() if dask else None
    if cluster is not None:
        modes["Dask LocalCluster"] = ["--scheduler", cluster.scheduler_address]
    runs: dict[str, list[dict]] = {mode: [] for mode in modes}
    try:
        for _ in range(repeat):
            for index, (mode, extra) in enumerate(modes.items()):
                out = work / f"m{index}.json"
                options = [arg for arg in extra if "=" not in arg]
                env = dict(arg.split("=", 1) for arg in extra if "=" in arg)
                runs[mode].append(run_analyze(folder, out, options, "--scheduler" in extra, env))
                print(f"  {mode}: {runs[mode][-1]['wall_s']:.2f} s", flush=True)
    finally:
        if cluster is not None:
            cluster.close()
    serial = outputs(work / "m0.json")
    for index in range(1, len(modes)):
        if outputs(work / f"m{index}.json") != serial:
            raise SystemExit(f"{list(modes)[index]}: the JSON differs from the serial run's")
    return {mode: best(mode_runs) for mode, mode_runs in runs.items()}


def _local_cluster():
    from distributed import LocalCluster

    workers = os.cpu_count() or 1
    return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)


def commit() -> str:
    """The commit measured (with `+` when the tree has changes)."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], capture_output=True, text=True, cwd=BENCH_DIR).stdout.strip()

    changed = git("status", "--porcelain", "--", "tracekit")
    return git("rev-parse", "--short", "HEAD") + ("+" if changed else "")


def machine() -> dict[str, object]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())  # fmt: skip
    return {"cpus": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "commit": commit(),
            "load_average": os.getloadavg()}  # fmt: skip


def report(results: dict[str, dict], sizes: list[int]) -> dict:
    serial = results["one rank at a time (--jobs 1)"]["wall_s"]
    print(f"\n{len(sizes)} ranks, {sum(sizes) / 1e6:,.0f} MB in all ({min(sizes) / 1e6:.1f} MB each)")
    header = f"{'mode':32} {'wall':>8} {'vs serial':>9} {'main peak':>10} {'worker peak':>12}"
    print(f"{header} {'CPU main / workers':>20}")
    for mode, r in results.items():
        workers = "+".join(f"{cpu:.0f}" for cpu in r["worker_cpu_s"]) or "0"
        print(f"{mode:32} {r['wall_s']:7.2f}s {r['wall_s'] / serial:8.2f}x {r['main_peak_mb']:8.0f}MB "
              f"{r['worker_peak_mb']:10.0f}MB {r['main_cpu_s']:8.0f}s / {workers}s")  # fmt: skip
    ratio = results["local pool"]["wall_s"] / serial
    verdict = "PASS" if ratio <= TARGET_RATIO else "MISS"
    print(f"local pool / serial = {ratio:.2f} (target <= {TARGET_RATIO}): {verdict}")
    return {"machine": machine(), "rank_bytes": sizes, "results": results, "pool_ratio": ratio}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranks", type=int, default=8)
    parser.add_argument("--size-mb", type=float, default=100.0, help="size of each rank, MB (1e6 B)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each mode (best time kept)")
    parser.add_argument("--dask", action="store_true", help="also run on a Dask LocalCluster")
    args = parser.parse_args(argv)
    paths = make_ranks(args.ranks, args.size_mb)
    work = Path(tempfile.mkdtemp(prefix="bench_ranks_"))
    try:
        results = measure(RANKS_DIR, work, args.repeat, args.dask)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    summary = report(results, [p.stat().st_size for p in paths])
    RESULT.write_text(json.dumps(summary, indent=1) + "\n")
    print(f"numbers written to {RESULT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
