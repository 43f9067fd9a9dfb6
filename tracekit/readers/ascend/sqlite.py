"""Read-only access to an Ascend profiler SQLite file: opened immutable, every query checked.

The file is opened through an escaped URI with `mode=ro&immutable=1`, so no journal, `-wal` or
`-shm` file is ever created beside it (paths under folders named `run#1` or `run?1` included) and a
read-only folder is no obstacle. Any SQLite error while a query runs (a corrupt page, a missing
table) is a TraceError naming the file; columns are looked up before they are selected.

Event tables are fetched by whole columns (`fetch`): one query per table in which SQLite itself says
of each cell whether it is NULL, an integer (or a text of plain digits, cast there) or anything else,
straight into numpy arrays; only the cells of the last kind (bad input, mostly) are Python values.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote

import numpy as np

from tracekit.errors import TraceError
from tracekit.readers.source import first_line

NULL, INTEGER, OTHER = 0, 1, 2
"""Kinds of cells (`Cells.kind`)."""


def immutable_uri(path: Path) -> str:
    """The SQLite URI that opens `path` read-only and immutable, every special character escaped."""
    return f"file:{quote(str(path.resolve()))}?mode=ro&immutable=1"


class Database:
    """One profiler DB: its table names, checked queries, column fetches and the STRING_IDS table."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.connection = sqlite3.connect(immutable_uri(path), uri=True)
        except sqlite3.Error as exc:
            raise TraceError(path, f"unreadable SQLite database ({first_line(exc)})") from None
        self.connection.text_factory = lambda raw: raw.decode("utf-8", "replace")
        try:
            self.tables = {
                str(name) for (name,) in self.query("SELECT name FROM sqlite_master WHERE type='table'")
            }
        except TraceError:
            self.connection.close()
            raise
        self._strings: dict[object, object] | None = None

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *_: object) -> None:
        self.connection.close()

    def query(self, sql: str) -> list[tuple]:
        """All rows of a query; an SQLite error (corrupt page, schema mismatch) is a TraceError (a
        corrupt schema can make SQLite's own message undecodable: UnicodeDecodeError)."""
        try:
            return self.connection.execute(sql).fetchall()
        except (sqlite3.Error, UnicodeDecodeError) as exc:
            raise TraceError(
                self.path, f"corrupt or unreadable SQLite database ({first_line(exc)})"
            ) from None

    def columns(self, table: str) -> set[str]:
        return {str(row[1]) for row in self.query(f"PRAGMA table_info({_identifier(table)})")}

    def select(
        self, table: str, required: tuple[str, ...], optional: tuple[tuple[str, ...], ...] = ()
    ) -> list[tuple]:
        """Rows of `required` columns then, for each `optional` entry, the first of its alternative
        names the table has (NULL when none). A missing required column is an input error."""
        chosen = self._chosen(table, required, optional)
        return self.query(f"SELECT {', '.join(chosen)} FROM {_identifier(table)}")

    def _chosen(
        self, table: str, required: tuple[str, ...], optional: tuple[tuple[str, ...], ...]
    ) -> list[str]:
        """The required columns, then the first present name of each optional entry ("NULL": none)."""
        present = self.columns(table)
        missing = [name for name in required if name not in present]
        if missing:
            raise TraceError(self.path, f"table {table} lacks column(s) {', '.join(missing)}")
        return [*required, *(next((n for n in names if n in present), "NULL") for names in optional)]

    def fetch(
        self, table: str, required: tuple[str, ...], optional: tuple[tuple[str, ...], ...] = ()
    ) -> list[Cells]:
        """Whole columns, as `select` chooses them, in one query: each column's cells typed by SQLite
        and fetched straight into arrays (integers, and texts of plain digits, as int64)."""
        chosen = self._chosen(table, required, optional)
        present = [name for name in chosen if name != "NULL"]
        if not present:
            (count,) = self.query(f"SELECT count(*) FROM {_identifier(table)}")[0]
            return [Cells.nulls(int(count)) for _ in chosen]
        dtype = np.dtype([field for i in range(len(present)) for field in _cell_fields(i)])
        sql = f"SELECT {', '.join(map(_typed, present))} FROM {_identifier(table)}"
        try:
            found = np.fromiter(self.connection.execute(sql), dtype=dtype)
        except (sqlite3.Error, UnicodeDecodeError) as exc:
            raise TraceError(
                self.path, f"corrupt or unreadable SQLite database ({first_line(exc)})"
            ) from None
        columns = iter(range(len(present)))
        return [
            Cells.nulls(len(found)) if name == "NULL" else Cells.of(found, next(columns)) for name in chosen
        ]

    def strings(self) -> dict[object, object]:
        """STRING_IDS as id -> value, read once."""
        if self._strings is None:
            self._strings = (
                dict(self.select("STRING_IDS", ("id", "value"))) if "STRING_IDS" in self.tables else {}
            )
        return self._strings


class Cells(NamedTuple):
    """One column as fetched: per cell its `kind` (NULL, INTEGER: an SQLite integer or a text of at most
    18 ASCII digits, OTHER), its value where INTEGER (else 0), the value as stored where OTHER (else
    None)."""

    kind: np.ndarray
    ints: np.ndarray
    other: np.ndarray

    @staticmethod
    def of(found: np.ndarray, i: int) -> Cells:
        return Cells(found[f"k{i}"], found[f"i{i}"], found[f"o{i}"])

    @staticmethod
    def nulls(n: int) -> Cells:
        return Cells(np.full(n, NULL, dtype=np.int8), np.zeros(n, dtype=np.int64), np.full(n, None, object))

    def take(self, rows: np.ndarray) -> Cells:
        """The cells of `rows` (a mask or indices)."""
        return Cells(self.kind[rows], self.ints[rows], self.other[rows])


def _cell_fields(i: int) -> list[tuple[str, type]]:
    return [(f"k{i}", np.int8), (f"i{i}", np.int64), (f"o{i}", object)]


def _typed(column: str) -> str:
    """SQL for a column's kind, integer value and other value (see Cells)."""
    c = _identifier(column)
    digits = f"(length({c}) BETWEEN 1 AND 18 AND {c} NOT GLOB '*[^0-9]*')"
    kind = (
        f"(CASE typeof({c}) WHEN 'integer' THEN {INTEGER} WHEN 'null' THEN {NULL} "
        f"WHEN 'text' THEN (CASE WHEN {digits} THEN {INTEGER} ELSE {OTHER} END) ELSE {OTHER} END)"
    )
    return f"{kind}, (CASE WHEN {kind} = {INTEGER} THEN CAST({c} AS INTEGER) ELSE 0 END), " + (
        f"(CASE WHEN {kind} = {OTHER} THEN {c} END)"
    )


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
