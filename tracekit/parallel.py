"""Independent parts of one computation run in forked processes where there are cores to spare.

`forked_map` runs the first part here and each other part in a child forked for it (the child sees
this process's objects as they are at the fork, copy-on-write, so nothing is pickled on the way in;
its result comes back pickled). Where fork is not available, inside a worker process (a rank pool's,
a reader's: their parent already spreads the work over the cores), or on one core, every part runs
here, in order. A child that fails, dies or sends nothing has its part computed here again: the
result is always what the parts computed one after another give.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from typing import TypeVar

Part = TypeVar("Part")
Result = TypeVar("Result")


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


def forked_map(function: Callable[[Part], Result], parts: Sequence[Part]) -> list[Result]:
    """`function` of each part, in order: parts[1:] in forked children when `spare_jobs` allows
    (callers make as many parts as `spare_jobs` says), parts[0] in this process."""
    if len(parts) <= 1 or not can_fork():
        return [function(part) for part in parts]
    context = multiprocessing.get_context("fork")
    children = [_started(context, function, part) for part in parts[1:]]
    here = function(parts[0])
    others = zip(children, parts[1:], strict=True)
    return [here, *(_collected(child, function, part) for child, part in others)]


def _started(context, function: Callable, part: object) -> tuple:
    receiving, sending = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(function, part, sending), daemon=True)
    process.start()
    sending.close()  # the child's end: this process only reads
    return process, receiving


def _child(function: Callable, part: object, sending) -> None:
    try:
        result = function(part)
    except BaseException:  # the parent computes the part again and raises what it raises
        sending.close()
        os._exit(1)
    sending.send(result)
    sending.close()


def _collected(child: tuple, function: Callable[[Part], Result], part: Part) -> Result:
    """The child's result, or the part computed here when the child sent none."""
    process, receiving = child
    try:
        result, received = receiving.recv(), True
    except (EOFError, OSError):
        result, received = None, False
    finally:
        receiving.close()
        process.join()
    return result if received else function(part)
