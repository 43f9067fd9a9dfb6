"""Read-only access to an Ascend profiler SQLite file: opened immutable, every query checked.

The file is opened through an escaped URI with `mode=ro&immutable=1`, so no journal, `-wal` or
`-shm` file is ever created beside it (paths under folders named `run#1` or `run?1` included) and a
read-only folder is no obstacle. Any SQLite error while a query runs (a corrupt page, a missing
table) is a TraceError naming the file; columns are looked up before they are selected.

Event tables are fetched by whole columns (`fetch`): SQLite itself says of each cell whether it is
NULL, an integer (or a text of plain digits, cast there) or anything else, first in a scan of the
table (so that columns of integers are fetched as bare int64), then in the query that fetches the
values straight into numpy arrays; only the cells of the last kind (bad input, mostly) are Python
values.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote

import numpy as np

from tracekit.errors import TraceError
from tracekit.readers.arrow_sqlite import integer_columns
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
        chosen = self.select_columns(table, required, optional)
        return self.query(f"SELECT {', '.join(chosen)} FROM {_identifier(table)}")

    def select_columns(
        self, table: str, required: tuple[str, ...], optional: tuple[tuple[str, ...], ...] = ()
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
        """Whole columns, as `select` chooses them: a scan for the kinds of cells each column holds,
        one query for the values, straight into arrays (integers, and texts of plain digits, as
        int64; a column holding anything else also gets each cell's kind and stored value). A table
        of integers only is fetched by ADBC's driver when installed (`arrow_sqlite`)."""
        chosen = self.select_columns(table, required, optional)
        present = [name for name in chosen if name != "NULL"]
        if not present:
            (count,) = self.query(f"SELECT count(*) FROM {_identifier(table)}")[0]
            return [Cells.nulls(int(count)) for _ in chosen]
        layouts = self._layouts(table, present)
        fields = (_SQL[layout](_identifier(name)) for name, layout in zip(present, layouts, strict=True))
        sql = f"SELECT {', '.join(fields)} FROM {_identifier(table)}"
        plain = set(layouts) == {PLAIN} and integer_columns(immutable_uri(self.path), sql)
        if plain:
            found = [Cells.plain(column) for column in plain]
        else:
            dtype = np.dtype([f for i, layout in enumerate(layouts) for f in _FIELDS[layout](i)])
            rows = self._rows_into(sql, dtype)
            found = [Cells.of(rows, i, layout) for i, layout in enumerate(layouts)]
        columns = iter(found)
        return [Cells.nulls(len(found[0].kind)) if name == "NULL" else next(columns) for name in chosen]

    def _rows_into(self, sql: str, dtype: np.dtype) -> np.ndarray:
        """The query's rows as one structured array (sqlite3, each row converted by numpy)."""
        try:
            return np.fromiter(self.connection.execute(sql), dtype=dtype)
        except (sqlite3.Error, UnicodeDecodeError) as exc:
            raise TraceError(
                self.path, f"corrupt or unreadable SQLite database ({first_line(exc)})"
            ) from None

    def _layouts(self, table: str, columns: list[str]) -> list[int]:
        """Per column: PLAIN (integers and digit texts only), NULLABLE (and NULLs) or MIXED (anything
        else too): one scan when every cell is an integer, else a few per column, each ending at the
        first cell that answers it."""
        t, names = _identifier(table), [_identifier(name) for name in columns]
        if not self._exists(t, "NOT (" + " AND ".join(f"typeof({c}) = 'integer'" for c in names) + ")"):
            return [PLAIN] * len(names)
        return [self._layout(t, c) for c in names]

    def _layout(self, table: str, c: str) -> int:
        if not self._exists(table, f"typeof({c}) <> 'integer'"):
            return PLAIN
        if self._exists(table, _odd(c)):
            return MIXED
        return NULLABLE if self._exists(table, f"{c} IS NULL") else PLAIN

    def _exists(self, table: str, condition: str) -> bool:
        return bool(self.query(f"SELECT 1 FROM {table} WHERE {condition} LIMIT 1"))

    def strings(self) -> dict[object, object]:
        """STRING_IDS as id -> value, read once."""
        if self._strings is None:
            self._strings = (
                dict(self.select("STRING_IDS", ("id", "value"))) if "STRING_IDS" in self.tables else {}
            )
        return self._strings


class Cells(NamedTuple):
    """One column as fetched: per cell its `kind` (NULL, INTEGER: an SQLite integer or a text of at most
    18 ASCII digits, OTHER), its value where INTEGER (else 0), and the value as stored where OTHER
    (else None; `other` is None when no cell is OTHER)."""

    kind: np.ndarray
    ints: np.ndarray
    other: np.ndarray | None

    @staticmethod
    def of(found: np.ndarray, i: int, layout: int) -> Cells:
        ints = found[f"i{i}"]
        if layout == PLAIN:
            return Cells.plain(ints)
        if layout == NULLABLE:
            return Cells(np.where(found[f"n{i}"] == 1, NULL, INTEGER).astype(np.int8), ints, None)
        return Cells(found[f"k{i}"], ints, found[f"o{i}"])

    @staticmethod
    def plain(ints: np.ndarray) -> Cells:
        """A column of integers only."""
        return Cells(np.full(len(ints), INTEGER, dtype=np.int8), ints, None)

    @staticmethod
    def nulls(n: int) -> Cells:
        return Cells(np.full(n, NULL, dtype=np.int8), np.zeros(n, dtype=np.int64), None)

    def take(self, rows: np.ndarray) -> Cells:
        """The cells of `rows` (a mask or indices)."""
        return Cells(self.kind[rows], self.ints[rows], None if self.other is None else self.other[rows])


PLAIN, NULLABLE, MIXED = 0, 1, 2
"""What a column holds (`Database._layouts`), and so how it is fetched."""


def _digits(c: str) -> str:
    return f"(typeof({c}) = 'text' AND length({c}) BETWEEN 1 AND 18 AND {c} NOT GLOB '*[^0-9]*')"


def _odd(c: str) -> str:
    """SQL: the cell is neither NULL, an integer nor a text of plain digits."""
    return f"(typeof({c}) NOT IN ('integer', 'null') AND NOT {_digits(c)})"


def _kind(c: str) -> str:
    return f"(CASE WHEN {c} IS NULL THEN {NULL} WHEN {_odd(c)} THEN {OTHER} ELSE {INTEGER} END)"


_SQL = {
    PLAIN: lambda c: f"CAST({c} AS INTEGER)",
    NULLABLE: lambda c: f"{c} IS NULL, coalesce(CAST({c} AS INTEGER), 0)",
    MIXED: lambda c: (
        f"{_kind(c)}, (CASE WHEN {_kind(c)} = {INTEGER} THEN CAST({c} AS INTEGER) ELSE 0 END), "
        f"(CASE WHEN {_kind(c)} = {OTHER} THEN {c} END)"
    ),
}
"""SQL for a column's fields, by layout (see Cells.of)."""
_FIELDS = {
    PLAIN: lambda i: [(f"i{i}", np.int64)],
    NULLABLE: lambda i: [(f"n{i}", np.int8), (f"i{i}", np.int64)],
    MIXED: lambda i: [(f"k{i}", np.int8), (f"i{i}", np.int64), (f"o{i}", object)],
}


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
