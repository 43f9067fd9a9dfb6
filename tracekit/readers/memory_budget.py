"""The memory budget of a trace's read and analysis: `--memory-budget` / TRACEKIT_MEMORY_BUDGET
(e.g. `2GB`), else DEFAULT_SHARE of the memory this process may use when it first asks: the machine's
available memory (free plus reclaimable caches: Linux's MemAvailable, psutil's elsewhere), or what its
cgroup's limit leaves where that is lower (a container, a CI job: the limit less the group's working
set). A table larger than half the budget is
spilled (tracekit/readers/spill.py), and the worker processes are as many as the other half holds
(tracekit/resident.py): a trace too large for the machine is analysed from memory-mapped files
instead of swapping or being killed.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
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


def shared_budget(processes: int, memory_limit: int | None = None) -> str | None:
    """The budget setting of each of `processes` processes (or threads) that read and analyse traces
    at once: the default budget split between them, DEFAULT_SHARE of `memory_limit` where one holds
    them all (a Dask worker's limit, below its default pause at 80 %) and is lower; None where a
    budget is set (each one's own) or the memory is unknown."""
    if _setting():
        return None
    budget = default_budget()
    if memory_limit:
        budget = min(int(memory_limit * DEFAULT_SHARE), budget if budget is not None else memory_limit)
    return None if budget is None else str(max(budget // processes, 1))


def traces_pool(processes: int) -> ProcessPoolExecutor:
    """A pool of `processes` worker processes that each read and analyse a trace at once, the
    default budget split between them (`shared_budget`)."""
    setting = shared_budget(processes)
    return ProcessPoolExecutor(max_workers=processes, initializer=apply_setting, initargs=(setting,))


def apply_setting(setting: str | None) -> None:
    """Make `setting` (a `shared_budget`) this process's budget; nothing for None."""
    if setting is not None:
        os.environ[MEMORY_BUDGET_ENV] = setting


def usable_memory() -> int | None:
    """The memory this process may use: the available memory, capped by its cgroup's headroom."""
    available = meminfo_available(MEMINFO)
    if available is None:
        available = _psutil_available()
    if available is None:
        return None
    headroom = cgroup_headroom(Path("/proc/self/cgroup"), CGROUP_ROOT)
    return available if headroom is None else min(available, headroom)


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


@dataclass(frozen=True)
class _Files:
    """The names of a cgroup version's memory files: its limit, its usage, and the key of its
    reclaimable page cache in memory.stat (v1's `total_` key counts the groups below too)."""

    limit: str
    usage: str
    inactive_file: str


V2 = _Files("memory.max", "memory.current", "inactive_file")
V1 = _Files("memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file")


def cgroup_headroom(membership: Path, root: Path) -> int | None:
    """What this process's cgroup (v2 or v1, in the group's folder or, inside a container, at the root
    of the mount) lets it still use: its memory limit less its working set (the usage less the
    inactive page cache, which the kernel reclaims first: the working set of docker stats and the
    kubelet); the lowest of the groups, None when unlimited or unknown."""
    try:
        lines = membership.read_text().splitlines()
    except OSError:
        return None
    found = [_headroom(*place) for line in lines for place in [_group(line, root)] if place is not None]
    return min((headroom for headroom in found if headroom is not None), default=None)


def _group(line: str, root: Path) -> tuple[tuple[Path, Path], _Files] | None:
    """The folders where the memory files of one line of /proc/self/cgroup may be, and their names."""
    hierarchy, controllers, group = [*line.split(":", 2), "", ""][:3]
    group = group.strip().lstrip("/")
    if hierarchy == "0" and not controllers:
        return (root / group, root), V2
    if "memory" in controllers.split(","):
        return (root / "memory" / group, root / "memory"), V1
    return None


def _headroom(folders: tuple[Path, Path], files: _Files) -> int | None:
    for folder in folders:
        try:
            text = (folder / files.limit).read_text().strip()
        except OSError:
            continue
        if not text.isdigit() or int(text) >= _UNLIMITED:
            return None
        return max(int(text) - _working_set(folder, files), 0)
    return None


def _working_set(folder: Path, files: _Files) -> int:
    """The group's usage less its inactive page cache, in bytes (v1 without hierarchical counts: the
    group's own); 0 where unreadable (the limit alone counts)."""
    try:
        usage = int((folder / files.usage).read_text().strip())
        stat = (folder / "memory.stat").read_text().split()
    except (OSError, ValueError):
        return 0
    pairs = dict(zip(stat[::2], stat[1::2], strict=False))
    inactive = pairs.get(files.inactive_file, pairs.get("inactive_file", "0"))
    return max(usage - int(inactive), 0) if inactive.isdigit() else usage
