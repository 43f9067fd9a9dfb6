"""Writing outputs atomically: a crash never leaves a half-written file behind.

An output path that cannot be written (a directory, under a file, no permission) is a TraceError
naming it, checked before the work (`check_output_path`) and again when writing.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import tempfile
from pathlib import Path

import msgspec

from tracekit.errors import TraceError


def check_output_paths(*paths: str | Path | None) -> None:
    """`check_output_path` for each given output (None and '-', standard output, need none)."""
    for path in paths:
        if path is not None and str(path) != "-":
            check_output_path(Path(path))


def check_output_path(path: Path) -> None:
    """Raise a TraceError now if `path` could not be written later (checks only; creates nothing)."""
    try:
        _check_writable(path)
    except OSError as exc:  # a parent that cannot be searched
        raise TraceError(path, f"cannot be written ({exc.strerror or type(exc).__name__})") from None


def _check_writable(path: Path) -> None:
    if path.is_dir():
        raise TraceError(path, "is a directory; give a file path for the output")
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise TraceError(path, f"cannot be created: {folder} is not a directory")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise TraceError(path, f"cannot be written: permission denied in {folder}")


def write_text_atomic(path: Path, text: str) -> None:
    """Write UTF-8 text to a temporary file in the same folder, then rename it over `path`."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, then rename it over `path`."""
    check_output_path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise TraceError(path, f"cannot be written ({exc.strerror or type(exc).__name__})") from None
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes it owner-only; a report is for sharing
        os.replace(temporary, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        if isinstance(exc, OSError):
            raise TraceError(path, f"cannot be written ({exc.strerror or type(exc).__name__})") from None
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def to_json(document: dict[str, object] | msgspec.Struct) -> str:
    """A document (typed, or plain data) as indented JSON text."""
    return msgspec.json.format(msgspec.json.encode(document), indent=2).decode() + "\n"


def write_json_atomic(path: Path, document: dict[str, object] | msgspec.Struct) -> None:
    """The document as JSON at `path` (atomically), gzip-compressed when the name ends in `.gz`
    (`tracekit report` reads both)."""
    data = to_json(document).encode("utf-8")
    write_bytes_atomic(path, gzip.compress(data, mtime=0) if path.name.endswith(".gz") else data)
