"""Writing emitter output safely: into a temporary sibling, renamed into place when complete."""

from __future__ import annotations

import gzip
import io
import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

BUFFER_BYTES = 1 << 20


@contextmanager
def atomic_file(path: Path, *, gz: bool = False) -> Iterator[BinaryIO]:
    """A binary stream whose content appears at `path` only if the block completes.

    With `gz`, the stream is gzip-compressed with a fixed header (no name, mtime 0), so equal
    content gives equal bytes.
    """
    with atomic_path(path) as temporary, open(temporary, "wb") as raw:
        if gz:
            packed = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6)
            with packed, io.BufferedWriter(packed, BUFFER_BYTES) as stream:
                yield stream
        else:
            with io.BufferedWriter(raw, BUFFER_BYTES) as stream:
                yield stream


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path to write (e.g. an SQLite database); renamed to `path` if the block completes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.partial")
    temporary.unlink(missing_ok=True)
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


@contextmanager
def atomic_directory(path: Path) -> Iterator[Path]:
    """A directory that replaces `path` only if the block completes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.partial")
    shutil.rmtree(temporary, ignore_errors=True)
    temporary.mkdir()
    try:
        yield temporary
        if path.exists():
            shutil.rmtree(path)
        os.replace(temporary, path)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)


@contextmanager
def bulk_database(path: Path, schema: str) -> Iterator[sqlite3.Connection]:
    """A new SQLite database with `schema`, written in one transaction without a journal; it
    appears at `path` only if the block completes."""
    with atomic_path(path) as temporary:
        db = sqlite3.connect(temporary, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode = OFF")
            db.execute("PRAGMA synchronous = OFF")
            db.executescript(schema)
            db.execute("BEGIN")
            yield db
            db.execute("COMMIT")
        finally:
            db.close()
