"""The simulator against case 000 (shared/seeds/000_*): its table, and tracekit's own profile facts.

The model's parameters are the ones in scenarios/case000.toml, the same for every configuration;
only the run settings (batch, instances, aicore, batch H2D) change between cells.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tracekit.analysis.analyze import analyze
from tracekit.analysis.document import Document
from tracekit.readers import read_trace
from tracekit.simulate.device import Simulation, Summary
from tracekit.simulate.emit_kineto import write_kineto
from tracekit.simulate.scenarios import load, with_run

TABLE_INFERENCES = 200  # per cell: long enough for a steady state, short enough for the test budget
THROUGHPUT_TOLERANCE, LATENCY_TOLERANCE = 0.15, 0.20


def _measure(name: str, batch: int) -> Summary:
    scenario = with_run(load(name), batch=batch, inferences=TABLE_INFERENCES)
    simulation = Simulation(scenario.workload, scenario.host, scenario.device, scenario.run)
    for _ in simulation.records():
        pass
    return simulation.summary()


@pytest.fixture(scope="module")
def table() -> list[tuple[str, int, float, float, float, float]]:
    """(variant, batch, simulated and published throughput ratio, simulated and published latency ratio)."""
    published = load("case000").published
    measured = [_measure(row.variant, row.batch) for row in published]
    base, base_row = measured[0], published[0]
    assert (base_row.variant, base_row.batch) == ("case000", 128)
    return [
        (
            row.variant, row.batch,
            m.throughput / base.throughput, row.throughput / base_row.throughput,
            m.mean_latency_ns / base.mean_latency_ns, row.latency_ms / base_row.latency_ms,
        )
        for row, m in zip(published, measured, strict=True)
    ]  # fmt: skip


def test_case000_table_side_by_side(table: list, capsys: pytest.CaptureFixture[str]) -> None:
    with capsys.disabled():
        print("\ncase 000, ratios against single instance batch 128 (simulated / published)")
        print(f"{'configuration':34} {'batch':>5} {'throughput':>17} {'latency':>17}")
        for variant, batch, sim_t, pub_t, sim_l, pub_l in table:
            print(f"{variant:34} {batch:5} {sim_t:7.3f} / {pub_t:6.3f}  {sim_l:7.3f} / {pub_l:6.3f}")
    assert len(table) == 10
    for variant, batch, sim_t, pub_t, sim_l, pub_l in table:
        assert abs(sim_t / pub_t - 1) <= THROUGHPUT_TOLERANCE, (variant, batch, sim_t, pub_t)
        assert abs(sim_l / pub_l - 1) <= LATENCY_TOLERANCE, (variant, batch, sim_l, pub_l)


def _analysis(tmp_path: Path, name: str, inferences: int) -> Document:
    scenario = with_run(load(name), inferences=inferences)
    simulation = Simulation(scenario.workload, scenario.host, scenario.device, scenario.run)
    path = tmp_path / f"{name.replace('/', '_')}.pt.trace.json.gz"
    run = scenario.run
    write_kineto(path, simulation.records(), scenario.device, run.instances, batch_h2d=run.batch_h2d, gz=True)
    return analyze(read_trace(path))


@pytest.fixture(scope="module")
def profiles(tmp_path_factory: pytest.TempPathFactory) -> tuple[Document, Document]:
    folder = tmp_path_factory.mktemp("profiles")
    return _analysis(folder, "case000", 100), _analysis(folder, "case000/optimized", 60)


def test_baseline_profile_matches_case000(profiles: tuple[Document, Document]) -> None:
    """28 H2D per inference, 53.6 % of the time in exposed H2D, 10 % compute (docs/simulator.md)."""
    baseline = profiles[0].devices[0]
    assert baseline.h2d.per_step == 28.0
    assert abs(baseline.h2d.exposed_share - 0.536) <= 0.05
    assert abs(baseline.kernel_utilization - 0.10) <= 0.05


def test_optimized_profile_matches_case000_table2(profiles: tuple[Document, Document]) -> None:
    """2 copies per inference, 10.4 % H2D, 72 % compute, 81.3 % fewer bubbles (at least 70 %)."""
    baseline, optimized = (p.devices[0] for p in profiles)
    steps = (profiles[0].steps.count, profiles[1].steps.count)
    assert optimized.h2d.per_step == 2.0
    assert abs(optimized.h2d.exposed_share - 0.104) <= 0.05
    assert abs(optimized.kernel_utilization - 0.72) <= 0.08
    per_inference = (baseline.bubbles.count / steps[0], optimized.bubbles.count / steps[1])
    assert per_inference[1] <= 0.30 * per_inference[0]
