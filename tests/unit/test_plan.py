"""The plan (tracekit/analysis/plan.py), claims and causes, and the plan's preconditions (training
detection, instances), exactly, on tiny hand-built steps (times in us, one host thread, stream 7)."""

from __future__ import annotations

from pathlib import Path

import pytest
from kineto_builder import HOST_TID, cpu_op, kernel, memcpy, runtime, step, write_trace
from replay_builder import US, kernel_chain, step_model

from tracekit.analysis.changes import Edit, Edited, synchronizing
from tracekit.analysis.columns import Columns
from tracekit.analysis.plan import causes, claimed, path_time, plan, step_path
from tracekit.analysis.replay import StepModel
from tracekit.analysis.whatif import _instances
from tracekit.analysis.workload import workload
from tracekit.model.intervals import total_length
from tracekit.model.schema import Kind
from tracekit.readers import read_trace
from tracekit.rules import CHANGES
from tracekit.rules.library.graph_launch import graph_launch
from tracekit.rules.library.host_syncs import remove_host_syncs

ENABLED = {change.name: change.enabled_by for change in CHANGES if change.enabled_by}


def _read(tmp_path: Path, events: list[dict]) -> tuple[object, Columns]:
    trace = read_trace(write_trace(tmp_path / "t.json", events))
    return trace, Columns.from_table(trace.events)


def _shorten(name: str, dur_us: int) -> Edit:
    """A change that gives kernel `name` the duration dur_us."""

    def edit(model: StepModel, cols: Columns) -> Edited:
        def op_of(op):
            return op.with_dur(dur_us * US) if cols.names[cols.name_code[op.row]] == name else op

        entries = [e.with_ops(tuple(op_of(op) for op in e.ops)) for e in model.entries]
        return Edited(entries, model.detached, [])

    return edit


def _changes(steps: list[dict]) -> list[tuple[str, str | None]]:
    return [(s["change"], s.get("enables")) for s in steps]


# --- the greedy plan -----------------------------------------------------------------------------


def test_changes_apply_on_top_and_gains_multiply(tmp_path: Path) -> None:
    """a: k3 38 -> 19 (95 -> 76, x1.25); b: k1 20 -> 10 (alone 95 -> 85, on top of a 76 -> 66);
    c: k2 15 -> 14 saves 66 / 65 = x1.015 < 1.05: not in the plan. Cumulative 95 / 66 =
    (95 / 76) x (76 / 66)."""
    cols, model = step_model(tmp_path, kernel_chain(), 95)
    result = plan([model], cols, {"c": _shorten("k2", 14), "b": _shorten("k1", 10), "a": _shorten("k3", 19)})
    assert result["baseline_step_ns"] == 95 * US
    steps = result["steps"]
    assert _changes(steps) == [("a", None), ("b", None)]
    assert [s["predicted_step_ns"] for s in steps] == [76 * US, 66 * US]
    assert steps[0]["speedup"] == pytest.approx(95 / 76)
    assert steps[1]["speedup"] == pytest.approx(76 / 66)  # on top of a, not 95 / 85 alone
    assert steps[1]["cumulative"] == pytest.approx(steps[0]["speedup"] * steps[1]["speedup"])
    assert steps[1]["cumulative"] == pytest.approx(95 / 66)


def test_a_change_below_the_threshold_does_not_enter(tmp_path: Path) -> None:
    """k2 15 -> 14: 95 / 94 = x1.011 < 1.05."""
    cols, model = step_model(tmp_path, kernel_chain(), 95)
    assert plan([model], cols, {"c": _shorten("k2", 14)})["steps"] == []


def test_a_remover_enables_only_a_change_it_unblocks(tmp_path: Path) -> None:
    """graph_launch is not blocked here (it applies alone: 95 -> 76); batch_h2d saves 95 / 94 <
    1.05 and unblocks nothing, so it must not enter (MIN_SPEEDUP: unless it unblocks one)."""
    cols, model = step_model(tmp_path, kernel_chain(), 95)
    edits = {"batch_h2d": _shorten("k2", 14), "graph_launch": _shorten("k3", 19)}
    result = plan([model], cols, edits, ENABLED)
    assert _changes(result["steps"]) == [("graph_launch", None)]


