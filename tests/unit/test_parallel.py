"""Work split over forked processes (tracekit/parallel.py) and the what-if's steps spread over them
(tracekit/analysis/whatif_steps.py): the same results as one process computing every part."""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

import pytest

from tracekit import parallel
from tracekit.analysis import analyze as analysis
from tracekit.analysis import whatif_steps
from tracekit.analysis.analyze import analyze
from tracekit.analysis.document import encode
from tracekit.readers import read_trace
from tracekit.rules import CHANGES

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "sample_traces" / "sim_case000_baseline.pt.trace.json.gz"
needs_fork = pytest.mark.skipif(not parallel.can_fork(), reason="fork is not available in this process")


def _pid_and_square(item: int) -> tuple[int, int]:
    return os.getpid(), item * item


@needs_fork
def test_items_come_back_in_order_and_helpers_take_some(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "spare_jobs", lambda: 3)
    taken = multiprocessing.get_context("fork").Event()

    def in_helper(item: int) -> tuple[int, int]:
        taken.set()
        return _pid_and_square(item)

    done, results = parallel.shared_map(list(range(12)), _pid_and_square, in_helper, lambda: taken.wait(30))
    assert done is True  # this process waited for a helper to take an item
    assert [square for _, square in results] == [i * i for i in range(12)]
    assert {pid for pid, _ in results} - {os.getpid()}


@needs_fork
def test_this_process_takes_items_only_after_its_own_work(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "spare_jobs", lambda: 2)
    context = multiprocessing.get_context("fork")
    helper_took, first_done = context.Event(), context.Event()

    def in_helper(item: int) -> tuple[str, float]:
        helper_took.set()
        first_done.wait(30)
        time.sleep(0.1)  # this process takes the other items meanwhile
        return "helper", time.monotonic()

    def first() -> float:
        helper_took.wait(30)  # the helper starts and takes item 0 meanwhile
        first_done.set()
        return time.monotonic()

    def in_here(item: int) -> tuple[str, float]:
        return "here", time.monotonic()

    finished, results = parallel.shared_map(list(range(4)), in_here, in_helper, first)
    here = [at for who, at in results if who == "here"]
    assert here and min(here) >= finished
    assert results[0][0] == "helper"


@needs_fork
def test_items_whose_helper_fails_are_computed_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "spare_jobs", lambda: 2)
    parent = os.getpid()

    def fails(item: int) -> tuple[int, int]:
        raise RuntimeError("fails in the helper")

    def first() -> None:
        time.sleep(0.2)  # the helper takes (and fails on) an item meanwhile

    _, results = parallel.shared_map([5, 6], _pid_and_square, fails, first)
    assert results == [(parent, 25), (parent, 36)]


@needs_fork
def test_a_stuck_helper_is_stopped_and_its_items_computed_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "spare_jobs", lambda: 2)
    monkeypatch.setattr(parallel, "STUCK_AFTER_S", 0.5)
    parent = os.getpid()
    took = multiprocessing.get_context("fork").Event()

    def deadlocks(item: int) -> tuple[int, int]:
        took.set()
        time.sleep(3600)  # as a helper blocked on a lock another thread held at the fork
        return _pid_and_square(item)

    began = time.monotonic()
    _, results = parallel.shared_map([2, 3, 4], _pid_and_square, deadlocks, lambda: took.wait(30))
    assert results == [(parent, 4), (parent, 9), (parent, 16)]
    assert time.monotonic() - began < 30


@needs_fork
def test_items_a_helper_sent_before_it_died_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "spare_jobs", lambda: 2)
    context = multiprocessing.get_context("fork")
    helper_done = context.Event()
    calls = context.Value("i", 0)

    def dies_on_its_second(item: int) -> tuple[int, int]:
        with calls.get_lock():
            calls.value += 1
            if calls.value == 2:
                helper_done.set()
                os._exit(3)
        return _pid_and_square(item)

    _, results = parallel.shared_map(
        list(range(4)), _pid_and_square, dies_on_its_second, lambda: helper_done.wait(30)
    )
    assert [square for _, square in results] == [0, 1, 4, 9]
    assert results[0][0] != os.getpid()  # the helper's first item came back before it died
    assert all(pid == os.getpid() for pid, _ in results[1:])


def test_a_worker_process_computes_every_item_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(multiprocessing, "parent_process", lambda: object())
    assert parallel.spare_jobs() == 1
    done, results = parallel.shared_map([1, 2], _pid_and_square, _pid_and_square, lambda: "first")
    assert (done, results) == ("first", [(os.getpid(), 1), (os.getpid(), 4)])


