"""Many ranks: find them in the paths given, then read and analyse each whole rank in a worker.

A rank is a trace file (Kineto, nsys, ...) or one Ascend rank directory. Each worker reads AND
analyses one rank at a time and sends back only its document (a Document, which pickles;
recommendations included), so a worker holds at most one rank's events. Workers are a local
process pool (every core by default), or a Dask distributed cluster (`--scheduler`, the
`tracekit[cluster]` extra), whose workers must read the rank paths (a shared file system). One
rank, or `--jobs 1`, stays in this process. Documents come back in the order of the ranks found,
whatever order workers finish."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tracekit.errors import TraceError
from tracekit.parallel import available_cores, meanwhile

if TYPE_CHECKING:
    from tracekit.analysis.document import Document
    from tracekit.analysis.options import Options

CLUSTER_EXTRA = "tracekit[cluster]"
SCHEDULER_ENV = "TRACEKIT_SCHEDULER"
NO_ASCEND_DATA = "no Ascend profiler data found"


@dataclass(frozen=True)
class RankSource:
    """Where one rank is: a trace file or Ascend rank directory (`path`), read as `format_name`
    (None: detected). `select`: the one Ascend rank root to keep when `path` holds more."""

    path: str
    format_name: str | None = None
    select: str | None = None


class SchedulerError(Exception):
    """The Dask scheduler cannot be used (extra missing, unreachable); one line, exit 2."""


def rank_sources(paths: list[Path], format_name: str | None = None) -> list[RankSource]:
    """Every rank under `paths`, in order: a file is one rank; a directory holding Ascend profiler
    data gives one rank per rank directory, any other directory each trace file in it (name order,
    files no reader takes skipped)."""
    return [source for path in paths for source in _sources_of(path, format_name)]


def _sources_of(path: Path, format_name: str | None) -> list[RankSource]:
    from tracekit.readers.source import is_directory

    if not is_directory(path):
        return [RankSource(str(path), format_name)]
    from tracekit.readers.ascend.discovery import discover

    groups = _ascend_groups(path) if format_name in (None, "ascend") else []
    if len(groups) == 1:
        return [RankSource(str(path), format_name)]
    if groups:
        return [RankSource(str(g.root), format_name, select=str(g.root)) for g in groups]
    if format_name == "ascend":
        discover(path)  # raises: no Ascend profiler data
    traces = _trace_files(path)
    if not traces:
        raise TraceError(path, "holds no trace: no file a reader takes, and no Ascend profiler data")
    return [RankSource(str(file), format_name) for file in traces]


def _ascend_groups(folder: Path) -> list:
    """The Ascend rank groups under `folder`; none when it holds no Ascend data (other errors raise)."""
    from tracekit.readers.ascend.discovery import discover

    try:
        return discover(folder)
    except TraceError as exc:
        if exc.problem.startswith(NO_ASCEND_DATA):
            return []
        raise


def _trace_files(folder: Path) -> list[Path]:
    """The files under `folder` (recursively, name order) that a non-Ascend reader takes."""
    found = []
    for directory, subdirs, names in os.walk(folder):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
        for name in sorted(names):
            file = Path(directory, name)
            if not name.startswith(".") and file.is_file() and _is_other_trace(file):
                found.append(file)
    return found


def _is_other_trace(file: Path) -> bool:
    from tracekit.readers import detect_format

    try:
        return detect_format(file).name != "ascend"
    except (TraceError, OSError):
        return False


NEXT_MODULES = ("numpy.ma", "tracekit.analysis.analyze", "tracekit.rules", "tracekit.report.terminal")
"""What analysing a rank and summarising it imports once it is read: imported while the reader's
workers decode (parallel.meanwhile), so that the read starts without waiting for them (numpy.ma:
numpy 2's first `np.unique` imports it, 11 ms of the table's assembly). The HTML report's code is
loaded the same way only when one will be written (cli/main.py, preload_report)."""


def analyse_rank(source: RankSource, options: Options) -> list[Document] | tuple[str, str]:
    """Read and analyse one rank: its documents with their English recommendations, or, for bad
    input, (path, problem) (a TraceError does not survive pickling back from a worker)."""
    from tracekit.readers import read_traces

    try:
        with meanwhile(_import_next):
            traces = read_traces(source.path, source.format_name)
        from tracekit.analysis.analyze import analyze
        from tracekit.rules import CHANGES, recommend

        if source.select is not None:
            traces = [t for t in traces if Path(t.source) == Path(source.select)]
        documents = [analyze(trace, options, CHANGES) for trace in traces]
    except TraceError as exc:
        return (exc.path, exc.problem)
    for document in documents:
        document.recommendations = recommend(document, "en")
    return documents


def _import_next() -> None:
    for name in NEXT_MODULES:
        importlib.import_module(name)


def analyse_ranks(
    sources: list[RankSource], options: Options, jobs: int | None = None, scheduler: str | None = None
) -> list[Document]:
    """The documents of every rank, by rank id (those without one last, ties in the order of
    `sources`). `jobs`: local worker processes (None: every core); `scheduler`: a Dask scheduler
    address, which takes the place of the local pool."""
    if scheduler:
        results = _on_dask(scheduler, sources, options)
    else:
        results = _on_pool(sources, options, jobs or available_cores())
    documents = [document for result in results for document in _documents(result)]
    return sort_by_rank(documents)


def _documents(result: list[Document] | tuple[str, str]) -> list[Document]:
    if isinstance(result, tuple):
        raise TraceError(*result)
    return result


def _on_pool(sources: list[RankSource], options: Options, jobs: int) -> list:
    """The ranks on `jobs` worker processes at most; the default memory budget is split between them
    (a budget that is set is each one's)."""
    workers = min(jobs, len(sources))
    if workers <= 1:
        return [analyse_rank(source, options) for source in sources]
    from tracekit.readers.memory_budget import traces_pool

    with traces_pool(workers) as pool:
        return list(pool.map(analyse_rank, sources, [options] * len(sources)))


def _on_dask(address: str, sources: list[RankSource], options: Options) -> list:
    """Each rank a task on the cluster's workers; the paths made absolute for them."""
    client_class = _dask_client()
    shared = [_absolute(source) for source in sources]
    try:
        client = client_class(address, timeout="10s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise SchedulerError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    with client:
        futures = client.map(analyse_rank_on_dask, shared, options=options, pure=False)
        return client.gather(futures)


def analyse_rank_on_dask(source: RankSource, options: Options) -> list[Document] | tuple[str, str]:
    """`analyse_rank` as a task on a Dask worker, whose default memory budget is then its share of
    the worker's memory limit: the limit holds every task its threads run at once (and the other
    workers on the machine theirs), where each process's own default would take 80 % of the
    machine. A budget set in the worker's environment stays."""
    from distributed import get_worker

    from tracekit.readers.memory_budget import apply_setting, shared_budget

    worker = get_worker()
    apply_setting(shared_budget(worker.state.nthreads, worker.memory_manager.memory_limit))
    return analyse_rank(source, options)


def _dask_client() -> Callable:
    try:
        from distributed import Client
    except ImportError:
        raise SchedulerError(f"--scheduler needs Dask distributed: pip install '{CLUSTER_EXTRA}'") from None
    return Client


def _absolute(source: RankSource) -> RankSource:
    select = str(Path(source.select).resolve()) if source.select else None
    return RankSource(str(Path(source.path).resolve()), source.format_name, select)


def rank_of(document: Document) -> int | None:
    """The rank id the trace records (Ascend rank id, Kineto distributedInfo), if any."""
    return rank_in(document.trace.metadata)


def rank_in(metadata: dict) -> int | None:
    """The rank id in a reader's metadata (Ascend rank id, Kineto distributedInfo), if any."""
    for block in ("ascend", "distributed"):
        rank = metadata.get(block, {}).get("rank")
        if isinstance(rank, int) and not isinstance(rank, bool):
            return rank
    return None


def sort_by_rank(documents: list[Document]) -> list[Document]:
    """Documents by rank id, those without one last; equal ids keep their order."""
    return sorted(documents, key=_rank_key)


def _rank_key(document: Document) -> tuple[bool, int]:
    rank = rank_of(document)
    return (rank is None, rank or 0)
