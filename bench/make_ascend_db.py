"""Write a large synthetic Ascend profiler DB (msprof_0.db) from numpy columns, with bulk inserts.

The tables and columns the DB reader reads (tracekit/readers/ascend/db.py), typed as torch_npu
writes them (INTEGER ids into STRING_IDS, PYTORCH_API times as TEXT): per device task a TASK row
(AI-core kernels back to back on one stream), its COMPUTE_TASK_INFO row (200 operator names), the
CANN_API launch that shares its connectionId and a PYTORCH_API operator; every 1000 tasks a
`ProfilerStep#N` span.

    .venv/bin/python bench/make_ascend_db.py --tasks 1000000 --out bench/data/readers/1e6tasks-db/msprof_0.db
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from bulk_sqlite import insert_columns

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tracekit.simulate.output import bulk_database

TASKS_PER_STEP = 1000
SCHEMA = """
CREATE TABLE STRING_IDS (id INTEGER PRIMARY KEY, value TEXT);
CREATE TABLE TASK (startNs INTEGER, endNs INTEGER, deviceId INTEGER, connectionId INTEGER,
    globalTaskId INTEGER, globalPid INTEGER, taskType INTEGER, contextId INTEGER, streamId INTEGER,
    taskId INTEGER, modelId INTEGER);
CREATE TABLE COMPUTE_TASK_INFO (name INTEGER, globalTaskId INTEGER PRIMARY KEY, blockDim INTEGER,
    mixBlockDim INTEGER, taskType INTEGER, opType INTEGER, inputDataTypes INTEGER, inputShapes INTEGER,
    opState INTEGER, waitNs INTEGER);
CREATE TABLE ENUM_API_TYPE (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE CANN_API (startNs INTEGER, endNs INTEGER, type INTEGER, globalTid INTEGER,
    connectionId INTEGER, name INTEGER);
CREATE TABLE PYTORCH_API (startNs TEXT, endNs TEXT, globalTid INTEGER, connectionId INTEGER,
    name INTEGER);
"""
ACL, TID, NO_CONTEXT = 20000, (4242 << 32) | 4243, 2**32 - 1


def write(out: Path, tasks: int, seed: int = 0) -> dict[str, int]:
    """Write the DB (replacing `out`); returns the row counts per table."""
    rng = np.random.default_rng(seed)
    ops = [f"aclnnOp{i}_Kernel" for i in range(200)]
    strings = [*ops, *(f"aclnnOp{i}" for i in range(200)), "KERNEL_AICORE", "AI_CORE", "FLOAT16", "8,8"]
    strings += ["static", *(f"aten::op{i}" for i in range(200))]
    sid = {text: i for i, text in enumerate(strings)}
    op = rng.integers(0, len(ops), tasks)
    dur = rng.integers(2_000, 30_000, tasks)
    start = 10**9 + np.cumsum(dur + rng.integers(100, 2_000, tasks)) - dur
    ids = np.arange(tasks)
    launch = start - rng.integers(20_000, 60_000, tasks)
    steps = -(-tasks // TASKS_PER_STEP)
    with bulk_database(out, SCHEMA) as db:
        db.executemany("INSERT INTO STRING_IDS VALUES (?, ?)", [(i, s) for s, i in sid.items()])
        db.execute("INSERT INTO ENUM_API_TYPE VALUES (?, 'acl')", (ACL,))
        task_sql = (
            f"INSERT INTO TASK VALUES (?, ?, 0, ?, ?, 1, {sid['KERNEL_AICORE']}, {NO_CONTEXT}, 2, ?, 0)"
        )
        insert_columns(db, task_sql, start, start + dur, ids, ids, ids % 65536)
        attributes = f"{sid['AI_CORE']}, ?, {sid['FLOAT16']}, {sid['8,8']}, {sid['static']}, 0"
        insert_columns(
            db, f"INSERT INTO COMPUTE_TASK_INFO VALUES (?, ?, 24, 0, {attributes})", op, ids, op + 200
        )
        insert_columns(
            db,
            f"INSERT INTO CANN_API VALUES (?, ?, {ACL}, {TID}, ?, ?)",
            launch,
            launch + 8_000,
            ids,
            op + 200,
        )
        aten = np.array([sid[f"aten::op{i}"] for i in range(200)])[op]
        insert_columns(
            db,
            f"INSERT INTO PYTORCH_API VALUES (?, ?, {TID}, ?, ?)",
            launch - 5_000,
            launch + 9_000,
            ids,
            aten,
            text=(0, 1),
        )
        heads = np.arange(steps) * TASKS_PER_STEP
        tails = np.minimum(heads + TASKS_PER_STEP, tasks) - 1
        first, last = launch[heads] - 6_000, (start + dur)[tails]
        db.executemany(
            "INSERT INTO STRING_IDS VALUES (?, ?)",
            [(len(sid) + i, f"ProfilerStep#{i}") for i in range(steps)],
        )
        names = len(sid) + np.arange(steps)
        insert_columns(
            db, f"INSERT INTO PYTORCH_API VALUES (?, ?, {TID}, NULL, ?)", first, last, names, text=(0, 1)
        )
    return {"tasks": tasks, "compute_info": tasks, "cann_api": tasks, "pytorch_api": tasks + steps}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=float, default=1e6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    started = time.perf_counter()
    counts = write(args.out, int(args.tasks), args.seed)
    seconds = round(time.perf_counter() - started, 1)
    print(
        json.dumps({**counts, "seconds": seconds, "output": str(args.out), "bytes": args.out.stat().st_size})
    )


if __name__ == "__main__":
    main()
