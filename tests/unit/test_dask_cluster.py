"""`analyze --scheduler` on a real Dask cluster: a scheduler and two worker processes on localhost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.test_ranks_parallel import kernel_busy_us, write_rank_trace
from tracekit.readers.memory_budget import MEMORY_BUDGET_ENV

try:
    from distributed import Client, LocalCluster
except ImportError:
    if os.environ.get("CI"):  # CI installs tracekit[cluster]: this test must run there
        raise
    pytest.skip("distributed is not installed: pip install 'tracekit[cluster]'", allow_module_level=True)


WORKER_MEMORY = 2 << 30


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    """A scheduler and two single-threaded worker processes of WORKER_MEMORY each, shut down after
    the tests."""
    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        host="127.0.0.1",
        memory_limit=WORKER_MEMORY,
    ) as local:
        yield local
    assert local.status.name == "closed"


@pytest.fixture
def ranks_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "run"
    folder.mkdir()
    for rank, kernels in ((1, 2), (0, 1), (3, 4), (2, 3)):
        write_rank_trace(folder / f"worker{3 - rank}.pt.trace.json", rank=rank, kernels=kernels)
    return folder


def analyze_json(folder: Path, cwd: Path, env: dict[str, str] | None = None, *extra: str) -> list[dict]:
    command = [sys.executable, "-m", "tracekit", "analyze", str(folder), "--json", "-", "--no-html", *extra]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=cwd, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def ranks_computed(cluster: LocalCluster) -> int:
    """Tasks of the per-rank function that the scheduler saw finish, since it started."""
    prefix = cluster.scheduler.task_prefixes.get("analyse_rank_on_dask")
    return 0 if prefix is None else prefix.state_counts["memory"]


def test_the_cluster_gives_the_json_of_the_local_run(
    cluster: LocalCluster, ranks_folder: Path, tmp_path: Path
) -> None:
    assert len(cluster.scheduler.workers) == 2
    local = analyze_json(ranks_folder, tmp_path)
    before = ranks_computed(cluster)
    remote = analyze_json(ranks_folder, tmp_path, None, "--scheduler", cluster.scheduler_address)
    assert ranks_computed(cluster) - before == 4  # one task per rank
    assert remote == local
    assert [kernel_busy_us(d) for d in remote] == [60, 70, 80, 90]  # rank order: 1 to 4 gemms


def test_the_scheduler_comes_from_the_environment_too(
    cluster: LocalCluster, ranks_folder: Path, tmp_path: Path
) -> None:
    env = {**os.environ, "TRACEKIT_SCHEDULER": cluster.scheduler_address}
    before = ranks_computed(cluster)
    remote = analyze_json(ranks_folder, tmp_path, env)
    assert ranks_computed(cluster) - before == 4
    assert remote == analyze_json(ranks_folder, tmp_path, None, "--jobs", "1")


def test_a_worker_budget_is_its_share_of_the_workers_memory_limit(
    cluster: LocalCluster, ranks_folder: Path, tmp_path: Path
) -> None:
    """Each worker's default budget: 80 % of its 2 GiB limit (one thread each; the machine's 80 % is
    more), not 80 % of the machine's memory as in a process of its own."""
    analyze_json(ranks_folder, tmp_path, None, "--scheduler", cluster.scheduler_address)
    with Client(cluster) as client:
        settings = client.run(os.getenv, MEMORY_BUDGET_ENV)
    assert set(settings.values()) - {None} == {str(int(WORKER_MEMORY * 0.8))}
