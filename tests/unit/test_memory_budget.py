"""The memory budget (tracekit/readers/memory_budget.py): the setting, else a share of the memory this
process may use (the available memory, capped by what the cgroup's limit leaves), measured once, split between
traces analysed at once; a trace too large for it is spilled by default."""

from __future__ import annotations

import gc
import os
from pathlib import Path
from types import SimpleNamespace

import psutil
import pytest
from kineto_builder import kernel, runtime, step, write_trace

from tracekit import resident
from tracekit.analysis.analyze import analyze
from tracekit.analysis.document import encode
from tracekit.readers import memory_budget as budgets
from tracekit.readers import read_trace
from tracekit.readers.chunked import driver, split
from tracekit.readers.memory_budget import MEMORY_BUDGET_ENV, cgroup_headroom
from tracekit.rules import CHANGES

GIB = 1 << 30


@pytest.fixture(autouse=True)
def measured_anew(monkeypatch: pytest.MonkeyPatch):
    """No setting, and the default measured again in each test (and after it)."""
    monkeypatch.delenv(MEMORY_BUDGET_ENV, raising=False)
    budgets.default_budget.cache_clear()
    yield
    budgets.default_budget.cache_clear()


def _usable(monkeypatch: pytest.MonkeyPatch, value: int | None) -> list[int]:
    calls: list[int] = []

    def usable() -> int | None:
        calls.append(1)
        return value

    monkeypatch.setattr(budgets, "usable_memory", usable)
    budgets.default_budget.cache_clear()
    return calls


def test_a_setting_is_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    _usable(monkeypatch, 10 * GIB)
    monkeypatch.setenv(MEMORY_BUDGET_ENV, "2GB")
    assert budgets.memory_budget(Path("t.json")) == 2 * GIB


def test_without_a_setting_the_budget_is_a_share_of_the_usable_memory_measured_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = _usable(monkeypatch, 10 * GIB)
    assert budgets.DEFAULT_SHARE == 0.8
    assert budgets.memory_budget(Path("t.json")) == 8 * GIB
    assert budgets.memory_budget(Path("t.json")) == 8 * GIB and calls == [1]


def test_unknown_memory_is_no_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    _usable(monkeypatch, None)
    assert budgets.memory_budget(Path("t.json")) is None


def test_the_usable_memory_is_the_available_capped_by_the_cgroups_headroom(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       24683664 kB\nMemFree: 1 kB\nMemAvailable:    8388608 kB\n")
    monkeypatch.setattr(budgets, "MEMINFO", meminfo)
    monkeypatch.setattr(psutil, "virtual_memory", lambda: SimpleNamespace(available=3 * GIB))
    monkeypatch.setattr(budgets, "cgroup_headroom", lambda membership, root: 2 * GIB)
    assert budgets.usable_memory() == 2 * GIB
    monkeypatch.setattr(budgets, "cgroup_headroom", lambda membership, root: None)
    assert budgets.usable_memory() == 8 * GIB  # Linux's MemAvailable
    meminfo.write_text("MemTotal: 24683664 kB\n")  # no MemAvailable (or not Linux): psutil's
    assert budgets.usable_memory() == 3 * GIB
    monkeypatch.setattr(budgets, "MEMINFO", tmp_path / "missing")
    assert budgets.usable_memory() == 3 * GIB


def test_meminfo_is_what_psutil_reports_here() -> None:
    if not budgets.MEMINFO.exists():
        pytest.skip("no /proc/meminfo: not Linux")
    found = budgets.meminfo_available(budgets.MEMINFO)
    assert found is not None and abs(found - psutil.virtual_memory().available) < 256 << 20


def _cgroups(root: Path, membership: str, files: dict[str, str]) -> int | None:
    root.mkdir()
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text + "\n")
    (root / "self-cgroup").write_text(membership)
    return cgroup_headroom(root / "self-cgroup", root / "fs")


def test_cgroup_v2_limit_of_the_group_or_of_the_container_root(tmp_path: Path) -> None:
    assert _cgroups(tmp_path / "a", "0::/ci/job\n", {"fs/ci/job/memory.max": str(4 * GIB)}) == 4 * GIB
    assert _cgroups(tmp_path / "b", "0::/ci/job\n", {"fs/ci/job/memory.max": "max"}) is None
    # inside a container the group's path is the host's, the mount shows the group at its root
    assert _cgroups(tmp_path / "c", "0::/kubepods/pod1\n", {"fs/memory.max": str(GIB)}) == GIB


def test_cgroup_v1_limit_unlimited_and_joined_controllers(tmp_path: Path) -> None:
    v1 = "fs/memory/memory.limit_in_bytes"
    assert _cgroups(tmp_path / "a", "4:memory:/process_api/b1\n", {v1: "9223372036854771712"}) is None
    assert _cgroups(tmp_path / "b", "4:memory:/process_api/b1\n", {v1: str(2 * GIB)}) == 2 * GIB
    group = "fs/memory/job/memory.limit_in_bytes"
    assert _cgroups(tmp_path / "c", "7:cpu,memory:/job\n3:pids:/job\n", {group: str(3 * GIB)}) == 3 * GIB


