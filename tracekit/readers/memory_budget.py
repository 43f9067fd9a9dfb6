"""The memory budget of a trace's read and analysis: `--memory-budget` / TRACEKIT_MEMORY_BUDGET
(e.g. `2GB`), else DEFAULT_SHARE of the memory this process may use when it first asks: the machine's
available memory (free plus reclaimable caches: Linux's MemAvailable, psutil's elsewhere), or its
cgroup's limit where that is lower (a container, a CI job). A table larger than half the budget is
spilled (tracekit/readers/spill.py), and the worker processes are as many as the other half holds
(tracekit/resident.py): a trace too large for the machine is analysed from memory-mapped files
instead of swapping or being killed.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from functools import cache
from pathlib import Path

from tracekit.errors import TraceError
from tracekit.readers.source import parse_size

MEMORY_BUDGET_ENV = "TRACEKIT_MEMORY_BUDGET"
DEFAULT_SHARE = 0.8
"""Share of the memory this process may use that the default budget takes (the rest: the system and
the other processes). The in-memory analysis of a large trace peaks at about 2.3x its table (the
10 GB tiling of docs/benchmarks.md: a 1.69 GB table, 3.9 GB of PSS in all its processes), so a table
at the spill limit, half the budget, peaks near 0.9x the memory."""
CGROUP_ROOT = Path("/sys/fs/cgroup")
MEMINFO = Path("/proc/meminfo")
_UNLIMITED = 1 << 60  # cgroup v1 writes "no limit" as a page-rounded 2**63 - 1


def memory_budget(path: Path) -> int | None:
    """The memory budget in bytes: the setting, else the default (None where the machine's memory
    is unknown). A setting that is not a size is an input error naming `path`."""
    setting = _setting()
    if not setting:
        return default_budget()
    budget = parse_size(setting)
    if budget is None or budget <= 0:
        raise TraceError(path, f"{MEMORY_BUDGET_ENV}={setting[:40]!r} is not a size such as 2GB")
    return budget


def _setting() -> str:
    return os.environ.get(MEMORY_BUDGET_ENV, "").strip()


@cache
def default_budget() -> int | None:
    """DEFAULT_SHARE of `usable_memory()`, measured once per process: the read's decisions (the
    workers, the spill) are taken at different times and must agree."""
    usable = usable_memory()
    return None if usable is None else int(usable * DEFAULT_SHARE)


def shared_budget(processes: int) -> str | None:
    """The budget setting of each of `processes` processes that read and analyse traces at once: the
    default budget split between them; None where a budget is set (each process's own) or the memory
    is unknown."""
    if _setting():
        return None
    budget = default_budget()
    return None if budget is None else str(max(budget // processes, 1))


def traces_pool(processes: int) -> ProcessPoolExecutor:
    """A pool of `processes` worker processes that each read and analyse a trace at once, the
    default budget split between them (`shared_budget`)."""
    setting = shared_budget(processes)
    return ProcessPoolExecutor(max_workers=processes, initializer=_set_budget, initargs=(setting,))


def _set_budget(setting: str | None) -> None:
    if setting is not None:
        os.environ[MEMORY_BUDGET_ENV] = setting


def usable_memory() -> int | None:
    """The memory this process may use: the available memory, capped by the cgroup's limit."""
    available = meminfo_available(MEMINFO)
    if available is None:
        available = _psutil_available()
    if available is None:
        return None
    limit = cgroup_limit(Path("/proc/self/cgroup"), CGROUP_ROOT)
    return available if limit is None else min(available, limit)


def meminfo_available(meminfo: Path) -> int | None:
    """Linux's MemAvailable (what psutil reports there), read directly: importing psutil takes 13 ms
    of the read's start. None where there is none."""
    try:
        lines = meminfo.read_text().splitlines()
    except OSError:
        return None
    for fields in map(str.split, lines):
        if fields[:1] == ["MemAvailable:"] and len(fields) == 3 and fields[1].isdigit() and fields[2] == "kB":
            return int(fields[1]) * 1024
    return None


def _psutil_available() -> int | None:
    import psutil  # macOS, Windows, a Linux without MemAvailable

    try:
        return int(psutil.virtual_memory().available)
    except (OSError, RuntimeError):
        return None


def cgroup_limit(membership: Path, root: Path) -> int | None:
    """The memory limit of this process's cgroup (v2 `memory.max`, v1 `memory.limit_in_bytes`, in the
    group's folder or, inside a container, at the root of the mount); None when unlimited or unknown."""
    try:
        lines = membership.read_text().splitlines()
    except OSError:
        return None
    limits = [limit for line in lines for limit in [_limit_of(line, root)] if limit is not None]
    return min(limits, default=None)


def _limit_of(line: str, root: Path) -> int | None:
    hierarchy, controllers, group = [*line.split(":", 2), "", ""][:3]
    group = group.strip().lstrip("/")
    if hierarchy == "0" and not controllers:
        folders, name = (root / group, root), "memory.max"
    elif "memory" in controllers.split(","):
        folders, name = (root / "memory" / group, root / "memory"), "memory.limit_in_bytes"
    else:
        return None
    for folder in folders:
        try:
            text = (folder / name).read_text().strip()
        except OSError:
            continue
        return int(text) if text.isdigit() and int(text) < _UNLIMITED else None
    return None
