"""The replay changes (each in its rule module, tracekit/rules/library/), exactly, on tiny hand-built
steps (times in us, one host thread, stream 7). Each test gives the measured step, the edit and the
replay by hand."""

from __future__ import annotations

from pathlib import Path

import pytest
from kineto_builder import cpu_op, kernel, memcpy, runtime
from replay_builder import US, step_model

from tracekit.analysis.changes import CopyCost, copy_targets, flagged_ops, pinned_cost
from tracekit.analysis.columns import Columns
from tracekit.analysis.precision import Bf16
from tracekit.analysis.replay import Entry, Op, replay
from tracekit.analysis.row_values import RowValues
from tracekit.model.schema import CopyDirection, Kind
from tracekit.perfmodel.hardware import find_hardware
from tracekit.rules.library.bigger_batch import Growth, bigger_batch, device_capacity
from tracekit.rules.library.host_syncs import remove_host_syncs
from tracekit.rules.library.mixed_precision import mixed_precision
from tracekit.rules.library.pin_memory import pin_memory
from tracekit.rules.library.static_shapes import static_shapes

NO_FACTORS = RowValues.of_mapping({})


def _ops(entries) -> list[Op]:
    return [op for entry in entries for op in entry.ops]


def _names(cols: Columns, ops: list[Op]) -> list[str]:
    return [cols.names[cols.name_code[op.row]] for op in ops]


# --- pin_memory ----------------------------------------------------------------------------------


def _pageable_step() -> list[dict]:
    """cudaMemcpyAsync [0,40) -> pageable H2D copy [5,35) of 1 MB (the call returns 5 after it);
    launch [42,46) -> kernel [47,80); cudaDeviceSynchronize [47,84); step [0,90).
    min_lag 5 (both), min_gap 12 (kernel after the copy)."""
    return [
        runtime("cudaMemcpyAsync", 0, 40, correlation=1),
        memcpy("Memcpy HtoD (Pageable -> Device)", 5, 30, 1_000_000, correlation=1),
        runtime("cudaLaunchKernel", 42, 4, correlation=2),
        kernel("relu", 47, 33, correlation=2),
        runtime("cudaDeviceSynchronize", 47, 37),
    ]


def test_pin_memory_copy_at_pinned_rate_and_call_at_async_cost(tmp_path: Path) -> None:
    """Pinned cost 2 us + 0.01 ns/B: the 1 MB copy takes 2 + 10 = 12 us; its call costs the step's
    other (asynchronous) launch call, 4 us, and no longer waits.

    Replay: call [0,4), copy [5,17) (lag 5); launch begins 4 + 2 = 6, kernel at max(6 + 5,
    17 + 12) = 29 -> [29,62); sync begins 10 + 1 = 11, returns 62 + 4 = 66; + 6 host = 72."""
    cols, model = step_model(tmp_path, _pageable_step(), 90)
    edited = pin_memory(model, cols, CopyCost(2000.0, 0.01, "test"))
    assert edited is not None
    call = edited.entries[0]
    assert (call.dur, call.ret, [op.dur for op in call.ops]) == (4 * US, None, [12 * US])
    assert replay(model, edited.entries, edited.detached) == 72 * US


def test_pin_memory_ignores_pinned_copies(tmp_path: Path) -> None:
    events = _pageable_step()
    events[1] = memcpy("Memcpy HtoD (Pinned -> Device)", 5, 30, 1_000_000, correlation=1)
    cols, model = step_model(tmp_path, events, 90)
    assert pin_memory(model, cols, CopyCost(2000.0, 0.01, "test")) is None


# --- static_shapes -------------------------------------------------------------------------------


