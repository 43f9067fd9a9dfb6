"""The step replay and the what-if changes, exactly, on a tiny hand-built trace.

Step #1 [0, 100) us, one host thread, stream 7 (times in us):
  4 x cudaMemcpyAsync [10+20i, 15+20i)  -> pinned H2D copy of 1000(i+1) B at [12+20i, ...), 10 us + 1 ns/B
  cudaLaunchKernel [80, 85)             -> kernel [90, 95)
  cudaStreamSynchronize [86, 98)        waits for the kernel, returns 3 us after it
With `wrapped`, each copy call sits inside an `aten::to` CPU op [9+20i, 17+20i).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from kineto_builder import cpu_op, kernel, memcpy, runtime, step, write_trace

from tracekit.analysis import replay as replay_module
from tracekit.analysis import whatif as whatif_module
from tracekit.analysis.changes import ChangeInputs, fit_copy_cost
from tracekit.analysis.columns import Columns
from tracekit.analysis.replay import replay, replay_timeline
from tracekit.analysis.step_model import build_step
from tracekit.analysis.whatif import whatif_block
from tracekit.model.schema import CopyDirection, Kind
from tracekit.readers import read_trace
from tracekit.rules import CHANGES
from tracekit.rules.library.h2d_batch import batch_h2d

US = 1000


def _events(wrapped: bool) -> list[dict]:
    events = [step(1, 0, 100)]
    for i in range(4):
        a = 10 + 20 * i
        events.append(runtime("cudaMemcpyAsync", a, 5, correlation=i + 1))
        nbytes = 1000 * (i + 1)
        events.append(
            memcpy("Memcpy HtoD (Pinned -> Device)", a + 2, 10 + nbytes / US, nbytes, correlation=i + 1)
        )
        if wrapped:
            events.append(cpu_op("aten::to", a - 1, 8, external_id=100 + i))
    events += [
        runtime("cudaLaunchKernel", 80, 5, correlation=10),
        kernel("relu", 90, 5, correlation=10),
        runtime("cudaStreamSynchronize", 86, 12),
    ]
    return events


def _model(tmp_path: Path, wrapped: bool):
    trace = read_trace(write_trace(tmp_path / "t.json", _events(wrapped)))
    cols = Columns.from_table(trace.events)
    return trace, cols, build_step(trace.events, cols, 1, 0, 100 * US)


@pytest.mark.parametrize("wrapped", [False, True])
def test_replay_of_the_unchanged_step_is_exact(tmp_path: Path, wrapped: bool) -> None:
    _, _, model = _model(tmp_path, wrapped)
    assert replay(model) == 100 * US
    assert (model.min_lag, model.min_gap) == (2 * US, 4 * US)
    assert model.entries[-1].ret == 3 * US  # the sync returns 3 us after the kernel ends


def test_copy_cost_fit(tmp_path: Path) -> None:
    _, cols, _ = _model(tmp_path, False)
    rows = [i for i in range(len(cols.start)) if cols.copy_direction[i] == CopyDirection.H2D]
    cost = fit_copy_cost(cols, rows)
    assert cost.fixed_ns == pytest.approx(10 * US)
    assert cost.ns_per_byte == pytest.approx(1.0)
    assert cost.of(10_000) == 20 * US


@pytest.mark.parametrize(("wrapped", "predicted_us"), [(False, 46), (True, 45)])
def test_batch_h2d_merges_the_copies(tmp_path: Path, wrapped: bool, predicted_us: int) -> None:
    """The copies are adjacent: their host span ([10,75), or [9,77) with the aten::to ops) becomes one
    call of the cheapest copy's host cost (5 us, or an aten::to's 8 us) that issues one 20 us copy.
    Unwrapped: the copy [12,32), kernel launch at 20 -> ready 22, stream free at 32 + 4 -> [36,41),
    sync from 26 returns at 41 + 3 = 44, step end 44 + 2 = 46. Wrapped: copy [11,31), kernel [35,40),
    end 40 + 3 + 2 = 45."""
    _, cols, model = _model(tmp_path, wrapped)
    cost = fit_copy_cost(cols, [i for i in range(len(cols.start)) if cols.kind[i] == Kind.MEMCPY])
    edited = batch_h2d(model, cols, cost)
    merged = [op for entry in edited.entries for op in entry.ops if cols.kind[op.row] == Kind.MEMCPY]
    assert [op.dur for op in merged] == [20 * US]  # 10 us fixed + 10,000 B x 1 ns/B
    assert replay(model, edited.entries, edited.detached) == predicted_us * US


def test_whatif_block_numbers(tmp_path: Path) -> None:
    trace, cols, _ = _model(tmp_path, False)
    block = whatif_block(trace.events, cols, 0, changes=CHANGES)
    batch = block["batch_h2d"]
    assert (batch["baseline_step_ns"], batch["predicted_step_ns"]) == (100 * US, 46 * US)
    assert batch["speedup"] == pytest.approx(100 / 46)
    # targeted: the copies' host span [10,75) and the copies up to 86: [10,86) = 76 us of 100
    assert batch["removable_share"] == pytest.approx(0.76)
    assert batch["amdahl_bound"] == pytest.approx(1 / 0.24)
    assert block["steps_replayed"] == 1
    # no pageable copies, one synchronization: nothing to pin, no mid-step sync to remove
    assert not block["pin_memory"]["applicable"]
    assert not block["remove_host_syncs"]["applicable"]


def test_each_change_edits_and_replays_a_step_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The estimate, the plan's rounds and the claims edit and replay the same step with the same
    change: each edit runs once per step model (host syncs twice: on the measured step, and in the
    plan's second round on the batched one; it applies to neither), and replaying the same entries
    again is looked up: two replays in all, the batched step (estimate, then the plan's first round)
    and the measured one (the plan's baseline, every unchanged trial, the second round). Same
    numbers as without the caches."""
    trace, cols, _ = _model(tmp_path, False)
    calls: list[str] = []

    def counted(change):
        def edit(inputs):
            made = change.edit(inputs)
            return None if made is None else lambda model, c: calls.append(change.name) or made(model, c)

        return replace(change, edit=edit)

    timelines = []
    real = replay_module._duration
    monkeypatch.setattr(replay_module, "_duration", lambda *a: timelines.append(1) or real(*a))
    batch, syncs = (c for c in CHANGES if c.name in ("batch_h2d", "remove_host_syncs"))
    block = whatif_block(trace.events, cols, 0, changes=[counted(batch), counted(syncs)])
    assert Counter(calls) == {"batch_h2d": 1, "remove_host_syncs": 2}
    assert len(timelines) == 2
    assert block["batch_h2d"]["predicted_step_ns"] == 46 * US
    assert [(s["change"], s["predicted_step_ns"]) for s in block["plan"]["steps"]] == [("batch_h2d", 46 * US)]


