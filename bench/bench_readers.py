"""Benchmark: each reader against its floor on generated files, in fresh processes, interleaved.

    .venv/bin/python bench/bench_readers.py [--formats kineto nsys ascend] [--sizes-mb 100 1000]
                                            [--rows 1e6 1e7] [--repeat 2] [--analyze]

Floors, measured in the same run on the same file:
- Kineto: a typed msgspec decode of traceEvents (bench_analyze.decode_only);
- nsys SQLite: a column fetch of every column the reader reads, through ADBC when
  adbc-driver-sqlite is installed (the `bench` extra), else sqlite3 fetchall into numpy;
- Ascend PROF_ tree: a typed msgspec decode of the timeline JSON plus pyarrow's CSV read of the
  op_summary files;
- Ascend DB (`ascend-db`, `--rows` only: a msprof_0.db of that many device tasks written by
  bench/make_ascend_db.py): the same column fetch as nsys, of every column the DB reader reads.
`--analyze` adds the whole Ascend analysis (read + `analyze`), against the same floor; nsys and the
Ascend DB are also read with ADBC's driver hidden (`sqlite3`: the path where adbc-driver-sqlite is missing).
Files are generated once under bench/data/readers/ (Kineto by tiling a real trace, nsys and Ascend by
`tracekit simulate`, bench/make_sim_trace.py). `--rows` sizes nsys and Ascend inputs by count
instead: an nsys export of that many rows in all (bench/make_nsys_export.py, numpy columns, far
faster than the simulator), an Ascend tree of about that many device tasks. Each run reports wall
time, CPU time (user + sys) and the child's peak RSS; the best wall time of `--repeat` runs
counts. Results go to bench/data/readers_result.json and are printed as a table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

import bench_analyze  # noqa: E402  (sibling script: run_once, machine, revision, decode_only)
import bench_kineto  # noqa: E402  (sibling script: checkout)
import make_large_trace  # noqa: E402

DATA = BENCH_DIR / "data" / "readers"
RESULT = BENCH_DIR / "data" / "readers_result.json"
BEFORE_ENV = "BENCH_TRACEKIT_ROOT"
"""Set in a child: the folder holding the `tracekit` package to read with (`--before`)."""
BYTES_PER_EVENT = {"nsys": 51, "ascend": 456}  # make_sim_trace output per simulated record
RECORDS_PER_DEVICE_TASK = 2.037  # case000's msprof output: 100,033 records, 49,118 device tasks
_DEVICE = "start, end, deviceId, streamId, globalPid, correlationId"
NSYS_COLUMNS = {  # what tracekit/readers/nsys/sqlite.py reads of each table
    "CUPTI_ACTIVITY_KIND_KERNEL": f"{_DEVICE}, demangledName, shortName",
    "CUPTI_ACTIVITY_KIND_MEMCPY": f"{_DEVICE}, bytes, copyKind, srcKind, dstKind",
    "CUPTI_ACTIVITY_KIND_MEMSET": f"{_DEVICE}, bytes, memKind",
    "CUPTI_ACTIVITY_KIND_RUNTIME": "start, end, globalTid, correlationId, nameId",
    "CUPTI_ACTIVITY_KIND_SYNCHRONIZATION": _DEVICE,
    "NVTX_EVENTS": "start, end, globalTid, text, textId, eventType",
    "StringIds": "id, value",
}  # fmt: skip
ASCEND_DB_COLUMNS = {  # what tracekit/readers/ascend/db.py reads of each table
    "TASK": "startNs, endNs, deviceId, connectionId, globalTaskId, taskType, streamId, taskId, contextId",
    "COMPUTE_TASK_INFO": "globalTaskId, name, taskType, opType, inputDataTypes, inputShapes, blockDim, "
    "mixBlockDim, opState, waitNs",
    "CANN_API": "startNs, endNs, type, globalTid, connectionId, name",
    "PYTORCH_API": "startNs, endNs, globalTid, name",
    "STRING_IDS": "id, value",
}
Scalar = int | float | str | None


class _FloorArgs(msgspec.Struct, frozen=True, gc=False):
    name: Scalar = None
    labels: Scalar = None
    task_type: Scalar = msgspec.field(name="Task Type", default=None)
    physic_stream: Scalar = msgspec.field(name="Physic Stream Id", default=None)
    stream: Scalar = msgspec.field(name="Stream Id", default=None)
    connection_id: Scalar = None
    size: Scalar = msgspec.field(name="size(B)", default=None)
    operation: Scalar = None


class _FloorEvent(msgspec.Struct, gc=False):
    ph: str = ""
    name: str = ""
    pid: Scalar = None
    tid: Scalar = None
    ts: Scalar = None
    dur: Scalar = None
    args: _FloorArgs = _FloorArgs()


# --- children ------------------------------------------------------------------------------------


def child(mode: str, path: Path) -> dict[str, object]:
    """One measured run in this (fresh) process; returns what it saw."""
    started = time.perf_counter()
    if mode == "kineto-floor":
        bench_analyze.decode_only(path)
        return {}
    if mode == "nsys-floor":
        rows = _column_floor(path, NSYS_COLUMNS)
    elif mode == "ascend-db-floor":
        rows = _column_floor(path, ASCEND_DB_COLUMNS)
    elif mode == "ascend-floor":
        rows = _ascend_floor(path)
    elif mode == "analyze":
        rows = _analyze(path)
    else:
        if os.environ.get(BEFORE_ENV):  # the tracekit package of another revision
            sys.path.insert(0, os.environ[BEFORE_ENV])
        if mode == "read-sqlite3":  # the reader without ADBC's driver (the sqlite3 fallback)
            sys.modules["adbc_driver_sqlite"] = sys.modules["adbc_driver_sqlite.dbapi"] = None
        from tracekit.readers import read_trace

        rows = read_trace(path).events.num_rows
    return {"rows": rows, "seconds": round(time.perf_counter() - started, 3)}


def _column_floor(path: Path, wanted: dict[str, str]) -> int:
    """Fetch every column the reader reads (ADBC when installed, else sqlite3 into numpy)."""
    uri = f"file:{path.resolve()}?mode=ro&immutable=1"
    tables = {row[0] for row in sqlite3.connect(uri, uri=True).execute("SELECT name FROM sqlite_master")}
    queries = [f"SELECT {columns} FROM {table}" for table, columns in wanted.items() if table in tables]
    try:
        import adbc_driver_sqlite.dbapi as adbc
    except ImportError:
        adbc = None
    if adbc is not None:
        with adbc.connect(uri) as db, db.cursor() as cursor:
            return sum(_adbc_rows(cursor, query) for query in queries)
    db = sqlite3.connect(uri, uri=True)
    total = 0
    for query in queries:
        rows = db.execute(query).fetchall()
        columns = [np.array(column) for column in zip(*rows, strict=True)]
        total += len(columns[0]) if columns else 0
    return total


def _adbc_rows(cursor, query: str) -> int:
    cursor.execute(query)
    return cursor.fetch_arrow_table().num_rows


def _ascend_floor(root: Path) -> int:
    from pyarrow import csv

    events = 0
    for timeline in sorted(root.rglob("msprof_*.json")):
        events += len(msgspec.json.decode(timeline.read_bytes(), type=list[_FloorEvent]))
    for summary in sorted(root.rglob("op_summary_*.csv")):
        events += csv.read_csv(summary).num_rows
    return events


def _analyze(path: Path) -> int:
    from tracekit.analysis.analyze import analyze
    from tracekit.analysis.ascend import ascend_findings
    from tracekit.analysis.columns import Columns
    from tracekit.readers import read_trace

    trace = read_trace(path)
    read_s = time.perf_counter()
    analyze(trace)
    t = time.perf_counter()
    ascend_findings(trace.events, Columns.from_table(trace.events), trace.metadata.get("ascend", {}))
    print(
        json.dumps(
            {"analyze_s": round(t - read_s, 3), "ascend_findings_s": round(time.perf_counter() - t, 3)}
        )
    )
    return trace.events.num_rows


# --- inputs --------------------------------------------------------------------------------------


def ensure_input(fmt: str, size_mb: float) -> Path:
    """The generated file (or PROF_ tree) of this format and size, made when missing."""
    DATA.mkdir(parents=True, exist_ok=True)
    name = {"kineto": "trace.pt.trace.json", "nsys": "report.sqlite", "ascend": "prof"}[fmt]
    out = DATA / f"{size_mb:g}MB-{name}"
    if fmt == "kineto":
        return out if out.is_file() else make_large_trace.make(out, size_mb)
    return _simulated(fmt, out, int(size_mb * 1e6 / BYTES_PER_EVENT[fmt]))


def ensure_rows_input(fmt: str, rows: float) -> Path:
    """An nsys export of `rows` rows in all, or an Ascend tree of about `rows` device tasks; made
    when missing."""
    DATA.mkdir(parents=True, exist_ok=True)
    count = f"{rows:g}".replace("e+0", "e").replace("e+", "e")
    if fmt == "nsys":
        out = DATA / f"{count}rows-report.sqlite"
        if not out.is_file():  # in a child: a forked child's peak RSS starts at its parent's
            script = [sys.executable, str(BENCH_DIR / "make_nsys_export.py"), "--rows", str(rows)]
            subprocess.run([*script, "--out", str(out)], check=True, cwd=REPO)
        return out
    if fmt == "ascend":
        return _simulated(fmt, DATA / f"{count}tasks-prof", int(rows * RECORDS_PER_DEVICE_TASK))
    if fmt == "ascend-db":
        out = DATA / f"{count}tasks-db" / "msprof_0.db"
        if not out.is_file():
            script = [sys.executable, str(BENCH_DIR / "make_ascend_db.py"), "--tasks", str(rows)]
            subprocess.run([*script, "--out", str(out)], check=True, cwd=REPO)
        return out
    raise SystemExit(f"--rows: nsys, ascend and ascend-db only, not {fmt}")


def _simulated(fmt: str, out: Path, events: int) -> Path:
    """make_sim_trace's nsys export or Ascend PROF_ tree of `events` records at `out`."""
    if fmt == "ascend" and out.is_dir():
        return next(out.glob("PROF_*"))
    if fmt == "nsys" and out.is_file():
        return out
    script = [
        sys.executable,
        str(BENCH_DIR / "make_sim_trace.py"),
        "--format",
        fmt.replace("ascend", "msprof"),
    ]
    subprocess.run([*script, "--events", str(events), "--out", str(out)], check=True, cwd=REPO)
    return next(out.glob("PROF_*")) if fmt == "ascend" else out