@needs_fork
def test_beside_computes_the_task_in_a_helper_and_else_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "spare_jobs", lambda: 2)
    taken = multiprocessing.get_context("fork").Event()
    order: list[str] = []

    def task() -> tuple[int, int]:
        order.append("task")
        taken.set()
        return _pid_and_square(7)

    def main() -> str:
        taken.wait(30)  # the helper starts and takes the task meanwhile
        order.append("main")
        return "main"

    (pid, square), done = parallel.beside(task, main)
    assert (square, done) == (49, "main") and pid != os.getpid()
    assert order == ["main"]  # the task's append was the helper's
    monkeypatch.setattr(parallel, "spare_jobs", lambda: 1)
    taken.set()
    (pid, square), done = parallel.beside(task, main)
    assert (pid, square, done) == (os.getpid(), 49, "main")
    assert order == ["main", "main", "task"]  # one core: main first, then the task


@needs_fork
def test_a_task_whose_helper_fails_is_computed_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "spare_jobs", lambda: 2)
    here = os.getpid()

    def task() -> int:
        if os.getpid() != here:
            raise MemoryError("the helper ran out of memory")
        return os.getpid()

    assert parallel.beside(task, lambda: "main") == (here, "main")


def _analysed(monkeypatch: pytest.MonkeyPatch, jobs: int) -> bytes:
    monkeypatch.setattr(whatif_steps, "spare_jobs", lambda: jobs)
    monkeypatch.setattr(parallel, "spare_jobs", lambda: jobs)
    monkeypatch.setattr(whatif_steps, "PARALLEL_MIN_OPS", 0)
    monkeypatch.setattr(analysis, "HELPED_MIN_ROWS", 0)  # the measures beside the what-if, in a helper
    return encode(analyze(read_trace(SAMPLE), changes=CHANGES))


def test_a_meanwhile_task_runs_once_at_the_first_wait_in_its_block() -> None:
    ran: list[str] = []
    with parallel.meanwhile(lambda: ran.append("task")):
        ran.append("before")
        parallel.waiting()
        parallel.waiting()
    assert ran == ["before", "task"]
    with parallel.meanwhile(lambda: ran.append("never")):
        pass  # nothing in the block waits: the task is dropped, never run later
    parallel.waiting()
    assert ran == ["before", "task"]


@needs_fork
def test_the_whatif_over_three_processes_gives_the_same_document(monkeypatch: pytest.MonkeyPatch) -> None:
    shared: list[int] = []
    real_split = whatif_steps._split
    monkeypatch.setattr(whatif_steps, "_split", lambda *a: shared.append(len((p := real_split(*a))[1])) or p)
    serial = _analysed(monkeypatch, 1)
    assert shared == [0]
    assert _analysed(monkeypatch, 3) == serial
    assert shared[1] > 0  # the sample's steps were shared with two helpers


def test_the_plan_and_claims_steps_are_done_here_and_the_rest_shared_largest_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Model:
        def __init__(self, ops: int, length: int) -> None:
            self.rows, self.start, self.end = range(ops), 0, length

    monkeypatch.setattr(whatif_steps, "spare_jobs", lambda: 2)
    models = [Model(ops=100 * (i % 5 + 1), length=i) for i in range(32)]
    kept, shared = whatif_steps._split(models)
    assert kept == sorted({0, 4, 8, 13, 17, 22, 26, 31, whatif_steps.median_step(models)})
    assert sorted(kept + shared) == list(range(32))
    sizes = [len(models[i].rows) for i in shared]
    assert sizes == sorted(sizes, reverse=True)
    monkeypatch.setattr(whatif_steps, "spare_jobs", lambda: 1)
    assert whatif_steps._split(models) == (list(range(32)), [])
    monkeypatch.setattr(whatif_steps, "spare_jobs", lambda: len(kept) + 1)  # a helper per kept step
    kept_none, every = whatif_steps._split(models)
    assert kept_none == [] and sorted(every) == list(range(32))  # this process plans meanwhile


@needs_fork
def test_the_whatif_with_a_helper_for_every_planned_step_gives_the_same_document(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kept: list[int] = []
    real_split = whatif_steps._split
    monkeypatch.setattr(whatif_steps, "_split", lambda *a: kept.append(len((p := real_split(*a))[0])) or p)
    serial = _analysed(monkeypatch, 1)
    assert _analysed(monkeypatch, 10) == serial and kept[-1] == 0
