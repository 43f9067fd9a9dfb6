"""Numpy columns into the large generated SQLite inputs of the benchmarks, in chunks (the database
itself: tracekit.simulate.output.bulk_database, as the simulator writes nsys exports)."""

from __future__ import annotations

import sqlite3

import numpy as np

CHUNK = 1 << 16  # rows per executemany


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
