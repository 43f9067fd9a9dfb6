"""Many ranks read and analysed in parallel: which ranks a path holds, the pool, the order, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ascend_builder import task, write_rank
from tests.kineto_builder import kernel, nccl_kernel, runtime, step, write_trace
from tracekit.analysis.analyze import Options
from tracekit.analysis.document import Document
from tracekit.cli.ranks import RankSource, analyse_ranks, rank_sources
from tracekit.errors import TraceError
from tracekit.readers import memory_budget


def write_rank_trace(path: Path, rank: int, kernels: int) -> Path:
    """One Kineto rank: a 1 ms step with `kernels` 10 µs kernels then a 50 µs all-reduce."""
    events = [step(1, 0.0, 1000.0)]
    for i in range(kernels):
        events += [runtime("cudaLaunchKernel", 10.0 + 20 * i, 5.0, i), kernel("gemm", 20.0 + 20 * i, 10.0, i)]
    events.append(nccl_kernel("allreduce", 600.0, 50.0, 1024, group_size=2))
    header = {"distributedInfo": {"rank": rank, "world_size": 3, "backend": "nccl"}}
    return write_trace(path, events, header=header)


@pytest.fixture
def kineto_ranks(tmp_path: Path) -> Path:
    """Three ranks whose file names sort unlike their rank ids, a README beside them."""
    folder = tmp_path / "run"
    folder.mkdir()
    write_rank_trace(folder / "a.pt.trace.json", rank=2, kernels=3)
    write_rank_trace(folder / "b.pt.trace.json", rank=0, kernels=1)
    (folder / "sub").mkdir()
    write_rank_trace(folder / "sub" / "c.pt.trace.json", rank=1, kernels=2)
    (folder / "README.md").write_text("not a trace\n")
    return folder


def kernel_busy_us(document: dict) -> float:
    """Kernel busy time of the rank's one device in its JSON: its gemms (10 µs each) and the 50 µs
    all-reduce."""
    (device,) = document["devices"]
    return device["kernel_busy_ns"] / 1000


def busy_us(document: Document) -> float:
    """kernel_busy_us of an analysis Document."""
    (device,) = document.devices
    return device.kernel_busy_ns / 1000


def test_a_folder_of_kineto_traces_is_one_rank_per_trace_file(kineto_ranks: Path) -> None:
    sources = rank_sources([kineto_ranks])
    assert [Path(s.path).name for s in sources] == ["a.pt.trace.json", "b.pt.trace.json", "c.pt.trace.json"]


def test_the_pool_gives_the_serial_documents_in_rank_order(kineto_ranks: Path) -> None:
    sources = rank_sources([kineto_ranks])
    pooled = analyse_ranks(sources, Options(), jobs=2)
    serial = analyse_ranks(sources, Options(), jobs=1)
    assert pooled == serial  # the Documents pickled back from the workers are the ones made here
    assert [d.trace.metadata["distributed"]["rank"] for d in pooled] == [0, 1, 2]
    assert [busy_us(d) for d in pooled] == [60, 70, 80]  # ranks 0-2: 1-3 gemms
    assert all(d.recommendations.lang == "en" for d in pooled)  # computed in the worker


def test_one_rank_stays_in_this_process(kineto_ranks: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pool(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a pool was started for one rank")

    monkeypatch.setattr(memory_budget, "traces_pool", no_pool)
    sources = rank_sources([kineto_ranks / "a.pt.trace.json"])
    assert [busy_us(d) for d in analyse_ranks(sources, Options(), jobs=4)] == [80]
    assert len(analyse_ranks(rank_sources([kineto_ranks]), Options(), jobs=1)) == 3


def test_bad_input_in_a_worker_is_the_one_line_error_naming_its_file(kineto_ranks: Path) -> None:
    broken = kineto_ranks / "d.pt.trace.json"
    broken.write_text('{"schemaVersion": 1, "traceEvents": [{"ph": "X", "name": "k", "ts": 1')
    sources = [*rank_sources([kineto_ranks]), RankSource(str(broken))]
    with pytest.raises(TraceError) as raised:
        analyse_ranks(sources, Options(), jobs=2)
    assert raised.value.path == str(broken)


def test_an_ascend_cluster_folder_is_one_source_per_rank(tmp_path: Path) -> None:
    cluster = tmp_path / "cluster"
    for rank in (1, 0):
        write_rank(cluster, rank, [task("MatMul", "1000.000", 10.0 + rank)])
    sources = rank_sources([cluster])
    assert [Path(s.path).name for s in sources] == ["rank0_ascend_pt", "rank1_ascend_pt"]
    documents = analyse_ranks(sources, Options(), jobs=2)
    assert [d.trace.metadata["ascend"]["rank"] for d in documents] == [0, 1]
    assert [d.devices[0].kernel_busy_ns for d in documents] == [10_000, 11_000]


def test_a_folder_without_any_trace_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello\n")
    with pytest.raises(TraceError, match="holds no trace"):
        rank_sources([tmp_path])


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "tracekit", "analyze", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=cwd)


def test_cli_folder_and_files_give_one_document_per_rank(kineto_ranks: Path, tmp_path: Path) -> None:
    folder = run_cli(str(kineto_ranks), "--json", "-", "--no-html", cwd=tmp_path)
    files = sorted(str(p) for p in kineto_ranks.rglob("*.json"))
    listed = run_cli(*files, "--json", "-", "--no-html", "--jobs", "1", cwd=tmp_path)
    assert folder.returncode == listed.returncode == 0, folder.stderr + listed.stderr
    assert json.loads(folder.stdout) == json.loads(listed.stdout)
    assert [kernel_busy_us(d) for d in json.loads(folder.stdout)] == [60, 70, 80]


def test_cli_writes_one_json_per_rank_named_after_the_folder(kineto_ranks: Path, tmp_path: Path) -> None:
    result = run_cli(str(kineto_ranks), "--no-html", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    written = sorted(p.name for p in (tmp_path / "reports").iterdir())
    assert written == ["run.cluster.analysis.json", *(f"run.rank{n}.analysis.json" for n in range(3))]
    rank1 = json.loads((tmp_path / "reports" / "run.rank1.analysis.json").read_text())
    assert kernel_busy_us(rank1) == 70


def test_scheduler_without_dask_is_one_line_naming_the_extra(kineto_ranks: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "no_dask" / "distributed"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('distributed is not installed here')\n")
    paths = [str(blocker.parent), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    command = [sys.executable, "-m", "tracekit", "analyze", str(kineto_ranks), "--scheduler", "tcp://h:8786"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert (
        result.stderr
        == "tracekit: error: --scheduler needs Dask distributed: pip install 'tracekit[cluster]'\n"
    )
    assert not (tmp_path / "reports").exists()
