"""The Ascend reader: profiler output (msprof, torch_npu, MindSpore), a file or a directory, one Trace
per rank.

Sources, in order of preference for the events of a rank: the timeline (`trace_view.json` /
`msprof_*.json`, slices joined), else the SQLite export, else op_summary / kernel_details alone.
op_summary / kernel_details rows are joined to the timeline's device tasks (same start ns and name)
and give the Ascend operator columns (core type, block dim, OP State, input dtypes / shapes, task
wait). step_trace_time, op_statistic, api_statistic, info.json.N, profiler_info and
communication.json go into `Trace.metadata["ascend"]`. Formats: docs/formats.md; columns: docs/model.md.

Each rank is read under its own `checked.collecting()`: the values it replaced or dropped are counted
in that rank's `metadata["warnings"]`. A rank with host events but no device task loads (the reader
policy in `tracekit.readers` adds the host-only warning).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tracekit.errors import TraceError
from tracekit.gcpause import gc_paused
from tracekit.model.schema import NONE
from tracekit.model.steps import assign_steps
from tracekit.model.trace import Trace
from tracekit.readers import checked
from tracekit.readers.ascend.communication import read_communication
from tracekit.readers.ascend.db import read_database, read_step_trace_db
from tracekit.readers.ascend.discovery import RankFiles, discover
from tracekit.readers.ascend.join import join_kernels, kernels_as_events
from tracekit.readers.ascend.rows import EventRows
from tracekit.readers.ascend.summaries import (
    Kernels,
    read_api_statistic,
    read_kernel_details,
    read_op_statistic,
    read_step_trace_time,
)
from tracekit.readers.ascend.timeline import Timeline, add_timelines, read_timelines
from tracekit.readers.ascend.values import to_int
from tracekit.readers.source import decode_json, read_buffer

FORMAT = "ascend"
_API_OF_INTEREST = re.compile(r"Compile|Tiling|Memcpy|Synchroni", re.IGNORECASE)
_MAX_CORES = 1 << 16
KNOWN_VERSIONS: dict[str, tuple[str, ...]] = {
    "cann_version": ("6.", "7.", "8."),
    "torch_npu_version": ("2.",),
    "version": ("1.",),
}
"""Version fields of profiler_info / info.json, by the prefixes of the versions tested (the tested
data carry none of these fields; a value outside them loads with a warning)."""


def read_ascend(path: Path) -> Trace:
    """The one rank under `path`; a directory with several ranks is an input error."""
    traces = read_ascend_ranks(path)
    if len(traces) > 1:
        roots = ", ".join(t.source for t in traces)
        raise TraceError(path, f"holds {len(traces)} ranks ({roots}); analyse one rank directory")
    return traces[0]


def read_ascend_ranks(path: Path) -> list[Trace]:
    """One Trace per rank found under `path` (a file gives one)."""
    groups = discover(Path(path))
    traces = [_checked_rank(group, group.root if Path(path).is_dir() else Path(path)) for group in groups]
    return sorted(traces, key=_rank_order)


def _checked_rank(files: RankFiles, source: Path) -> Trace:
    """One rank, its replaced or dropped values counted in its own `metadata["warnings"]`."""
    with checked.collecting() as problems:
        trace = read_rank(files, source)
    warnings = [*_version_warnings(files), *problems.warnings()]
    return (
        Trace(trace.events, trace.format, trace.source, {**trace.metadata, "warnings": warnings})
        if warnings
        else trace
    )


def read_rank(files: RankFiles, source: Path) -> Trace:
    """Read one rank's files into the canonical table plus the Ascend columns and metadata."""
    rows = EventRows()
    with gc_paused():
        kernels, timelines = _kernels_and_timelines(files)
    known = kernels.device[kernels.device != NONE] if kernels is not None else []
    device = int(known[0]) if len(known) else 0
    meta: dict[str, object] = {"producer": _producer(files), "rank": _rank(files)}
    if files.timelines:
        meta["events_from"] = "timeline"
        meta.update(add_timelines(timelines, rows, device))
        if kernels is not None and len(kernels):
            meta["kernel_details"] = {"rows": len(kernels), "matched": join_kernels(rows, kernels)}
    elif files.databases:
        meta["events_from"] = "database"
        for database in files.databases:
            info = read_database(database, rows, device)
            meta["rank"] = meta["rank"] if meta["rank"] is not None else info.pop("rank", None)
            meta.update(info)
    else:
        meta["events_from"] = "kernel_details"
        meta["devices"] = kernels_as_events(rows, kernels, device) if kernels is not None else []
    table = assign_steps(rows.table())
    meta.update(_summaries(files))
    meta["files"] = files.files()
    return Trace(events=table, format=FORMAT, source=str(source), metadata={"ascend": meta})


