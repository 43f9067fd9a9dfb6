"""An open Nsight Systems SQLite export: the read-only connection, the tables and columns it has, and
its rows as checked values.

Tables are created only when the capture has such data, and columns were added over the years, so
every table and column is looked up before use (shared/docs/formats-nsys.md §A); a table that lacks
a column its rows need is skipped with a warning. The database is opened read-only and immutable:
nothing is ever written next to it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pyarrow as pa

from tracekit.errors import TraceError
from tracekit.model.arrays import arrow, strings
from tracekit.model.schema import NONE
from tracekit.readers import checked
from tracekit.readers.arrow_sqlite import integer_columns
from tracekit.readers.source import require_file

CUDA = "CUPTI_ACTIVITY_KIND_"
KERNEL, MEMCPY, MEMSET = f"{CUDA}KERNEL", f"{CUDA}MEMCPY", f"{CUDA}MEMSET"
RUNTIME, SYNC, GRAPH = f"{CUDA}RUNTIME", f"{CUDA}SYNCHRONIZATION", f"{CUDA}GRAPH_TRACE"
NVTX = "NVTX_EVENTS"
GPU_TABLES = (KERNEL, MEMCPY, MEMSET, GRAPH)


class Export:
    """An open export, the columns of each of its tables, and the warnings about skipped tables."""

    def __init__(self, db: sqlite3.Connection) -> None:
        db.text_factory = _decoded
        self.db = db
        self.columns = _table_columns(db)
        self.warnings: list[str] = []
        self._string_ids: tuple[np.ndarray, list] | None = None

    def has(self, table: str) -> bool:
        return table in self.columns

    def usable(self, table: str, required: tuple[str, ...] = ("start", "end")) -> bool:
        """The table exists and has the columns its rows need; without them it is skipped, with a warning."""
        if not self.has(table):
            return False
        missing = [column for column in required if column not in self.columns[table]]
        warning = f"table {table} lacks column(s) {', '.join(missing)}: its rows are not read"
        if missing and warning not in self.warnings:
            self.warnings.append(warning)
        return not missing

    def column(self, table: str, column: str, fallback: str = "NULL") -> str:
        """The column's name when the table has it, else an SQL fallback expression."""
        return column if column in self.columns.get(table, ()) else fallback

    def string(self, table: str, column: str) -> str:
        """SQL for the StringIds text of an id column (NULL when the column is absent)."""
        if column not in self.columns.get(table, ()) or "value" not in self.columns.get("StringIds", ()):
            return "NULL"
        return f"(SELECT value FROM StringIds WHERE id = {column})"

    def string_ids(self) -> tuple[np.ndarray, list] | None:
        """StringIds read once: its ids, sorted, and their values; None when the ids are not distinct
        integers (a damaged export: its strings are then looked up by SQL, row by row)."""
        if self._string_ids is None:
            if "value" not in self.columns.get("StringIds", ()) or "id" not in self.columns["StringIds"]:
                self._string_ids = (np.empty(0, dtype=np.int64), [])
            else:
                rows = self.rows("SELECT id, value FROM StringIds ORDER BY id")
                ids = [row[0] for row in rows]
                plain = all(type(i) is int and abs(i) < 2**63 for i in ids)
                sorted_ids = np.array(ids, dtype=np.int64) if plain else None
                usable = sorted_ids is not None and bool(np.all(np.diff(sorted_ids) > 0))
                self._string_ids = (sorted_ids, [row[1] for row in rows]) if usable else (None, [])
        return None if self._string_ids[0] is None else self._string_ids

    def select(
        self, table: str, fields: dict[str, str], where: str = "1", exact: tuple[str, ...] | None = None
    ) -> dict[str, list | np.ndarray]:
        """Columns of the table's rows, keyed like `fields` (alias -> SQL expression), as lists of the
        values as stored. With `exact` (the aliases whose NULL means something: times, string ids),
        int64 arrays (possibly read-only) fetched straight into numpy when every value is an SQLite
        integer, or NULL in the other fields (read as NONE, as `ints` reads NULL); a `NULL` field, a
        column the table lacks, stays a list of None."""
        computed = {alias: sql for alias, sql in fields.items() if sql != "NULL"}
        columns = (
            self._integer_columns(table, computed, exact, where) if exact is not None and computed else None
        )
        if columns is not None:
            n = len(next(iter(columns.values())))
            return {alias: columns[alias] if alias in columns else [None] * n for alias in fields}
        sql = f"SELECT {', '.join(fields.values())} FROM {quoted(table)} WHERE {where}"
        rows = self.db.execute(sql).fetchall()
        values = list(zip(*rows, strict=True)) if rows else [()] * len(fields)
        return {alias: list(column) for alias, column in zip(fields, values, strict=True)}

    def _integers_only(self, table: str, fields: dict[str, str], exact: tuple[str, ...], where: str) -> bool:
        """True when every row's value of every field is an SQLite integer (or NULL, outside `exact`):
        one scan, in SQLite."""
        allowed = {alias: "('integer')" if alias in exact else "('integer', 'null')" for alias in fields}
        typed = " AND ".join(f"typeof({sql}) IN {allowed[alias]}" for alias, sql in fields.items())
        sql = f"SELECT 1 FROM {quoted(table)} WHERE ({where}) AND NOT ({typed}) LIMIT 1"
        return not self.db.execute(sql).fetchall()

    def _integer_columns(
        self, table: str, fields: dict[str, str], exact: tuple[str, ...], where: str
    ) -> dict[str, np.ndarray] | None:
        """The fields as int64 columns when every value is an SQLite integer (NULL allowed outside
        `exact`, read as NONE), else None: by ADBC's driver when installed (it refuses any other
        type), else after one SQLite scan of the types, each row converted by numpy."""
        values = [sql if alias in exact else f"coalesce({sql}, {NONE})" for alias, sql in fields.items()]
        sql = f"SELECT {', '.join(values)} FROM {quoted(table)} WHERE {where}"
        columns = arrow_integer_columns(self.db, sql)
        if columns is None:
            if not self._integers_only(table, fields, exact, where):
                return None
            dtype = np.dtype([(f"c{i}", np.int64) for i in range(len(fields))])
            rows = np.fromiter(self.db.execute(sql), dtype=dtype)
            columns = [np.ascontiguousarray(rows[f"c{i}"]) for i in range(len(fields))]
        return dict(zip(fields, columns, strict=True))

    def rows(self, sql: str) -> list[tuple]:
        return self.db.execute(sql).fetchall()


