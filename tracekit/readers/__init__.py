"""Readers: every supported input format becomes the canonical event table.

Formats are detected by content, never by file name. Readers are tried in order, the most specific
first; `--format` names one directly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tracekit.errors import TraceError
from tracekit.model.trace import Trace
from tracekit.readers.kineto import looks_like_chrome, read_chrome, read_kineto, sniff_kineto
from tracekit.readers.source import read_head


@dataclass(frozen=True)
class Reader:
    """One input format: how to recognise it from its first bytes, and how to read it."""

    name: str
    description: str
    sniff: Callable[[bytes], bool]
    read: Callable[[Path], Trace]


READERS: tuple[Reader, ...] = (
    Reader("kineto", "PyTorch profiler / Kineto trace (.json, .json.gz)", sniff_kineto, read_kineto),
    Reader(
        "chrome",
        "generic Chrome trace JSON, e.g. VizTracer (CPU side)",
        looks_like_chrome,
        read_chrome,
    ),
)


def format_names() -> list[str]:
    """Names accepted by --format."""
    return [reader.name for reader in READERS]


def detect_format(path: Path) -> Reader:
    """The first reader whose sniffer accepts the file's content."""
    head = read_head(path)
    for reader in READERS:
        if reader.sniff(head):
            return reader
    supported = ", ".join(f"{r.name} ({r.description})" for r in READERS)
    raise TraceError(path, f"unrecognised trace format; supported: {supported}")


def read_trace(path: str | Path, format_name: str | None = None) -> Trace:
    """Read any supported trace into canonical form."""
    path = Path(path)
    reader = _by_name(path, format_name) if format_name else detect_format(path)
    return reader.read(path)


def _by_name(path: Path, format_name: str) -> Reader:
    for reader in READERS:
        if reader.name == format_name:
            return reader
    raise TraceError(path, f"unknown format {format_name!r}; choose one of {', '.join(format_names())}")