def test_the_calibration_replays_outside_the_shared_replays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The calibration's bisection replays a new scaled step each time: inside `shared_replays` every
    one would be held until the block ends (a 90 MB trace's peak 245 -> 780 MB)."""
    trace, cols, _ = _model(tmp_path, False)
    shared_during_calibration = []
    real = whatif_module.calibrated

    def calibrated(*args):
        shared_during_calibration.append(replay_module._DURATIONS.get() is not None)
        return real(*args)

    monkeypatch.setattr(whatif_module, "calibrated", calibrated)
    block = whatif_block(trace.events, cols, 0, unprofiled_ns=50 * US, changes=CHANGES)
    assert shared_during_calibration == [False]
    assert block["calibration"]["unprofiled_step_ns"] == 50 * US


def test_cpu_bound_with_no_host_or_device_stage_does_not_fire() -> None:
    """A replayed step of 0 ns (found by fuzzing an Ascend kernel_details.csv): nothing to divide."""
    from document_builder import built_document
    from msgspec.structs import replace

    from tracekit.analysis.document.whatif import Pipeline
    from tracekit.analysis.whatif import _stage_gains
    from tracekit.rules.library import cpu_bound
    from tracekit.rules.model import Context

    document = built_document()
    (device,) = document.devices
    stages = Pipeline(applicable=True, steps=1, **_stage_gains(0.0, 0.0, 0.0))
    device = replace(device, whatif=replace(device.whatif, pipeline=stages), kernel_utilization=0.0)
    outcome = cpu_bound.check(Context(document, device, "ascend"))
    assert (outcome.status, outcome.reason) == ("not_fired", "no_host_stage")


def test_stage_gains_of_a_host_stage_three_times_the_rest() -> None:
    """Step 4 ms, host stage 3 ms, rest 1 ms: one worker bounds it at 3 ms; 3 workers at 1 ms."""
    from tracekit.analysis.whatif import _stage_gains

    gains = _stage_gains(4e6, 3e6, 0.9e6)
    assert (gains["rest_ns"], gains["predicted_step_ns"], gains["workers"]) == (1_000_000, 3_000_000, 3)
    assert gains["speedup"] == pytest.approx(4 / 3)
    assert (gains["workers_step_ns"], gains["workers_speedup"]) == (1_000_000, pytest.approx(4.0))
    assert gains["removable_share"] == pytest.approx(0.75) and gains["amdahl_bound"] == pytest.approx(4.0)


REPO = Path(__file__).resolve().parents[2]
REAL = ["decode_graph", "cpu_bound", "h2d28_separate_run1", "operators_fp32", "memory_leak"]


@pytest.mark.parametrize(
    "path",
    [
        *sorted((REPO / "sample_traces").glob("*.pt.trace.json.gz")),
        *(REPO / f"tests/data/gpu/{n}.pt.trace.json.gz" for n in REAL),
    ],
    ids=lambda p: p.name.split(".")[0],
)
def test_a_replayed_duration_is_its_timeline_s(path: Path) -> None:
    """`replay` keeps no operation's run (replay._duration); it gives the duration of the full
    timeline, for every step as measured and as every change edits it."""
    trace = read_trace(path)
    cols = Columns.from_table(trace.events)
    for device in cols.devices():
        inputs = ChangeInputs(trace.events, cols, device, None)
        edits = [edit for change in CHANGES if (edit := change.edit(inputs)) is not None]
        for model in whatif_module.step_models(trace.events, cols, device):
            cases = [(model.entries, model.detached)]
            cases += [(e.entries, e.detached) for edit in edits if (e := edit(model, cols)) is not None]
            for entries, detached in cases:
                assert replay(model, entries, detached) == replay_timeline(model, entries, detached).duration