def arrow_integer_columns(db: sqlite3.Connection, sql: str) -> list[np.ndarray] | None:
    """The int64 columns of a query by ADBC's driver, from the file `db` reads (`arrow_sqlite`);
    read-only (the reader's conversions make new arrays)."""
    file = db.execute("PRAGMA database_list").fetchone()[2]
    return integer_columns(sqlite_uri(Path(file)), sql, writable=False) if file else None


@contextmanager
def open_export(path: Path) -> Iterator[Export]:
    """The export, read-only and immutable; an SQLite error in any query of the block (corrupt pages,
    not a database, a truncated file) is a TraceError naming the file."""
    require_file(path)
    try:
        with closing(sqlite3.connect(sqlite_uri(path), uri=True)) as db:
            yield Export(db)
    except sqlite3.DatabaseError as exc:
        raise TraceError(path, f"unreadable SQLite database ({_printable(str(exc))})") from None
    except UnicodeDecodeError:  # SQLite's own message quotes the damaged bytes (a mangled schema)
        raise TraceError(
            path, "unreadable SQLite database (damaged schema: text that is not UTF-8)"
        ) from None


def _printable(message: str) -> str:
    """SQLite's message with the control characters it may quote from a damaged schema shown as `?`."""
    return "".join(c if c.isprintable() else "?" for c in message)


def _decoded(raw: bytes) -> str:
    """SQLite TEXT as str; bytes that are not UTF-8 (a damaged export) become replacement characters."""
    return raw.decode("utf-8", "replace")


def sqlite_uri(path: Path) -> str:
    """A read-only, immutable URI for the file: every character of the path that has a meaning in a
    URI (`?`, `#`, `%`, spaces) is percent-encoded, so `run#1/report.sqlite` opens that file."""
    return f"file:{quote(str(path.resolve()), safe='/')}?mode=ro&immutable=1"


def _table_columns(db: sqlite3.Connection) -> dict[str, set[str]]:
    tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {table: {row[1] for row in db.execute(f"PRAGMA table_info({quoted(table)})")} for table in tables}


def quoted(identifier: str) -> str:
    """An SQL identifier in double quotes, its own double quotes doubled."""
    return '"' + identifier.replace('"', '""') + '"'


# --- checked values --------------------------------------------------------------------------------


def field(table: str, key: str) -> str:
    """How a column is named in the trace's warnings: `CUPTI_ACTIVITY_KIND_KERNEL.start`."""
    return f"{table}.{key}"


def ints(table: str, rows: dict[str, list], key: str) -> np.ndarray:
    """One column of `rows` as checked int64 (NULL and unusable values as NONE)."""
    values = rows[key]
    if not isinstance(values, np.ndarray) and set(map(type, values)) <= {int, type(None)}:
        values = [NONE if v is None else v for v in values]  # NULL is absent: NONE, as checked reads it
    return checked.integers(values, field(table, key))


def texts(table: str, rows: dict[str, list], fallback: str, key: str = "name") -> list[str]:
    """One column of `rows` as checked text (NULL as `fallback`)."""
    return [checked.text(value, field(table, key), fallback) for value in rows[key]]


