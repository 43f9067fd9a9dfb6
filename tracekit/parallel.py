"""Independent items of one computation shared with forked helpers where there are cores to spare.

`shared_map` forks its helpers at once; each takes the next untaken item from a shared counter until
none is left (a slow helper simply takes fewer). This process first does the work only it can do
(`first`: steps whose edits and replays it caches for later), then takes items the same way. A
helper sees this process's objects as they are at the fork, copy-on-write, so nothing is pickled on
the way in; its results come back pickled. Where fork is not available, inside a worker process (a
rank pool's, a reader's: their parent already spreads the work over the cores), or on one core,
everything runs here, in order. Items a helper took and did not send back (it failed, died or is
stuck) are computed here again: the results are always what computing the items one after another
gives.

`meanwhile` is the other way round: work this process needs soon (imports) done while its workers
(a reader's) are busy, the first time it would wait for them.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from multiprocessing import connection
from typing import TypeVar

from tracekit import resident

Result = TypeVar("Result")
Item = TypeVar("Item")
Other = TypeVar("Other")


def available_cores() -> int:
    """The cores this process may run on."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else os.cpu_count() or 1


def can_fork() -> bool:
    """Whether this process may fork helpers: fork exists, and this is not itself a worker process."""
    return "fork" in multiprocessing.get_all_start_methods() and multiprocessing.parent_process() is None


def spare_jobs() -> int:
    """Processes a computation here may spread over: the cores where forking is allowed (no more than
    the memory budget of a spilled table allows: tracekit/resident.py), else 1."""
    return resident.helpers_allowed(available_cores()) if can_fork() else 1


_pending: list[Callable[[], object]] = []
"""The tasks of the `meanwhile` blocks this process is in, not yet run."""


@contextmanager
def meanwhile(task: Callable[[], object]) -> Iterator[None]:
    """Run `task` at most once, the first time code in the block waits for worker processes
    (`waiting`), so that it overlaps their work; never when nothing in the block waits (the task must
    be work done on demand anyway, such as imports)."""
    _pending.append(task)
    try:
        yield
    finally:
        if task in _pending:
            _pending.remove(task)


def waiting() -> None:
    """Called where this process is about to wait for its workers: runs the `meanwhile` tasks."""
    while _pending:
        _pending.pop(0)()


def beside(task: Callable[[], Result], main: Callable[[], Other]) -> tuple[Result, Other]:
    """`task()` computed by a forked helper on a spare core while `main()` runs here; both here,
    `main()` first, where no core is spare (or the helper fails)."""
    done, (result,) = shared_map((None,), lambda _: task(), lambda _: task(), main)
    return result, done


def shared_map(
    items: Sequence[Item],
    here: Callable[[Item], Result],
    helper: Callable[[Item], Result],
    first: Callable[[], Other],
) -> tuple[Other, list[Result]]:
    """`first()`, and the result of each item in order: `helper(item)` in a forked helper, `here(item)`
    in this process (which starts taking items once `first()` is done)."""
    helpers = min(spare_jobs() - 1, len(items))
    if helpers < 1:
        return first(), [here(item) for item in items]
    context = multiprocessing.get_context("fork")
    counter = context.Value("q", 0)
    children = {}
    try:
        for _ in range(helpers):
            children.update([_started(context, helper, items, counter)])
        done, (results, longest) = first(), _taken(here, items, counter, None)
        results.update(_collected(children, longest))
    finally:
        _stopped(children)
    return done, [results[i] if i in results else here(item) for i, item in enumerate(items)]


def _taken(function: Callable[[Item], Result], items: Sequence[Item], counter, sending) -> tuple[dict, float]:
    """The result of each item this process takes from the shared counter, by index (each also sent
    to the parent when `sending`), and the longest an item took, in seconds."""
    results, longest = {}, 0.0
    while (index := _next(counter)) < len(items):
        began = time.perf_counter()
        results[index] = function(items[index])
        seconds = time.perf_counter() - began
        longest = max(longest, seconds)
        if sending is not None:
            sending.send((index, results[index], seconds))
    return results, longest


def _next(counter) -> int:
    with counter.get_lock():
        index = counter.value
        counter.value += 1
    return index


def _started(context, function: Callable, items: Sequence, counter) -> tuple:
    """(the end this process reads, the helper process) of a new helper."""
    receiving, sending = context.Pipe(duplex=False)
    process = context.Process(target=_helper, args=(function, items, counter, sending), daemon=True)
    process.start()
    sending.close()  # the helper's end: this process only reads
    return receiving, process


def _helper(function: Callable, items: Sequence, counter, sending) -> None:
    try:
        _taken(function, items, counter, sending)
    except BaseException:  # the items it did not send are computed again here, raising what they raise
        os._exit(1)
    sending.close()


STUCK_AFTER_S = 60.0
"""Helpers silent this long (and for STUCK_TIMES the longest item yet) are taken as stuck (a fork
of a process whose other thread held a lock can deadlock): stopped, their items computed here."""
STUCK_TIMES = 10


def _collected(children: dict, longest: float) -> dict:
    """The results the helpers send, by index, until each has closed its end (those are removed from
    `children`) or all left are stuck."""
    results = {}
    while children:
        ready = connection.wait(list(children), timeout=max(STUCK_AFTER_S, STUCK_TIMES * longest))
        if not ready:
            break
        for receiving in ready:
            try:
                index, results[index], seconds = receiving.recv()
                longest = max(longest, seconds)
            except (EOFError, OSError):  # done, or died
                _stopped({receiving: children.pop(receiving)})
    return results


def _stopped(children: dict) -> None:
    """Close each reading end and end its helper (killed when still running)."""
    for receiving, process in children.items():
        receiving.close()
        if process.is_alive():
            process.kill()
        process.join()