def _item_step(synchronize: bool) -> list[dict]:
    """Four launches [10i,10i+8) -> kernels [10i+9,10i+11) (lag 9, gap 8); `aten::item` [40,54)
    reading one value: cudaMemcpyAsync [41,53) that waits for its D2H copy [50,51), or (`synchronize`)
    cudaMemcpyAsync [41,44) then cudaStreamSynchronize [45,53); four launches [60+10j,68+10j) ->
    kernels [69+10j,71+10j); cudaDeviceSynchronize [100,105) returns 4 after the last kernel (101);
    200 us of host work after it: step [0,305)."""
    events = []
    for i, a in enumerate([0, 10, 20, 30, 60, 70, 80, 90]):
        events.append(runtime("cudaLaunchKernel", a, 8, correlation=i + 1))
        events.append(kernel(f"k{i}", a + 9, 2, correlation=i + 1))
    read = [runtime("cudaMemcpyAsync", 41, 3 if synchronize else 12, correlation=9, external_id=1)]
    read += [runtime("cudaStreamSynchronize", 45, 8)] if synchronize else []
    events += [cpu_op("aten::item", 40, 14, external_id=1), *read]
    events.append(memcpy("Memcpy DtoH (Device -> Pageable)", 50, 1, 4, correlation=9))
    return [*events, runtime("cudaDeviceSynchronize", 100, 5)]


@pytest.mark.parametrize("synchronize", [False, True])
def test_graph_launch_enters_after_remove_host_syncs(tmp_path: Path, synchronize: bool) -> None:
    """The `.item()` blocks graph capture (two synchronizing entries). Removing it alone: the host
    no longer spends [40,54): 305 - 14 = 291, x1.048 < 1.05. Then two graphs (the item's empty entry
    splits the runs), each one 8 us call (max(8, 4 x 0.95)), kernels 0.112 apart:
    G1 call [0,8): k0 [9,11), k1..k3 at 11.112, 13.224, 15.336 -> ends 17.336; item entry at 10;
    G2 call [16,24): k4 at max(16 + 9, 17.336 + 8) = 25.336, k7 ends 25.336 + 4 x 2 + 3 x 0.112 =
    33.672; the sync begins 24 + 2 = 26 and returns 33.672 + 4 = 37.672; + 200 = 237.672."""
    cols, model = step_model(tmp_path, _item_step(synchronize), 305)
    assert len(synchronizing(model)) == 2 and graph_launch(model, cols) is None
    edits = {"graph_launch": graph_launch, "remove_host_syncs": remove_host_syncs}
    steps = plan([model], cols, edits, ENABLED)["steps"]
    assert _changes(steps) == [("remove_host_syncs", "graph_launch"), ("graph_launch", None)]
    assert [s["predicted_step_ns"] for s in steps] == [291 * US, 237_672]
    assert steps[0]["speedup"] == pytest.approx(305 / 291) and steps[0]["speedup"] < 1.05
    assert steps[1]["speedup"] == pytest.approx(291_000 / 237_672)
    assert steps[1]["cumulative"] == pytest.approx(305_000 / 237_672)


def test_an_unblocked_change_still_needs_the_threshold(tmp_path: Path) -> None:
    """remove_host_syncs alone: 305 -> 291; a graph_launch (blocked by the sync, as the real one)
    that then saves 1 us more (291 / 290 = x1.003) must not enter: the plan is remove_host_syncs
    alone, enabling nothing."""
    cols, model = step_model(tmp_path, _item_step(False), 305)
    shorten_k7 = _shorten("k7", 1)

    def blocked_graph(m: StepModel, c: Columns) -> Edited | None:
        return None if len(synchronizing(m)) > 1 else shorten_k7(m, c)

    edits = {"graph_launch": blocked_graph, "remove_host_syncs": remove_host_syncs}
    steps = plan([model], cols, edits, ENABLED)["steps"]
    assert _changes(steps) == []  # 305 / 291 < 1.05 and nothing worth enabling