def test_the_headroom_is_the_limit_less_the_working_set(tmp_path: Path) -> None:
    """The group's usage counts, less its inactive page cache (reclaimed first, e.g. a trace read
    before); the usage alone where memory.stat lacks the key; the limit alone where unreadable."""
    v2 = {"fs/ci/job/memory.max": str(8 * GIB), "fs/ci/job/memory.current": str(5 * GIB)}
    stat = f"anon {GIB}\ninactive_file {2 * GIB}\nactive_file {GIB}"
    assert _cgroups(tmp_path / "a", "0::/ci/job\n", {**v2, "fs/ci/job/memory.stat": stat}) == 5 * GIB
    no_key = {**v2, "fs/ci/job/memory.stat": f"anon {GIB}"}
    assert _cgroups(tmp_path / "b", "0::/ci/job\n", no_key) == 3 * GIB
    assert _cgroups(tmp_path / "c", "0::/ci/job\n", v2) == 8 * GIB  # no memory.stat
    v1 = {"fs/memory/memory.limit_in_bytes": str(4 * GIB), "fs/memory/memory.usage_in_bytes": str(5 * GIB)}
    v1_stat = f"inactive_file 1\ntotal_inactive_file {GIB // 2}"  # v1: the hierarchy's total
    full = {**v1, "fs/memory/memory.stat": v1_stat}
    assert _cgroups(tmp_path / "d", "4:memory:/\n", full) == 0  # over its limit: nothing left


def test_the_lowest_cgroup_limit_and_none_without_cgroups(tmp_path: Path) -> None:
    both = {"fs/memory.max": str(5 * GIB), "fs/memory/memory.limit_in_bytes": str(3 * GIB)}
    assert _cgroups(tmp_path / "a", "0::/\n4:memory:/\n", both) == 3 * GIB
    assert _cgroups(tmp_path / "b", "0::/\n", {}) is None  # no memory controller mounted
    assert _cgroups(tmp_path / "c", "garbage\n", {}) is None
    assert cgroup_headroom(tmp_path / "missing", tmp_path) is None  # not Linux


def test_traces_analysed_at_once_split_the_default_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    _usable(monkeypatch, 10 * GIB)
    assert budgets.shared_budget(4) == str(2 * GIB)
    with budgets.traces_pool(2) as pool:
        assert list(pool.map(os.getenv, [MEMORY_BUDGET_ENV] * 2)) == [str(4 * GIB)] * 2
    assert os.environ.get(MEMORY_BUDGET_ENV) is None  # this process's own is untouched
    monkeypatch.setenv(MEMORY_BUDGET_ENV, "1GB")
    assert budgets.shared_budget(4) is None  # a budget that is set is each process's own
    with budgets.traces_pool(2) as pool:
        assert list(pool.map(os.getenv, [MEMORY_BUDGET_ENV] * 2)) == ["1GB"] * 2


def test_a_worker_with_a_memory_limit_splits_its_share_of_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    _usable(monkeypatch, 10 * GIB)  # the machine's default: 8 GiB
    assert budgets.shared_budget(2, memory_limit=4 * GIB) == str(int(4 * GIB * 0.8) // 2)
    assert budgets.shared_budget(2, memory_limit=40 * GIB) == str(4 * GIB)  # the machine's is lower
    assert budgets.shared_budget(2, memory_limit=None) == str(4 * GIB)  # no limit: the machine's
    _usable(monkeypatch, None)
    assert budgets.shared_budget(4, memory_limit=4 * GIB) == str(int(4 * GIB * 0.8) // 4)
    monkeypatch.setenv(MEMORY_BUDGET_ENV, "1GB")
    assert budgets.shared_budget(2, memory_limit=4 * GIB) is None


def _events(steps: int = 6) -> list[dict]:
    events = []
    for n in range(steps):
        t = n * 1000
        events += [step(n + 1, t, 900), runtime("cudaLaunchKernel", t + 2, 5, correlation=n + 1)]
        events.append(kernel("gemm", t + 10, 200, correlation=n + 1))
    return events


def test_a_trace_too_large_for_the_memory_is_spilled_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_trace(tmp_path / "t.json", _events())
    expected = encode(analyze(read_trace(path), changes=CHANGES))
    gc.collect()
    assert not resident.holding()
    _usable(monkeypatch, 2048)  # 1.6 KB of budget: the streamed table foretells more than half
    monkeypatch.setattr(driver, "CHUNK_BYTES", 400)
    monkeypatch.setattr(split, "QUICK_WINDOW", 128)
    trace = read_trace(path)
    assert resident.holding()  # the table is on memory-mapped files
    assert encode(analyze(trace, changes=CHANGES)) == expected