def size_of(path: Path) -> int:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files)


# --- measuring -----------------------------------------------------------------------------------


def measure(label: str, commands: dict[str, list[str]], repeat: int) -> dict[str, dict]:
    """Run each command `repeat` times, interleaved; per command its runs and the best."""
    runs: dict[str, list[dict]] = {name: [] for name in commands}
    for i in range(repeat):
        for name, command in commands.items():
            wall, usage, last = bench_analyze.run_once(command)
            cpu, rss = usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024
            report = json.loads(last) if last[:1] == "{" else None
            runs[name].append(
                {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "peak_rss_bytes": rss, "report": report}
            )
            status = f"{wall:7.2f} s, CPU {cpu:7.2f} s, RSS {rss / 1e6:6.0f} MB"
            print(f"  {label:<22} {name:<8} run {i + 1}/{repeat}: {status}", flush=True)
    return {name: {"runs": r, "best": min(r, key=lambda x: x["wall_s"])} for name, r in runs.items()}


def bench(
    fmt: str, path: Path, label: str, repeat: int, with_analysis: bool, before: Path | None = None
) -> dict[str, object]:
    me = [sys.executable, str(Path(__file__).resolve()), "--child"]
    commands = {"floor": [*me, f"{fmt}-floor", str(path)], "reader": [*me, "read", str(path)]}
    if before is not None:  # `env` execs the child in place: its usage is the child's
        commands["before"] = ["env", f"{BEFORE_ENV}={before}", *me, "read", str(path)]
    if with_analysis and fmt == "ascend":
        commands["analyze"] = [*me, "analyze", str(path)]
    if fmt in ("nsys", "ascend-db"):
        commands["sqlite3"] = [*me, "read-sqlite3", str(path)]
    result = measure(f"{fmt} {label}", commands, repeat)
    floor, floor_cpu = result["floor"]["best"]["wall_s"], _least_cpu(result["floor"])
    ratios = {name: round(r["best"]["wall_s"] / floor, 2) for name, r in result.items() if name != "floor"}
    cpu = {name: round(_least_cpu(r) / floor_cpu, 2) for name, r in result.items() if name != "floor"}
    size = size_of(path)
    return {
        "format": fmt,
        "input": str(path),
        "bytes": size,
        "ratio_to_floor": ratios,
        "cpu_ratio": cpu,
        **result,
    }