def test_static_shapes_removes_the_wait_and_the_size_computation(tmp_path: Path) -> None:
    """aten::nonzero [0,32): launch [2,6) -> count kernel [10,20), cudaMemcpyAsync [8,30) -> D2H of
    the count [22,23) (returns 7 after it: a 15 us wait); then launch [34,38) -> relu [42,72), sync
    [39,75), step [0,80).

    Static: the count kernel and the D2H copy go, the copy call keeps its 7 us of host work.
    Replay: [2,6), [8,15); launch begins 15 + 4 = 19 -> relu [27,57); sync begins 23 + 1 = 24,
    returns 57 + 3 = 60; + 5 host = 65."""
    events = [
        cpu_op("aten::nonzero", 0, 32, external_id=1),
        runtime("cudaLaunchKernel", 2, 4, correlation=1, external_id=1),
        kernel("count_nonzero", 10, 10, correlation=1),
        runtime("cudaMemcpyAsync", 8, 22, correlation=2, external_id=1),
        memcpy("Memcpy DtoH (Device -> Pageable)", 22, 1, 8, correlation=2),
        runtime("cudaLaunchKernel", 34, 4, correlation=3),
        kernel("relu", 42, 30, correlation=3),
        runtime("cudaDeviceSynchronize", 39, 36),
    ]
    cols, model = step_model(tmp_path, events, 80)
    assert [values.tolist() for values in model.dynamic_ops] == [[0], [32 * US]]
    edited = static_shapes(model, cols)
    assert edited is not None
    assert _names(cols, _ops(edited.entries)) == ["relu"]
    assert [(e.dur, e.ret) for e in edited.entries[:2]] == [(4 * US, None), (7 * US, None)]
    assert replay(model, edited.entries, edited.detached) == 65 * US


# --- remove_host_syncs ---------------------------------------------------------------------------


def _item_step(wrapped: bool) -> list[dict]:
    """Launch [0,4) -> k0 [8,10); cudaMemcpyAsync [6,18) -> D2H [14,15) that the call waits for
    (returns 3 after it), inside `aten::item` [5,20) when `wrapped`; launch [22,26) -> k1 [30,40);
    cudaDeviceSynchronize [27,45); step [0,50). min_lag 8, min_gap 4."""
    events = [
        runtime("cudaLaunchKernel", 0, 4, correlation=1),
        kernel("k0", 8, 2, correlation=1),
        runtime("cudaMemcpyAsync", 6, 12, correlation=2, external_id=1),
        memcpy("Memcpy DtoH (Device -> Pageable)", 14, 1, 4, correlation=2),
        runtime("cudaLaunchKernel", 22, 4, correlation=3),
        kernel("k1", 30, 10, correlation=3),
        runtime("cudaDeviceSynchronize", 27, 18),
    ]
    return [cpu_op("aten::item", 5, 15, external_id=1), *events] if wrapped else events


@pytest.mark.parametrize(("wrapped", "predicted_us"), [(True, 35), (False, 41)])
def test_remove_host_syncs(tmp_path: Path, wrapped: bool, predicted_us: int) -> None:
    """Wrapped: the `.item()` [5,20) goes with its copy (one zero-time entry): launch [0,4), item
    at 5 (dur 0), next launch begins 5 + 2 = 7 -> k1 at max(15, 10 + 4) = 15 -> [15,25); sync
    begins 11 + 1 = 12, returns 25 + 5 = 30; + 5 = 35.
    Bare: the copy call keeps its copy and its 3 us after the wait: call [6,9), copy [14,15);
    launch begins 9 + 4 = 13 -> k1 at max(21, 15 + 4) = 21 -> [21,31); sync begins 18, returns
    36; + 5 = 41."""
    cols, model = step_model(tmp_path, _item_step(wrapped), 50)
    edited = remove_host_syncs(model, cols)
    assert edited is not None
    copies = [op for op in _ops(edited.entries) if cols.copy_direction[op.row] == CopyDirection.D2H]
    assert len(copies) == (0 if wrapped else 1)
    assert (edited.entries[1].dur, edited.entries[1].ret) == ((0 if wrapped else 3) * US, None)
    assert edited.entries[-1].ret == 5 * US  # the step's last sync still waits
    assert replay(model, edited.entries, edited.detached) == predicted_us * US


# --- bigger_batch and mixed_precision --------------------------------------------------------------


def _two_kernels() -> list[dict]:
    """Launch [0,4) -> k0 [8,11) (3 us, the shortest); launch [5,9) -> k1 [13,26) (13 us);
    cudaDeviceSynchronize [10,30) returns 4 after k1; step [0,30). min_lag 8, min_gap 2."""
    return [
        runtime("cudaLaunchKernel", 0, 4, correlation=1),
        kernel("k0", 8, 3, correlation=1),
        runtime("cudaLaunchKernel", 5, 4, correlation=2),
        kernel("k1", 13, 13, correlation=2),
        runtime("cudaDeviceSynchronize", 10, 20),
    ]


