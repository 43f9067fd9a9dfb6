"""Finding Ascend profiler data in a file or a directory tree, by content, one group per rank.

Layouts covered: torch_npu / MindSpore `*_ascend_pt|ms/ASCEND_PROFILER_OUTPUT/`, native msprof
`PROF_*/mindstudio_profiler_output/`, the CANN 7 `PROF_*/device_N/{summary,timeline}/` layout,
sliced files (`msprof_slice_N_*.json`), and directories holding several ranks. Content is sniffed
after decompression (a gzipped `trace_view.json` or `msprof_*.json.gz` is a timeline); an unreadable
folder, a FIFO or a symbolic-link loop inside the tree is an input error naming it.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from tracekit.errors import TraceError
from tracekit.readers.ascend.sniff import JSON_ARRAY, csv_role, sniff_timeline
from tracekit.readers.ascend.sqlite import Database
from tracekit.readers.magic import SQLITE_MAGIC
from tracekit.readers.source import read_head, require_file

_RANK_DIR = re.compile(r"(_ascend_(pt|ms)$)|(^PROF_\d+_\d+_\w+$)")
_SLICE = re.compile(r"_slice_(\d+)")
_TIMELINE_NAME = re.compile(r"^(trace_view|msprof(_slice_\d+)?_[\w.]*|msprof)\.json(\.gz)?$")
_NAMED_ROLES = (
    (re.compile(r"^(kernel_details|op_summary)[\w.]*\.csv$"), "kernels"),
    (re.compile(r"^step_trace_time[\w.]*\.csv$"), "step_trace_time"),
    (re.compile(r"^op_statistic[\w.]*\.csv$"), "op_statistic"),
    (re.compile(r"^api_statistic[\w.]*\.csv$"), "api_statistic"),
)


@dataclass
class RankFiles:
    """The files that describe one rank (or one profiled process) and what was found about it."""

    root: Path
    timelines: list[Path] = field(default_factory=list)
    kernels: list[Path] = field(default_factory=list)
    step_trace_time: list[Path] = field(default_factory=list)
    op_statistic: list[Path] = field(default_factory=list)
    api_statistic: list[Path] = field(default_factory=list)
    databases: list[Path] = field(default_factory=list)
    analysis_databases: list[Path] = field(default_factory=list)
    device_info: list[Path] = field(default_factory=list)
    profiler_info: list[Path] = field(default_factory=list)
    communication: list[Path] = field(default_factory=list)

    def has_events(self) -> bool:
        """True when something here can give timed events (a timeline, a task CSV, a DB)."""
        return bool(self.timelines or self.kernels or self.databases)

    def files(self) -> dict[str, list[str]]:
        """Role -> paths read, for the trace metadata."""
        roles = (
            "timelines", "kernels", "step_trace_time", "op_statistic", "api_statistic",
            "databases", "analysis_databases", "device_info", "profiler_info", "communication",
        )  # fmt: skip
        return {role: [str(p) for p in getattr(self, role)] for role in roles if getattr(self, role)}


def discover(path: Path) -> list[RankFiles]:
    """The ranks under a directory, or the one rank a file belongs to; none found is an input error."""
    if path.is_dir():
        _require_listable(path)
        groups = _directory_groups(path)
        if not groups:
            raise TraceError(
                path,
                "no Ascend profiler data found (looked for trace_view.json, msprof_*.json, "
                "kernel_details / op_summary CSV, ascend_pytorch_profiler / msprof .db)",
            )
        return groups
    return [_file_group(path)]


def classify(path: Path) -> str | None:
    """The role of one file, from its name and content; None when it is not Ascend profiler data."""
    name = path.name
    if name.startswith("cluster_") or name.startswith("."):
        return None
    if name.startswith("info.json"):
        return "device_info"
    if re.match(r"^profiler_info(_\d+)?\.json$", name):
        return "profiler_info"
    if name == "communication.json":
        return "communication"
    head = read_head(path)
    if head.startswith(SQLITE_MAGIC):
        return _database_role(path)
    if name.endswith((".json", ".json.gz")) or JSON_ARRAY.match(head):
        return "timelines" if _TIMELINE_NAME.match(name) or sniff_timeline(head) else None
    if name.endswith(".csv"):
        for pattern, role in _NAMED_ROLES:
            if pattern.match(name):
                return role
        return csv_role(head)
    return None


def _database_role(path: Path) -> str | None:
    tables = database_tables(path)
    if {"TASK", "STRING_IDS"} <= tables:
        return "databases"
    if "StepTraceTime" in tables:
        return "analysis_databases"
    return None


def database_tables(path: Path) -> set[str]:
    """Table names of a SQLite file opened read-only; an unreadable file is an input error."""
    with Database(path) as db:
        return db.tables


def _directory_groups(root: Path) -> list[RankFiles]:
    groups: dict[Path, RankFiles] = {}
    for directory, subdirs, names in os.walk(root, onerror=_unreadable_folder):
        subdirs.sort()
        here = Path(directory)
        for name in sorted(names):
            file = here / name
            if not _non_empty_file(file):
                continue
            role = classify(file)
            if role is None:
                continue
            key = _rank_root(root, here)
            getattr(groups.setdefault(key, RankFiles(root=key)), role).append(file)
    found = [_prefer(group) for group in groups.values() if group.has_events()]
    return sorted(found, key=lambda g: str(g.root))


def _file_group(path: Path) -> RankFiles:
    """A single file, with the summary files beside it (and profiler_info one level up)."""
    group = RankFiles(root=path.parent)
    role = classify(path)
    if role in ("timelines", "kernels", "databases"):
        getattr(group, role).append(path)
    else:
        raise TraceError(path, "not an Ascend timeline, op_summary / kernel_details CSV or profiler DB")
    neighbours = [p for p in sorted(path.parent.iterdir()) if p.is_file() and p != path]
    if path.parent.name == "ASCEND_PROFILER_OUTPUT":
        neighbours += [p for p in sorted(path.parent.parent.iterdir()) if p.is_file()]
    for other in neighbours:
        other_role = None if other.stat().st_size == 0 else classify(other)
        if other_role is None or other_role in ("timelines", "databases"):
            continue
        if other_role == "kernels" and role != "timelines":
            continue
        getattr(group, other_role).append(other)
    return _prefer(group)


def _rank_root(root: Path, directory: Path) -> Path:
    """The outermost rank-like directory (`*_ascend_pt`, `PROF_*`, parent of ASCEND_PROFILER_OUTPUT)."""
    relative = directory.relative_to(root)
    chain = [root, *(root / Path(*relative.parts[: i + 1]) for i in range(len(relative.parts)))]
    for candidate in chain:
        if _RANK_DIR.search(candidate.name) or (candidate / "ASCEND_PROFILER_OUTPUT").is_dir():
            return candidate
    while directory != root and directory.name in (
        "ASCEND_PROFILER_OUTPUT", "mindstudio_profiler_output", "summary", "timeline", "data",
    ):  # fmt: skip
        directory = directory.parent
    return directory


def _prefer(group: RankFiles) -> RankFiles:
    """torch_npu's trace_view.json / kernel_details.csv contain the msprof files beside them: keep one."""
    views = [p for p in group.timelines if p.name == "trace_view.json"]
    if views:
        group.timelines = views
    group.timelines.sort(key=_slice_order)
    details = [p for p in group.kernels if p.name.startswith("kernel_details")]
    if details:
        group.kernels = details
    stats = [p for p in group.step_trace_time if p.parent.name == "ASCEND_PROFILER_OUTPUT"]
    if stats:
        group.step_trace_time = stats
    outputs = [p for p in group.communication if p.parent.name == "ASCEND_PROFILER_OUTPUT"]
    if outputs:
        group.communication = outputs
    return group


def _slice_order(path: Path) -> tuple[str, int, str]:
    match = _SLICE.search(path.name)
    return (str(path.parent), int(match.group(1)) if match else -1, path.name)


def _require_listable(path: Path) -> None:
    """A folder that cannot be listed (mode 000) is an input error, not an empty folder."""
    try:
        os.scandir(path).close()
    except OSError as exc:
        _unreadable_folder(exc)


def _unreadable_folder(exc: OSError) -> None:
    reason = "permission denied" if isinstance(exc, PermissionError) else (exc.strerror or type(exc).__name__)
    raise TraceError(exc.filename or "?", f"folder cannot be read ({reason})")


def _non_empty_file(path: Path) -> bool:
    """True for a non-empty regular file; empty files are skipped; a FIFO, socket, device,
    symbolic-link loop or unreadable entry is an input error naming it."""
    try:
        info = path.stat()
    except OSError:
        require_file(path)  # raises the named problem
        raise
    if stat.S_ISDIR(info.st_mode):
        return False  # a symbolic link to a folder: os.walk does not follow it
    if not stat.S_ISREG(info.st_mode):
        require_file(path)
    return info.st_size > 0
