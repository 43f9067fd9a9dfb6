"""Work split over forked processes (tracekit/parallel.py) and the what-if's steps spread over them
(tracekit/analysis/whatif_steps.py): the same results as one process computing every part."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import pytest

from tracekit import parallel
from tracekit.analysis import whatif_steps
from tracekit.analysis.analyze import analyze
from tracekit.analysis.document import encode
from tracekit.readers import read_trace
from tracekit.rules import CHANGES

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "sample_traces" / "sim_case000_baseline.pt.trace.json.gz"
needs_fork = pytest.mark.skipif(not parallel.can_fork(), reason="fork is not available in this process")


def _pid_and_square(part: int) -> tuple[int, int]:
    return os.getpid(), part * part


@needs_fork
def test_parts_after_the_first_run_in_children_and_come_back_in_order() -> None:
    results = parallel.forked_map(_pid_and_square, [1, 2, 3])
    assert [square for _, square in results] == [1, 4, 9]
    pids = [pid for pid, _ in results]
    assert pids[0] == os.getpid()
    assert len({*pids[1:]} - {os.getpid()}) == 2  # one child per other part


@needs_fork
def test_a_part_whose_child_fails_is_computed_here() -> None:
    parent = os.getpid()

    def only_here(part: int) -> tuple[int, int]:
        if os.getpid() != parent:
            raise RuntimeError("fails in the child")
        return _pid_and_square(part)

    assert parallel.forked_map(only_here, [5, 6]) == [(parent, 25), (parent, 36)]


def test_a_worker_process_computes_every_part_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(multiprocessing, "parent_process", lambda: object())
    assert parallel.spare_jobs() == 1
    assert parallel.forked_map(_pid_and_square, [1, 2]) == [(os.getpid(), 1), (os.getpid(), 4)]


def _analysed(monkeypatch: pytest.MonkeyPatch, jobs: int) -> bytes:
    monkeypatch.setattr(whatif_steps, "spare_jobs", lambda: jobs)
    monkeypatch.setattr(whatif_steps, "PARALLEL_MIN_OPS", 0)
    return encode(analyze(read_trace(SAMPLE), changes=CHANGES))


@needs_fork
def test_the_whatif_over_three_processes_gives_the_same_document(monkeypatch: pytest.MonkeyPatch) -> None:
    splits: list[int] = []
    real_parts = whatif_steps._parts
    monkeypatch.setattr(whatif_steps, "_parts", lambda *a: splits.append(len(p := real_parts(*a))) or p)
    serial = _analysed(monkeypatch, 1)
    assert splits == [1]
    assert _analysed(monkeypatch, 3) == serial
    assert splits[1] == 3  # the sample's steps went to this process and two helpers


def test_the_plan_and_claims_steps_stay_in_this_process() -> None:
    class Model:
        def __init__(self, ops: int, length: int) -> None:
            self.rows, self.start, self.end = range(ops), 0, length

    models = [Model(ops=100 * (i % 5 + 1), length=i) for i in range(32)]
    parts = whatif_steps._parts(models, 2)
    kept = {0, 4, 8, 13, 17, 22, 26, 31, whatif_steps.median_step(models)}
    assert kept <= set(parts[0])
    assert sorted(parts[0] + parts[1]) == list(range(32))
    loads = [sum(len(models[i].rows) for i in part) for part in parts]
    assert abs(loads[0] - loads[1]) <= 500  # balanced to within the largest step
