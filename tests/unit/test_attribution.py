"""Critical-path attribution, exactly, on tiny hand-built steps (times in us, one host thread).

Each test builds one step, checks that the unchanged replay equals the measured step and that the
categories partition it: they sum to the step duration, and each has the value computed by hand.
"""

from __future__ import annotations

from pathlib import Path

from kineto_builder import cpu_op, kernel, memcpy, runtime, step, write_trace
from replay_builder import US, kernel_chain, step_model

from tracekit.analysis.attribution import CATEGORIES, Segment, attribution, critical_path
from tracekit.analysis.columns import Columns
from tracekit.analysis.replay import StepModel, replay
from tracekit.analysis.step_model import build_step
from tracekit.readers import read_trace


def _check(cols: Columns, model: StepModel, expected_us: dict[str, int]) -> list[Segment]:
    """Replay is exact, the path tiles the step, and the categories are `expected_us` (others 0)."""
    length = model.end - model.start
    assert replay(model) == length
    path = critical_path(model, cols)
    assert [(s.start, s.end) for s in path] == list(
        zip([model.start] + [s.end for s in path[:-1]], [s.end for s in path], strict=True)
    )  # contiguous: each segment starts where the previous ended
    assert (path[0].start, path[-1].end) == (model.start, model.end)
    totals = attribution(path)
    assert sum(totals.values()) == length
    assert totals == {c: expected_us.get(c, 0) * US for c in CATEGORIES}
    return path


