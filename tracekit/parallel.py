"""Independent items of one computation shared with forked helpers where there are cores to spare.

`shared_map` forks its helpers at once; each takes the next untaken item from a shared counter until
none is left (a slow helper simply takes fewer). This process first does the work only it can do
(`first`: steps whose edits and replays it caches for later), then takes items the same way. A
helper sees this process's objects as they are at the fork, copy-on-write, so nothing is pickled on
the way in; its results come back pickled. Where fork is not available, inside a worker process (a
rank pool's, a reader's: their parent already spreads the work over the cores), or on one core,
everything runs here, in order. Items a helper took and did not send back (it failed or died) are
computed here again: the results are always what computing the items one after another gives.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from typing import TypeVar

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
    """Processes a computation here may spread over: the cores where forking is allowed, else 1."""
    return available_cores() if can_fork() else 1


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
    children = [_started(context, lambda: _taken(helper, items, counter)) for _ in range(helpers)]
    try:
        done, results = first(), dict(_taken(here, items, counter))
        for child in children:
            results.update(_collected(child))
    finally:
        for process, _ in children:
            if process.is_alive():  # this process failed before collecting it
                process.kill()
                process.join()
    return done, [results[i] if i in results else here(item) for i, item in enumerate(items)]


def _taken(function: Callable[[Item], Result], items: Sequence[Item], counter) -> list[tuple[int, Result]]:
    """(index, result) of each item this process takes from the shared counter."""
    results = []
    while (index := _next(counter)) < len(items):
        results.append((index, function(items[index])))
    return results


def _next(counter) -> int:
    with counter.get_lock():
        index = counter.value
        counter.value += 1
    return index


def _started(context, work: Callable[[], object]) -> tuple:
    receiving, sending = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(work, sending), daemon=True)
    process.start()
    sending.close()  # the child's end: this process only reads
    return process, receiving


def _child(work: Callable[[], object], sending) -> None:
    try:
        result = work()
    except BaseException:  # its items are computed again here, which raises what they raise
        sending.close()
        os._exit(1)
    sending.send(result)
    sending.close()


def _collected(child: tuple) -> list:
    """The (index, result) pairs a helper sent; none when it sent nothing."""
    process, receiving = child
    try:
        return receiving.recv()
    except (EOFError, OSError):
        return []
    finally:
        receiving.close()
        process.join()
