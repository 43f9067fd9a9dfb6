"""assign_steps: exact steps on a tiny table, and the same table as the previous (pairwise-free but
full-table) implementation on random tables; that implementation is kept here only, as the reference."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from tracekit.model.correlation import launch_rows
from tracekit.model.schema import NONE, Kind, build_table
from tracekit.model.steps import assign_steps, step_spans

HOST_KINDS = [Kind.CPU_OP, Kind.RUNTIME, Kind.SYNC, Kind.MARKER, Kind.STEP]
DEVICE_KINDS = [Kind.KERNEL, Kind.MEMCPY, Kind.COMMUNICATION, Kind.SYNC, Kind.STEP, Kind.MEMORY]


def _reference_launch_rows(table: pa.Table) -> np.ndarray:
    correlation = table.column("correlation").to_numpy()
    device = table.column("device").to_numpy()
    kind = table.column("kind").to_numpy()
    is_call = (device == NONE) & np.isin(kind, [Kind.RUNTIME, Kind.SYNC]) & (correlation != NONE)
    call_rows = np.flatnonzero(is_call)
    call_rows = call_rows[np.argsort(correlation[call_rows], kind="stable")]
    result = np.full(len(correlation), NONE, dtype=np.int64)
    if len(call_rows) == 0:
        return result
    sorted_ids = correlation[call_rows]
    slot = np.minimum(np.searchsorted(sorted_ids, correlation), len(call_rows) - 1)
    linked = (sorted_ids[slot] == correlation) & (correlation != NONE) & (device != NONE)
    result[linked] = call_rows[slot[linked]]
    return result


def _reference_step_at(
    times: np.ndarray, numbers: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> np.ndarray:
    slot = np.searchsorted(starts, times, side="right") - 1
    inside = (slot >= 0) & (times < ends[np.maximum(slot, 0)])
    return np.where(inside, numbers[np.maximum(slot, 0)], NONE)


def _reference_assign_steps(table: pa.Table) -> pa.Table:
    numbers, starts, ends = step_spans(table)
    if len(numbers) == 0:
        return table
    step = table.column("step").to_numpy().copy()
    open_rows = step == NONE
    by_time = _reference_step_at(table.column("start_ns").to_numpy(), numbers, starts, ends)
    step[open_rows] = by_time[open_rows]
    launch = _reference_launch_rows(table)
    launched = np.where(launch != NONE, by_time[np.maximum(launch, 0)], NONE)
    device_rows = open_rows & (table.column("device").to_numpy() != NONE) & (launched != NONE)
    step[device_rows] = launched[device_rows]
    index = table.schema.get_field_index("step")
    return table.set_column(index, "step", pa.array(step, type=pa.int64()))


@st.composite
def event_tables(draw: st.DrawFn) -> pa.Table:
    """Random tables: host and device rows, overlapping and nested step spans (some on the device,
    some with a number already elsewhere), shared and missing correlation ids, rows in any order,
    sometimes in several chunks."""
    n = draw(st.integers(min_value=0, max_value=40))
    on_device = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    kinds = [draw(st.sampled_from(DEVICE_KINDS if d else HOST_KINDS)) for d in on_device]
    small = st.integers(min_value=-1, max_value=6)
    columns = {
        "start_ns": draw(st.lists(st.integers(0, 60), min_size=n, max_size=n)),
        "dur_ns": draw(st.lists(st.integers(0, 25), min_size=n, max_size=n)),
        "kind": [int(k) for k in kinds],
        "device": [draw(st.integers(0, 1)) if d else NONE for d in on_device],
        "correlation": draw(st.lists(small, min_size=n, max_size=n)),
        "step": [
            draw(st.integers(-1, 4)) if k == Kind.STEP or draw(st.integers(0, 9)) == 0 else NONE
            for k in kinds
        ],
        "name": [f"e{i}" for i in range(n)],
    }
    table = build_table(columns, n)
    cut = draw(st.integers(min_value=0, max_value=n))
    return pa.concat_tables([table.slice(0, cut), table.slice(cut)]) if 0 < cut < n else table


@settings(max_examples=500, deadline=None)
@given(event_tables())
def test_assign_steps_equals_the_reference(table: pa.Table) -> None:
    expected = _reference_assign_steps(table)
    got = assign_steps(table)
    assert got.column("step").to_pylist() == expected.column("step").to_pylist()
    assert got.equals(expected)
    assert launch_rows(table).tolist() == _reference_launch_rows(table).tolist()


def test_assign_steps_on_a_tiny_table() -> None:
    columns = {  # two steps on the host [0, 10) and [10, 20); launches at 2 and 12 whose kernels run late
        "start_ns": [0, 10, 2, 12, 15, 25, 21, 30],
        "dur_ns": [10, 10, 1, 1, 30, 1, 1, 1],
        "kind": [
            Kind.STEP,
            Kind.STEP,
            Kind.RUNTIME,
            Kind.RUNTIME,
            Kind.KERNEL,
            Kind.KERNEL,
            Kind.CPU_OP,
            Kind.KERNEL,
        ],
        "device": [NONE, NONE, NONE, NONE, 0, 0, NONE, 0],
        "correlation": [NONE, NONE, 7, 9, 7, 9, NONE, 5],
        "step": [1, 2, NONE, NONE, NONE, NONE, NONE, NONE],
        "name": list("abcdefgh"),
    }
    steps = assign_steps(build_table(columns, 8)).column("step").to_pylist()
    # the kernel at 15 takes its launch's step 1, the one at 25 its launch's step 2; outside every
    # step: the CPU op at 21 and the unlaunched kernel at 30 (id 5 has no call)
    assert steps == [1, 2, 1, 2, 1, 2, NONE, NONE]
