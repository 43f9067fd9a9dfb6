"""Writing large generated SQLite inputs for the benchmarks: one transaction, no journal, numpy
columns inserted in chunks; the file replaced only once complete."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import numpy as np

CHUNK = 1 << 16  # rows per executemany


@contextlib.contextmanager
def bulk_database(out: Path, schema: str) -> Iterator[sqlite3.Connection]:
    """A new database with `schema`, inside one transaction; it replaces `out` when the block ends."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.unlink(missing_ok=True)
    db = sqlite3.connect(tmp, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode = OFF")
        db.execute("PRAGMA synchronous = OFF")
        db.executescript(schema)
        db.execute("BEGIN")
        yield db
        db.execute("COMMIT")
    finally:
        db.close()
    tmp.replace(out)


def insert_columns(
    db: sqlite3.Connection, sql: str, *columns: np.ndarray, text: tuple[int, ...] = ()
) -> None:
    """executemany over the columns, CHUNK rows at a time (Python ints, as sqlite3 binds them); the
    columns at the positions `text` are bound as their decimal text."""
    for at in range(0, len(columns[0]), CHUNK):
        parts = [c[at : at + CHUNK].tolist() for c in columns]
        for i in text:
            parts[i] = [str(v) for v in parts[i]]
        db.executemany(sql, zip(*parts, strict=True))
