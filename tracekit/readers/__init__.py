"""Readers: every supported input format becomes the canonical event table.

Formats are detected by content, never by file name. Readers are tried in order, the most specific
first; `--format` names one directly. The sniffers are light (`nsys.sniff`, `ascend.sniff`: the
standard library only) and each reader's module is imported when a trace of its format is read, so
that detecting and reading a Kineto trace does not import the nsys and Ascend readers (sqlite3,
pyarrow's CSV and compute, ...: about 60 ms before the read could start).

One policy for every reader (docs/formats.md): a trace without any event is bad input; a trace with
host events but no device activity is read, with a warning, for the host-side analysis; values the
boundary checks (`checked`) replaced or dropped are counted in the trace's warnings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from importlib import import_module
from pathlib import Path

import numpy as np

from tracekit.choices import FORMATS
from tracekit.errors import TraceError
from tracekit.model.arrays import numeric
from tracekit.model.schema import DEVICE_KINDS
from tracekit.model.trace import Trace
from tracekit.readers import checked
from tracekit.readers.ascend.sniff import sniff_ascend
from tracekit.readers.kineto import looks_like_chrome, sniff_kineto
from tracekit.readers.magic import SQLITE_MAGIC
from tracekit.readers.nsys.sniff import (
    sniff_nsys_csv,
    sniff_nsys_json,
    sniff_nsys_report,
    sniff_nsys_sqlite,
)
from tracekit.readers.source import is_directory, read_head


@dataclass(frozen=True)
class Reader:
    """One input format: how to recognise it from its first bytes, and where its read function is
    (`module:function`, imported on the first read)."""

    name: str
    description: str
    sniff: Callable[[bytes], bool]
    function: str

    def read(self, path: Path) -> Trace:
        """The trace at `path`, read by this format's function."""
        module, name = self.function.split(":")
        return getattr(import_module(module), name)(path)


_SNIFF_AND_READ: dict[str, tuple[Callable[[bytes], bool], str]] = {
    "nsys": (sniff_nsys_sqlite, "tracekit.readers.nsys.sqlite:read_nsys_sqlite"),
    "nsys-json": (sniff_nsys_json, "tracekit.readers.nsys.json_export:read_nsys_json"),
    "nsys-csv": (sniff_nsys_csv, "tracekit.readers.nsys.stats_csv:read_nsys_csv"),
    "nsys-rep": (sniff_nsys_report, "tracekit.readers.nsys.report_file:read_nsys_report"),
    "ascend": (sniff_ascend, "tracekit.readers.ascend.ranks:read_ascend"),
    "kineto": (sniff_kineto, "tracekit.readers.kineto:read_kineto"),
    "chrome": (looks_like_chrome, "tracekit.readers.kineto:read_chrome"),
}
READERS: tuple[Reader, ...] = tuple(
    Reader(name, description, *_SNIFF_AND_READ[name]) for name, description in FORMATS
)
"""In the order of tracekit/choices.py's FORMATS (names and descriptions live there, for --help)."""


def format_names() -> list[str]:
    """Names accepted by --format."""
    return [reader.name for reader in READERS]


def detect_format(path: Path) -> Reader:
    """The first reader whose sniffer accepts the file's content."""
    head = read_head(path)
    for reader in READERS:
        if reader.sniff(head):
            return reader
    raise TraceError(
        path,
        f"unrecognised trace format{_content_hint(head)}; supported: {', '.join(format_names())} "
        "(`tracekit formats` describes them)",
    )


def _content_hint(head: bytes) -> str:
    """What the file seems to be when no reader takes it, for the error message."""
    if head.startswith(SQLITE_MAGIC):
        return " (an SQLite database, but neither an Nsight Systems nor an Ascend export)"
    return ""


def read_trace(path: str | Path, format_name: str | None = None) -> Trace:
    """Read any supported trace into canonical form (a directory: Ascend profiler output, one rank)."""
    path = Path(path)
    if is_directory(path):
        _directory_format(path, format_name)
        reader = _by_name(path, "ascend")
    else:
        reader = _by_name(path, format_name) if format_name else detect_format(path)
    return _checked(path, lambda: [reader.read(path)])[0]


def read_traces(path: str | Path, format_name: str | None = None) -> list[Trace]:
    """Every trace under `path`: one per rank for an Ascend directory, else the one trace of the file."""
    path = Path(path)
    if is_directory(path):
        _directory_format(path, format_name)
        return _checked(path, lambda: _ascend_ranks(path))
    reader = _by_name(path, format_name) if format_name else detect_format(path)
    if reader.name == "ascend":
        return _checked(path, lambda: _ascend_ranks(path))
    return _checked(path, lambda: [reader.read(path)])


def _ascend_ranks(path: Path) -> list[Trace]:
    """Every rank under `path`, by the Ascend reader (imported now: it is not needed to detect formats)."""
    from tracekit.readers.ascend.ranks import read_ascend_ranks

    return read_ascend_ranks(path)


def _checked(path: Path, read: Callable[[], list[Trace]]) -> list[Trace]:
    """Run a reader under the boundary checks and apply the event policy to each trace it gives."""
    with checked.collecting() as problems:
        traces = read()
    return [_with_policy(trace, problems.warnings()) for trace in traces]


def _with_policy(trace: Trace, problems: list[str]) -> Trace:
    warnings = list(trace.metadata.get("warnings", [])) + problems
    if trace.events.num_rows == 0:
        raise TraceError(trace.source, "no events: the trace is empty" + _reason_hint(warnings))
    if not np.isin(numeric(trace.events.column("kind")), DEVICE_KINDS).any():
        warnings.append(HOST_ONLY_WARNING)
    return replace(trace, metadata={**trace.metadata, "warnings": warnings}) if warnings else trace


HINT_CHARS = 90
"""How much of the reader's first warning an empty-trace error quotes (one short line in all)."""
HOST_ONLY_WARNING = (
    "no device activity (kernels, copies, memsets, collectives): only the host-side analysis applies"
)


def _reason_hint(warnings: list[str]) -> str:
    """The reader's first warning (what is missing, or which values were dropped), if any."""
    if not warnings:
        return ""
    first = warnings[0] if len(warnings[0]) <= HINT_CHARS else warnings[0][: HINT_CHARS - 1] + "…"
    return f" ({first})"


def _directory_format(path: Path, format_name: str | None) -> None:
    """Directories are read as Ascend profiler output; any other --format is an error."""
    if format_name is not None and format_name != "ascend":
        _by_name(path, format_name)
        raise TraceError(path, f"is a directory; the {format_name} format reads a trace file")


def _by_name(path: Path, format_name: str) -> Reader:
    for reader in READERS:
        if reader.name == format_name:
            return reader
    raise TraceError(path, f"unknown format {format_name!r}; choose one of {', '.join(format_names())}")