def _least_cpu(measured: dict) -> float:
    """The lowest CPU time of a command's runs (under load the fastest wall time is not the leanest)."""
    return min(run["cpu_s"] for run in measured["runs"])


def table(results: list[dict]) -> str:
    lines = ["| what | size | floor s | s | x floor | CPU s | x floor CPU | peak RSS |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]  # fmt: skip
    for r in results:
        floor = r["floor"]["best"]["wall_s"]
        for name, what in (
            ("reader", ""),
            ("before", " (--before)"),
            ("sqlite3", ", sqlite3 only"),
            ("analyze", " read + analyze"),
        ):
            if name in r:
                best, what = r[name]["best"], r["format"] + what
                cells = [what, f"{r['bytes'] / 1e6:,.0f} MB", f"{floor:.2f}", f"{best['wall_s']:.2f}"]
                cells += [
                    f"{r['ratio_to_floor'][name]:.2f}",
                    f"{_least_cpu(r[name]):.2f}",
                    f"{r['cpu_ratio'][name]:.2f}",
                ]
                lines.append("| " + " | ".join([*cells, f"{best['peak_rss_bytes'] / 1e9:.2f} GB"]) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--formats", nargs="+", default=["kineto", "nsys", "ascend"])
    parser.add_argument("--sizes-mb", nargs="+", type=float, default=[100, 1000])
    parser.add_argument("--rows", nargs="+", type=float, help="nsys rows / Ascend device tasks, not MB")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--analyze", action="store_true", help="also the whole Ascend analysis")
    parser.add_argument("--out", type=Path, default=RESULT, help="result JSON")
    parser.add_argument("--before", metavar="REV", help="also read with the tracekit of git revision REV")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child[0], Path(args.child[1]))))
        return 0
    for variable in bench_kineto.BLAS_THREADS:  # every child, the floors' too, as the command sets them
        os.environ.setdefault(variable, "1")
    if args.rows:
        inputs = [(f, ensure_rows_input(f, n), f"{n:g} rows") for n in args.rows for f in args.formats]
    else:
        inputs = [(f, ensure_input(f, s), f"{s:g} MB") for s in args.sizes_mb for f in args.formats]
    before = bench_kineto.checkout(args.before, DATA) if args.before else None
    try:
        results = [bench(f, path, label, args.repeat, args.analyze, before) for f, path, label in inputs]
    finally:
        if before is not None:
            shutil.rmtree(before, ignore_errors=True)
    date = datetime.now(UTC).isoformat(timespec="seconds")
    meta = {"date": date, "machine": bench_analyze.machine(), "revision": bench_analyze.revision()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({**meta, "results": results}, indent=1))
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
