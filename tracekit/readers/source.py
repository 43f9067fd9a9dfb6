"""Raw bytes of an input file: gzip is recognised by its magic number, never by the extension."""

from __future__ import annotations

import gzip
import mmap
import zlib
from pathlib import Path

from tracekit.errors import TraceError

GZIP_MAGIC = b"\x1f\x8b"
HEAD_BYTES = 1 << 16


def read_head(path: Path) -> bytes:
    """The first bytes of the (decompressed) content, for format detection."""
    require_file(path)
    with path.open("rb") as raw:
        magic = raw.read(2)
    if magic != GZIP_MAGIC:
        with path.open("rb") as raw:
            return raw.read(HEAD_BYTES)
    try:
        with gzip.open(path, "rb") as stream:
            return stream.read(HEAD_BYTES)
    except (OSError, EOFError, zlib.error) as exc:
        raise TraceError(path, f"not a readable gzip file ({exc})") from None


def read_buffer(path: Path) -> bytes | mmap.mmap:
    """The whole (decompressed) content; a plain file is memory-mapped, not copied into memory."""
    require_file(path)
    with path.open("rb") as raw:
        if raw.read(2) != GZIP_MAGIC:
            return mmap.mmap(raw.fileno(), 0, access=mmap.ACCESS_READ)
        raw.seek(0)
        compressed = raw.read()
    try:
        return gzip.decompress(compressed)
    except (OSError, EOFError, zlib.error) as exc:
        raise TraceError(path, f"truncated or corrupt gzip data ({exc})") from None


def is_directory(path: Path) -> bool:
    """True for a directory (read as Ascend profiler output); a missing path is an input error."""
    if not path.exists():
        raise TraceError(path, "no such file")
    return path.is_dir()


def require_file(path: Path) -> None:
    """Raise a TraceError unless the path is a non-empty file."""
    if not path.exists():
        raise TraceError(path, "no such file")
    if path.is_dir():
        raise TraceError(path, "is a directory; give a trace file (directories are read as Ascend output)")
    if path.stat().st_size == 0:
        raise TraceError(path, "empty file")