def test_kernel_chain_launch_lag_and_stream_gaps(tmp_path: Path) -> None:
    """Three launches [0,5) [6,10) [11,15), kernels [10,30) [35,50) [52,90), sync [16,95).

    k1 waits for its launch: lag 10 (min_lag) -> launch_overhead [0,10); k2 and k3 wait for the
    previous kernel: gaps [30,35) and [50,52) -> launch_overhead; kernels 20 + 15 + 38 = 73 compute;
    the sync returns 5 after k3: sync [90,95). 10 + 5 + 2 = 17 launch_overhead; 73 + 17 + 5 = 95."""
    cols, model = step_model(tmp_path, kernel_chain(), 95)
    path = _check(cols, model, {"compute": 73, "launch_overhead": 17, "sync": 5})
    assert [(s.start // US, s.end // US, s.category) for s in path] == [
        (0, 10, "launch_overhead"),
        (10, 30, "compute"),
        (30, 35, "launch_overhead"),
        (35, 50, "compute"),
        (50, 52, "launch_overhead"),
        (52, 90, "compute"),
        (90, 95, "sync"),
    ]


def test_sync_waiting_for_a_kernel(tmp_path: Path) -> None:
    """Launch [0,5) -> kernel [10,40); cudaStreamSynchronize [6,44) returns 4 after it; host [44,50).

    The host's wait [6,40) is the kernel's time: compute 30; sync only its return [40,44) = 4;
    launch lag [0,10) = 10; the host time after the sync, before no launch: host_cpu 6.
    10 + 30 + 4 + 6 = 50."""
    events = [
        runtime("cudaLaunchKernel", 0, 5, correlation=1),
        kernel("k", 10, 30, correlation=1),
        runtime("cudaStreamSynchronize", 6, 38),
    ]
    cols, model = step_model(tmp_path, events, 50)
    assert model.entries[-1].ret == 4 * US
    _check(cols, model, {"launch_overhead": 10, "compute": 30, "sync": 4, "host_cpu": 6})


def test_pageable_h2d_copy(tmp_path: Path) -> None:
    """cudaMemcpyAsync [0,40) -> pageable H2D copy [5,35) of 1 MB; the call returns 5 after it.

    launch lag [0,5) = 5, copy_h2d_pageable 30, the call's return [35,40) = sync 5, host [40,50)
    after it = host_cpu 10. 5 + 30 + 5 + 10 = 50."""
    events = [
        runtime("cudaMemcpyAsync", 0, 40, correlation=1),
        memcpy("Memcpy HtoD (Pageable -> Device)", 5, 30, 1_000_000, correlation=1),
    ]
    cols, model = step_model(tmp_path, events, 50)
    assert (model.entries[0].ret, model.entries[0].waits_own) == (5 * US, True)
    _check(cols, model, {"launch_overhead": 5, "copy_h2d_pageable": 30, "sync": 5, "host_cpu": 10})


def test_host_cpu_work_that_launches_nothing(tmp_path: Path) -> None:
    """`preprocess` [0,20) launches nothing; `aten::relu` [20,30) holds a launch [24,28) -> kernel
    [33,50); cudaDeviceSynchronize [30,52); host [52,60).

    The host gap [0,24) before the launch: 20 in `preprocess` (host_cpu) and 4 of dispatch inside
    `aten::relu` (launch_overhead [20,24)); launch lag [24,33) = 9; compute 17; sync [50,52) = 2;
    host after the sync = host_cpu 8. host_cpu 20 + 8 = 28, launch_overhead 4 + 9 = 13;
    28 + 13 + 17 + 2 = 60."""
    events = [
        cpu_op("preprocess", 0, 20, external_id=1),
        cpu_op("aten::relu", 20, 10, external_id=2),
        runtime("cudaLaunchKernel", 24, 4, correlation=1, external_id=2),
        kernel("relu", 33, 17, correlation=1),
        runtime("cudaDeviceSynchronize", 30, 22),
    ]
    cols, model = step_model(tmp_path, events, 60)
    path = _check(cols, model, {"host_cpu": 28, "launch_overhead": 13, "compute": 17, "sync": 2})
    assert [(s.start // US, s.end // US, s.category) for s in path[:2]] == [
        (0, 20, "host_cpu"),
        (20, 24, "launch_overhead"),
    ]


def test_cross_stream_wait(tmp_path: Path) -> None:
    """kA on stream 7 [10,50) (launch [0,5)); kB on stream 8 [53,70) (launch [6,10)) starts 3 after
    kA ends, long after its launch: it waited for kA (an event). Sync [16,75).

    The path runs through kA: launch lag [0,10) + gap [50,53) = launch_overhead 13, compute
    40 + 17 = 57, sync [70,75) = 5. 13 + 57 + 5 = 75."""
    events = [
        runtime("cudaLaunchKernel", 0, 5, correlation=1),
        kernel("kA", 10, 40, correlation=1, stream=7),
        runtime("cudaLaunchKernel", 6, 4, correlation=2),
        kernel("kB", 53, 17, correlation=2, stream=8),
        runtime("cudaDeviceSynchronize", 16, 59),
    ]
    cols, model = step_model(tmp_path, events, 75)
    by_name = {cols.names[cols.name_code[op.row]]: op for entry in model.entries for op in entry.ops}
    assert (by_name["kB"].after, by_name["kB"].after_gap) == (by_name["kA"].row, 3 * US)
    path = _check(cols, model, {"launch_overhead": 13, "compute": 57, "sync": 5})
    ops = [s.owner[1] for s in path if s.category == "compute"]
    assert ops == [by_name["kA"].row, by_name["kB"].row]
    launches = [(s.start // US, s.end // US) for s in path if s.category == "launch_overhead"]
    assert launches == [(0, 10), (50, 53)]


def test_previous_steps_work_is_other(tmp_path: Path) -> None:
    """Step #0 [0,50) launches kP [45,80) (launch [40,44)); step #1 [50,100): launch [52,56) -> k1
    [80,90) right after kP on stream 7 (lag 28, the step's smallest is kx's 4: kP bound it), launch
    [58,60) -> kx [62,64) on stream 8, cudaDeviceSynchronize [61,93), host [93,100).

    Step #1's path: other [50,80) (kP still running) = 30, compute 10, sync [90,93) = 3, host_cpu 7.
    30 + 10 + 3 + 7 = 50."""
    events = [
        step(0, 0, 50),
        runtime("cudaLaunchKernel", 40, 4, correlation=1),
        kernel("kP", 45, 35, correlation=1),
        step(1, 50, 50),
        runtime("cudaLaunchKernel", 52, 4, correlation=2),
        kernel("k1", 80, 10, correlation=2),
        runtime("cudaLaunchKernel", 58, 2, correlation=3),
        kernel("kx", 62, 2, correlation=3, stream=8),
        runtime("cudaDeviceSynchronize", 61, 32),
    ]
    trace = read_trace(write_trace(tmp_path / "t.json", events))
    cols = Columns.from_table(trace.events)
    model = build_step(trace.events, cols, 1, 50 * US, 100 * US)
    assert model is not None and model.prior_end[7] == 80 * US
    _check(cols, model, {"other": 30, "compute": 10, "sync": 3, "host_cpu": 7})