def test_bigger_batch_grows_only_beyond_the_floor(tmp_path: Path) -> None:
    """floor 3 us: k0 stays 3 + (3 - 3) = 3, k1 becomes 13 + (13 - 3) = 23 (not 26).
    Replay: k0 [8,11), k1 [13,36), sync returns 40."""
    cols, model = step_model(tmp_path, _two_kernels(), 30)
    edited = bigger_batch(model, cols, Growth(CopyCost(0.0, 1.0, "test"), 3 * US, NO_FACTORS))
    assert [op.dur for op in _ops(edited.entries)] == [3 * US, 23 * US]
    assert replay(model, edited.entries, edited.detached) == 40 * US


def test_bigger_batch_grows_a_kernel_with_a_roofline_share_by_its_factor(tmp_path: Path) -> None:
    """k1 (13 us) at a roofline share of 0.25 grows x1.25 to 16.25 us; k0 keeps the floor rule (3 us).
    The capacity floor grows k1 by its factor and k0 (no factor) x2: busy 16 us x (6 + 16.25) / 16."""
    cols, model = step_model(tmp_path, _two_kernels(), 30)
    k1 = _ops(model.entries)[1]
    growth = Growth(CopyCost(0.0, 1.0, "test"), 3 * US, RowValues.of_mapping({k1.row: 1.25}))
    edited = bigger_batch(model, cols, growth)
    assert [op.dur for op in _ops(edited.entries)] == [3 * US, 16_250]
    capacity = device_capacity([model], cols, growth)
    assert capacity["device_busy_ns"] == 16 * US
    assert capacity["capacity_floor_ns"] == round(16 * US * (6 * US + 16_250) / (16 * US))


def test_bigger_batch_grows_copies_by_their_bytes(tmp_path: Path) -> None:
    """A pinned H2D copy of 2000 B (5 us) at 1.5 ns/B grows by 3 us to 8 us."""
    events = [
        runtime("cudaMemcpyAsync", 0, 4, correlation=1),
        memcpy("Memcpy HtoD (Pinned -> Device)", 6, 5, 2000, correlation=1),
        runtime("cudaDeviceSynchronize", 5, 10),
    ]
    cols, model = step_model(tmp_path, events, 20)
    edited = bigger_batch(model, cols, Growth(CopyCost(1000.0, 1.5, "test"), 3 * US, NO_FACTORS))
    assert [op.dur for op in _ops(edited.entries)] == [8 * US]


def test_mixed_precision_scales_and_inserts_casts(tmp_path: Path) -> None:
    """k1 x 0.5 -> 6.5 us, with casts of 1 and 2 us before it, each launched for the step's host
    cost of one launch: ends of the launch calls 4 and 9 -> 5 us.

    Replay: k0 [8,11) (call [0,4)); cast 1 begins 4 + 1 = 5 -> at max(13, 11 + 2) -> [13,14);
    cast 2 begins 10 -> at max(18, 16) -> [18,20); launch begins 15 -> k1 at max(23, 22) ->
    [23,29.5); sync begins 19 + 1 = 20, returns 29.5 + 4 = 33.5."""
    cols, model = step_model(tmp_path, _two_kernels(), 30)
    k1 = _ops(model.entries)[1]
    edited = mixed_precision(model, cols, Bf16.of(factors={k1.row: 0.5}, casts={k1.row: [1000, 2000]}))
    assert edited is not None
    assert [(e.dur, [op.dur for op in e.ops]) for e in edited.entries] == [
        (4 * US, [3 * US]),
        (5 * US, [1000]),
        (5 * US, [2000]),
        (4 * US, [6500]),
        (20 * US, []),
    ]
    assert replay(model, edited.entries, edited.detached) == 33_500
    assert all(cols.kind[op.row] == Kind.KERNEL for op in _ops(edited.entries))
    assert mixed_precision(model, cols, Bf16()) is None  # nothing shortened: no change