# --- claims and causes ---------------------------------------------------------------------------


def test_claims_and_causes(tmp_path: Path) -> None:
    """The chain's path tiles [0,95). Claims: a [10,50) = 40, b [30,70) = 40 (shares 20 = half of
    40: one cause), c [60,120) clipped to the path = [60,95) = 35 (shares 10 with b < 17.5, none
    with a: its own), d [0,5) = 5 (inside no other)."""
    cols, model = step_model(tmp_path, kernel_chain(), 95)
    path = path_time(step_path(model, cols))
    targets = {"a": [(10, 50)], "b": [(30, 40), (40, 70)], "c": [(60, 120)], "d": [(0, 5)]}
    claims = {name: claimed(path, [(lo * US, hi * US) for lo, hi in t]) for name, t in targets.items()}
    assert {name: total_length(c) // US for name, c in claims.items()} == {"a": 40, "b": 40, "c": 35, "d": 5}
    assert causes(claims) == [["a", "b"]]
    assert causes({"b": claims["b"], "c": claims["c"]}) == []


def test_causes_chain_into_one_group(tmp_path: Path) -> None:
    """a [0,20), b [10,30), c [20,40): a-b and b-c share half: one cause of three (components)."""
    cols, model = step_model(tmp_path, kernel_chain(), 95)
    path = path_time(step_path(model, cols))
    claims = {n: claimed(path, [(lo * US, (lo + 20) * US)]) for n, lo in [("a", 0), ("b", 10), ("c", 20)]}
    assert causes(claims) == [["a", "b", "c"]]


# --- preconditions: training, instances ----------------------------------------------------------


@pytest.mark.parametrize(
    ("names", "kind"),
    [
        (["aten::linear", "autograd::engine::evaluate_function: AddmmBackward0", "Optimizer.step#SGD.step"],
         "training"),
        (["aten::linear", "aten::relu", "aten::softmax", "aten::addmm"], "inference"),
    ],
)  # fmt: skip
def test_workload(tmp_path: Path, names: list[str], kind: str) -> None:
    _, cols = _read(tmp_path, [step(1, 0, 100)] + [cpu_op(n, 10 * i, 5, i + 1) for i, n in enumerate(names)])
    found = workload(cols)
    assert found["kind"] == kind
    assert found["evidence"] == sorted(n for n in names if "Backward" in n or "Optimizer" in n)


def _launch(tid: int, ts: float, correlation: int, stream: int, copy: bool = False) -> list[dict]:
    """A launch call on host thread `tid` and the kernel (or H2D copy) it put on `stream`."""
    call = {**runtime("cudaMemcpyAsync" if copy else "cudaLaunchKernel", ts, 2, correlation), "tid": tid}
    if copy:
        device = memcpy("Memcpy HtoD (Pinned -> Device)", ts + 3, 2, 1000, correlation)
    else:
        device = kernel(f"k{correlation}", ts + 3, 2, correlation, stream=stream)
    device["args"]["stream"] = device["tid"] = stream
    return [call, device]


@pytest.mark.parametrize(
    ("launches", "instances"),
    [
        ([(HOST_TID, 7, False), (200, 8, False)], 2),  # two threads, each with its own stream
        ([(HOST_TID, 7, False), (HOST_TID, 8, True)], 1),  # one thread: a compute and a copy stream
        ([(HOST_TID, 7, False), (200, 7, False)], 1),  # two threads sharing one stream
    ],
)
def test_instances(tmp_path: Path, launches: list[tuple[int, int, bool]], instances: int) -> None:
    events = [step(1, 0, 100)]
    for i, (tid, stream, copy) in enumerate(launches):
        events += _launch(tid, 10 * i, i + 1, stream, copy) + _launch(tid, 10 * i + 5, i + 11, stream, copy)
    trace, cols = _read(tmp_path, events)
    kernels = cols.device_ops(0)
    assert _instances(cols, kernels[cols.kind[kernels] == Kind.KERNEL], trace.events) == instances
