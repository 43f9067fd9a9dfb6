"""The device model's mechanisms, each on a tiny workload where the right answer is known."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from tracekit.simulate.device import Device, Host, Input, Operator, Run, Workload, simulate
from tracekit.simulate.scenarios import load, with_run
from tracekit.simulate.timeline import Api, Record, RecordKind, Unit, to_arrays

US = 1000
HOST = Host(
    launch_ns=5 * US, copy_ns=5 * US, batch_entry_ns=0, sync_ns=1 * US, prep_ns=0, prep_per_sample_ns=0,
    shape_ns=50 * US, submit_ns=1 * US, stage_bytes_per_ns=1e9, shared_lock=False, lock_quantum_ns=0,
)  # fmt: skip
DEVICE = Device(
    name="test", cube_cores=8, vector_cores=8, aicpu_cores=1, copy_engines=1, copy_fixed_ns=10 * US,
    h2d_bytes_per_ns=1.0, d2h_bytes_per_ns=1.0, dispatch_ns=2 * US, redispatch_ns=2 * US, noise=0.0,
)  # fmt: skip
INPUTS = (Input("a", 1000, "g1"), Input("b", 2000, "g1"), Input("c", 500, "g2"))


def _workload(*operators: Operator) -> Workload:
    return Workload("w", INPUTS, operators, output_bytes_per_sample=0)


def _run(workload: Workload, host: Host = HOST, device: Device = DEVICE, **run: object) -> list[Record]:
    settings = {"inferences": 4, "batch": 2, **run}
    return simulate(workload, host, device, Run(**settings))[0]


def _of(records: list[Record], kind: RecordKind) -> list[Record]:
    return [r for r in records if r.kind == kind]


def _overlap(a: Record, b: Record) -> bool:
    return a.start_ns < b.start_ns + b.dur_ns and b.start_ns < a.start_ns + a.dur_ns


def test_operator_time_is_fixed_plus_work_over_cores() -> None:
    op = Operator("mm", Unit.CUBE, 1 * US, 4 * US)
    full = _of(_run(_workload(op), inferences=1, batch=4), RecordKind.OP)[0]
    limited = _of(_run(_workload(op), inferences=1, batch=4, aicore=(2, 2)), RecordKind.OP)[0]
    assert (full.dur_ns, full.cores) == (1 * US + 4 * US * 4 // 8, 8)
    assert (limited.dur_ns, limited.cores) == (1 * US + 4 * US * 4 // 2, 2)


def test_copies_cost_fixed_plus_bytes_and_batching_sums_each_group() -> None:
    separate = [r for r in _run(_workload(), inferences=1) if r.unit == Unit.H2D]
    batched = [r for r in _run(_workload(), inferences=1, batch_h2d=True) if r.unit == Unit.H2D]
    assert [(r.nbytes, r.dur_ns) for r in separate] == [(2000, 12000), (4000, 14000), (1000, 11000)]
    assert [(r.name, r.nbytes, r.dur_ns) for r in batched] == [("g1", 6000, 16000), ("g2", 1000, 11000)]


def test_dependent_operators_wait_for_the_dispatch_gap() -> None:
    ops = _of(_run(_workload(Operator("x", Unit.VECTOR, 1 * US, 0), Operator("y", Unit.VECTOR, 1 * US, 0))),
              RecordKind.OP)  # fmt: skip
    gaps = [b.start_ns - (a.start_ns + a.dur_ns) for a, b in itertools.pairwise(ops) if a.step == b.step]
    assert gaps and min(gaps) >= DEVICE.dispatch_ns


def test_full_core_operators_of_two_instances_never_overlap_but_limited_ones_do() -> None:
    op = Operator("v", Unit.VECTOR, 20 * US, 0)
    full = _of(_run(_workload(op, op, op), instances=2, inferences=8), RecordKind.OP)
    split = _of(_run(_workload(op, op, op), instances=2, inferences=8, aicore=(4, 4)), RecordKind.OP)
    pairs = lambda ops: [(a, b) for a in ops for b in ops if a.instance < b.instance]  # noqa: E731
    assert not any(_overlap(a, b) for a, b in pairs(full))
    assert any(_overlap(a, b) for a, b in pairs(split))


def test_ai_cpu_operators_run_one_at_a_time() -> None:
    op = Operator("Unique", Unit.AICPU, 100 * US, 0)
    ops = _of(_run(_workload(op), instances=3, inferences=6), RecordKind.OP)
    assert not any(_overlap(a, b) for a in ops for b in ops if a is not b)


def test_dynamic_shape_operator_makes_the_host_wait_before_the_next_launch() -> None:
    where = Operator("Where", Unit.AICPU, 100 * US, 0, dynamic=True)
    records = _run(_workload(where, Operator("Gather", Unit.VECTOR, 1 * US, 0)), inferences=1)
    where_task = next(r for r in records if r.name == "Where")
    launches = [r for r in _of(records, RecordKind.API) if r.api == Api.LAUNCH]
    assert launches[1].start_ns >= where_task.start_ns + where_task.dur_ns + HOST.shape_ns


def test_shared_host_lock_serialises_host_calls_of_all_threads() -> None:
    locked = dataclasses.replace(HOST, shared_lock=True, lock_quantum_ns=1)
    op = Operator("v", Unit.VECTOR, 1 * US, 0)
    calls = [r for r in _of(_run(_workload(op, op), host=locked, instances=3), RecordKind.API)
             if r.api != Api.SYNCHRONIZE]  # fmt: skip
    assert not any(_overlap(a, b) for a in calls for b in calls if a is not b)
    free = [r for r in _of(_run(_workload(op, op), instances=3), RecordKind.API) if r.api != Api.SYNCHRONIZE]
    assert any(_overlap(a, b) for a in free for b in free if a is not b)


def test_same_seed_same_timeline_and_another_seed_moves_only_times() -> None:
    scenario = with_run(load("case000/multi4-aicore"), inferences=24)
    run = lambda seed: to_arrays(  # noqa: E731
        simulate(
            scenario.workload, scenario.host, scenario.device, dataclasses.replace(scenario.run, seed=seed)
        )[0]
    )
    first, again, other = run(1), run(1), run(2)
    assert all(np.array_equal(first[k], again[k]) for k in first)
    assert not np.array_equal(first["dur_ns"], other["dur_ns"])
    ops = lambda c: c["kind"] == RecordKind.OP  # noqa: E731
    for column in ("name", "unit", "cores", "instance"):
        assert sorted(map(str, first[column][ops(first)])) == sorted(map(str, other[column][ops(other)]))
    by_name = lambda c: {n: np.median(c["dur_ns"][ops(c) & (c["name"] == n)]) for n in set(c["name"][ops(c)])}  # noqa: E731
    medians_1, medians_2 = by_name(first), by_name(other)
    sigma = scenario.device.noise
    for name, median in medians_1.items():
        assert abs(np.log(medians_2[name] / median)) < 4 * sigma, name


def test_bad_runs_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        _run(_workload(), instances=0)
    with pytest.raises(ValueError, match="aicore"):
        _run(_workload(), aicore=(0, 4))