# --- what the changes are given: the pinned copy cost, the device capacity ------------------------


def test_pinned_cost_from_the_host_link(tmp_path: Path) -> None:
    """No pinned copies of two sizes: the device's shortest kernel (33 us) plus bytes over the H200's
    63 GB/s host link; 1 MB -> 33000 + 1e6 / 63 = 48873 ns. Without a hardware row: None."""
    cols, _ = step_model(tmp_path, _pageable_step(), 90)
    cost = pinned_cost(cols, 0, find_hardware("H200"))
    assert cost is not None and (cost.fixed_ns, cost.ns_per_byte) == (33_000.0, 1 / 63)
    assert cost.of(1_000_000) == round(33_000 + 1_000_000 / 63) == 48_873
    assert pinned_cost(cols, 0, None) is None


def test_pinned_cost_fitted_on_pinned_copies(tmp_path: Path) -> None:
    """Pinned copies of 1000 B in 3 us and 3000 B in 5 us: 2 us + 1 ns/B, whatever the hardware."""
    events = [
        runtime("cudaMemcpyAsync", 0, 2, correlation=1),
        memcpy("Memcpy HtoD (Pinned -> Device)", 3, 3, 1000, correlation=1),
        runtime("cudaMemcpyAsync", 10, 2, correlation=2),
        memcpy("Memcpy HtoD (Pinned -> Device)", 13, 5, 3000, correlation=2),
        runtime("cudaDeviceSynchronize", 14, 6),
    ]
    cols, _ = step_model(tmp_path, events, 20)
    cost = pinned_cost(cols, 0, find_hardware("H200"))
    assert cost is not None
    assert (cost.fixed_ns, cost.ns_per_byte) == (pytest.approx(2000.0), pytest.approx(1.0))


def test_device_capacity_of_a_doubled_batch(tmp_path: Path) -> None:
    """Busy device time of the step: k0 [8,11) + k1 [13,26) = 16 us; a batch twice as large needs
    32 us of device time when no kernel has a roofline share (each doubles: the bound stays
    conservative)."""
    cols, model = step_model(tmp_path, _two_kernels(), 30)
    growth = Growth(CopyCost(0.0, 1.0, "test"), 3 * US, NO_FACTORS)
    assert device_capacity([model], cols, growth) == {"device_busy_ns": 16 * US, "capacity_floor_ns": 32 * US}


# --- the edits' building blocks --------------------------------------------------------------------


def test_flagged_ops_counts_each_entrys_operations_and_the_marked_ones(tmp_path: Path) -> None:
    cols, model = step_model(tmp_path, _pageable_step(), 90)  # the copy call, the launch, the sync
    sizes, copies = flagged_ops(model, cols.h2d_copy)
    assert sizes.tolist() == [1, 1, 0] and copies.tolist() == [1, 0, 0]
    assert flagged_ops(model, cols.kernel_like)[1].tolist() == [0, 1, 0]
    assert copy_targets(model, cols, lambda op: True) == ([0], {0, 2})
    assert copy_targets(model, cols, lambda op: False) == ([], {0, 2})


def test_operations_and_entries_changed_keep_every_other_field() -> None:
    op = Op(row=3, stream=7, start=10, dur=5, lag=2, gap=1, host_bound=False)
    assert op.changed(host_bound=True, lag=0) == Op(3, 7, 10, 5, 0, 1, True, -1, 0)
    assert op.with_dur(9) == Op(3, 7, 10, 9, 2, 1, False, -1, 0) and op.dur == 5
    assert type(op.with_dur(9)) is Op and type(op.changed(lag=1)) is Op
    entry = Entry(a=1, b=4, dur=3, ops=(op,), ret=2)
    assert entry.changed(ret=None, dur=1) == Entry(1, 4, 1, (op,), None, False)
    assert entry.with_ops(()) == Entry(1, 4, 3, (), 2, False) and entry.ops == (op,)
    with pytest.raises(TypeError, match="Op has no field 'speed'"):
        op.changed(speed=2)
    with pytest.raises(TypeError, match="Entry has no field 'x'"):
        entry.changed(x=1)