def _kernels_and_timelines(files: RankFiles) -> tuple[Kernels | None, list[Timeline]]:
    """The kernel details and the decoded timelines, read at the same time (the CSV in a thread
    while the timeline's chunks are decoded, often in worker processes); their problems and errors
    are recorded as if the kernel details had been read first."""
    if not files.kernels:
        return None, read_timelines(files.timelines)
    with ThreadPoolExecutor(max_workers=1) as pool:
        kernels = pool.submit(_collected, _read_kernels, files.kernels)
        timelines = _collected(read_timelines, files.timelines)
        kernels = kernels.result()
    for result, problems in (kernels, timelines):
        if isinstance(result, BaseException):
            raise result
        checked.replay(problems)
    return kernels[0], timelines[0]


def _read_kernels(paths: list[Path]) -> Kernels:
    return Kernels.joined([read_kernel_details(path) for path in paths])


def _collected(read: Callable[[list[Path]], object], paths: list[Path]) -> tuple[object, checked.Problems]:
    """read(paths) or the exception it raised, with the problems it recorded."""
    with checked.collecting() as problems:
        try:
            return read(paths), problems
        except Exception as exc:  # raised again by the caller, in reading order
            return exc, problems


def _summaries(files: RankFiles) -> dict[str, object]:
    result: dict[str, object] = {}
    step_rows = [row for path in files.step_trace_time for row in read_step_trace_time(path)]
    if not step_rows:
        step_rows = [row for path in files.analysis_databases for row in read_step_trace_db(path)]
    result["step_trace_time"] = step_rows
    ai_cpu = [
        row
        for path in files.op_statistic
        for row in read_op_statistic(path)
        if str(row["core_type"]).upper() == "AI_CPU"
    ]
    result["op_statistic_ai_cpu"] = ai_cpu
    apis = [row for path in files.api_statistic for row in read_api_statistic(path)]
    result["api_statistic"] = [row for row in apis if _API_OF_INTEREST.search(str(row["api"]))]
    result["core_counts"] = _core_counts(files)
    result["profiler_level"] = _profiler_level(files)
    communication = read_communication(files.communication)
    if communication is not None:
        result["communication_json"] = communication
    return result


def _core_counts(files: RankFiles) -> dict[str, object] | None:
    """AI Core / vector core / AI CPU counts from info.json.N (the only place msprof writes them);
    an info.json without DeviceInfo (the host's) is skipped."""
    for path in files.device_info:
        devices = _json_object(path, "info.json").get("DeviceInfo")
        first = devices[0] if isinstance(devices, list) and devices else None
        if not isinstance(first, dict):
            continue
        ai_core = to_int(first.get("ai_core_num"), f"{path.name} ai_core_num", 1, _MAX_CORES)
        if ai_core == NONE:
            checked.note(f"{path.name} ai_core_num", "missing or unusable, core counts unknown")
            return None
        return {
            "ai_core": ai_core,
            "vector_core": max(to_int(first.get("aiv_num"), f"{path.name} aiv_num", 0, _MAX_CORES), 0),
            "ai_cpu": max(
                to_int(first.get("ai_cpu_core_num"), f"{path.name} ai_cpu_core_num", 0, _MAX_CORES), 0
            ),
            "source": str(path),
        }
    return None


def _json_object(path: Path, what: str) -> dict:
    """A small JSON file's top-level object ({} when it is another JSON value)."""
    value = decode_json(path, read_buffer(path), what=what)
    return value if isinstance(value, dict) else {}


def _profiler_info(files: RankFiles) -> dict:
    for path in files.profiler_info:
        value = _json_object(path, "profiler_info JSON")
        if value:
            return value
    return {}


def _version_warnings(files: RankFiles) -> list[str]:
    """One warning per version field of profiler_info / info.json outside the versions tested."""
    warnings = []
    for path in [*files.profiler_info, *files.device_info]:
        for key, value in _json_object(path, "JSON").items():
            known = KNOWN_VERSIONS.get(key)
            if known is not None and not str(value).startswith(known):
                shown = checked.text(value, key)[:40]
                warnings.append(
                    f"{path.name}: {key} {shown!r} is not a tested version; read as the tested layout"
                )
    return warnings


def _rank(files: RankFiles) -> int | None:
    rank = _profiler_info(files).get("rank_id")
    if isinstance(rank, int) and rank >= 0:
        return rank
    for path in files.profiler_info + files.databases:
        match = re.search(r"_(\d+)\.(json|db)$", path.name)
        if match:
            return int(match.group(1))
    return None


def _profiler_level(files: RankFiles) -> str | None:
    config = _profiler_info(files).get("config", {})
    level = config.get("experimental_config", {}).get("_profiler_level") if isinstance(config, dict) else None
    return level if isinstance(level, str) else None


def _producer(files: RankFiles) -> str:
    names = " ".join(str(p) for p in [files.root, *files.timelines, *files.kernels, *files.databases])
    if "_ascend_ms" in names:
        return "mindspore"
    if "ASCEND_PROFILER_OUTPUT" in names or "_ascend_pt" in names or "trace_view" in names:
        return "torch_npu"
    if "PROF_" in names or "msprof" in names or "op_summary" in names:
        return "msprof"
    return "unknown"


def _rank_order(trace: Trace) -> tuple[int, str]:
    rank = trace.metadata["ascend"]["rank"]
    return (rank if isinstance(rank, int) else 1 << 30, trace.source)