def string_texts(
    export: Export,
    table: str,
    rows: dict[str, list],
    keys: tuple[str, ...],
    fallback: str,
    name: str = "name",
) -> pa.Array | None:
    """The StringIds text of the first of the id columns `keys` that names a string, else `fallback`,
    as one dictionary array: ids looked up in StringIds once, each distinct text checked once (what it
    notes counted per row). None when the ids are not all integers (then SQL looks them up)."""
    known = export.string_ids()
    columns = [rows[key] for key in keys]
    plain = [isinstance(c, np.ndarray) or set(map(type, c)) <= {int, type(None)} for c in columns]
    if known is None or not all(plain):
        return None
    ids, values = known
    try:
        chosen = _first_named(ids, values, columns)
    except OverflowError:  # an id past int64 names no string; SQL says so the same way
        return None
    used, codes, counts = _distinct_positions(chosen, len(values) + 1)
    dictionary = []
    for position, count in zip(used, counts, strict=True):
        value = values[position] if position < len(values) else None
        with checked.collecting() as problems:
            dictionary.append(checked.text(value, field(table, name), fallback))
        for (noted_field, reason), noted in problems.counts.items():
            checked.note(noted_field, reason, noted * count)
    return pa.DictionaryArray.from_arrays(arrow(codes), strings(dictionary))


def _first_named(ids: np.ndarray, values: list, columns: list[list | np.ndarray]) -> np.ndarray:
    """Per row, the StringIds index of the first id column that names a string, else len(values):
    a later column is looked up only for the rows still unnamed."""
    chosen = _positions(ids, columns[0], values)
    for column in columns[1:]:
        unnamed = np.flatnonzero(chosen == len(values))
        if len(unnamed) == 0:
            break
        subset = column[unnamed] if isinstance(column, np.ndarray) else [column[i] for i in unnamed.tolist()]
        chosen[unnamed] = _positions(ids, subset, values)
    return chosen


def _positions(ids: np.ndarray, column: list | np.ndarray, values: list) -> np.ndarray:
    """Per row: the index in StringIds of its id, when that names a non-NULL string; else len(values)."""
    none = len(values)
    if not len(ids):
        return np.full(len(column), none, dtype=np.int64)
    named = np.array([i if value is not None else none for i, value in enumerate(values)], dtype=np.int64)
    if isinstance(column, np.ndarray):
        return _id_lookup(ids, named, column, none)
    known = np.fromiter((v is not None for v in column), dtype=bool, count=len(column))
    wanted = np.fromiter((v if v is not None else 0 for v in column), dtype=np.int64, count=len(column))
    found = _id_lookup(ids, named, wanted, none)
    found[~known] = none
    return found


_DENSE_IDS = 4
"""StringIds of ids from 0 to at most this many times their count (plus 1024) are looked up by a
direct table (nsys numbers them 0..n-1), others by binary search."""


def _id_lookup(ids: np.ndarray, by_index: np.ndarray, wanted: np.ndarray, missing: int) -> np.ndarray:
    """Per wanted id: by_index at its index in the sorted distinct `ids`, else `missing` (a table
    indexed by id when the ids are dense: no search per row)."""
    low, high = int(ids[0]), int(ids[-1])
    if low < 0 or high > _DENSE_IDS * len(ids) + 1024:
        at = np.searchsorted(ids, wanted)
        np.minimum(at, len(ids) - 1, out=at)
        return np.where(ids[at] == wanted, by_index[at], missing)
    table = np.full(high + 2, missing, dtype=by_index.dtype)  # [high + 1]: every id above high
    table[ids] = by_index
    found = np.take(table, wanted, mode="clip")  # ids below 0 go to table[0]: set apart below
    found[wanted < 0] = missing
    return found


def _distinct_positions(chosen: np.ndarray, size: int) -> tuple[list[int], np.ndarray, list[int]]:
    """np.unique(chosen, return_inverse=True) (the codes as int32) and the counts, for positions in
    [0, size): by counting, not sorting."""
    counts = np.bincount(chosen, minlength=size)
    used = counts > 0
    codes = (np.cumsum(used) - 1).astype(np.int32)[chosen]
    return np.flatnonzero(used).tolist(), codes, counts[used].tolist()


def optional_integer(value: object, name: str) -> int | None:
    """A metadata integer; None when NULL or unusable (noted)."""
    parsed = checked.integer(value, name)
    return None if parsed == NONE else parsed


def optional_text(value: object, name: str) -> str | None:
    """A metadata text; None when NULL."""
    return None if value is None else checked.text(value, name)


def enum_column(export: Export, table: str, column: str, fallback: dict[int, str]) -> dict[int, str]:
    """Enum id -> one column (name or label) of the export's own enum table, else the fallback; rows
    whose id is NULL or not an integer are skipped (noted)."""
    if not export.has(table):
        return fallback
    rows = export.select(table, {"id": export.column(table, "id"), column: export.column(table, column)})
    ids = ints(table, rows, "id").tolist()
    names = texts(table, rows, "", column)
    return {code: name for code, name in zip(ids, names, strict=True) if code != NONE}
