"""Read-only access to an Ascend profiler SQLite file: opened immutable, every query checked.

The file is opened through an escaped URI with `mode=ro&immutable=1`, so no journal, `-wal` or
`-shm` file is ever created beside it (paths under folders named `run#1` or `run?1` included) and a
read-only folder is no obstacle. Any SQLite error while a query runs (a corrupt page, a missing
table) is a TraceError naming the file; columns are looked up before they are selected.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

from tracekit.errors import TraceError
from tracekit.readers import checked
from tracekit.readers.source import first_line


def immutable_uri(path: Path) -> str:
    """The SQLite URI that opens `path` read-only and immutable, every special character escaped."""
    return f"file:{quote(str(path.resolve()))}?mode=ro&immutable=1"


class Database:
    """One profiler DB: its table names, checked queries and the STRING_IDS look-up."""

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
        present = self.columns(table)
        missing = [name for name in required if name not in present]
        if missing:
            raise TraceError(self.path, f"table {table} lacks column(s) {', '.join(missing)}")
        chosen = [*required, *(next((n for n in names if n in present), "NULL") for names in optional)]
        return self.query(f"SELECT {', '.join(chosen)} FROM {_identifier(table)}")

    def text(self, value: object, field: str) -> str:
        """A string column: an id into STRING_IDS (as msprof writes them), or the text itself."""
        if value is None:
            return ""
        if isinstance(value, (str, bytes)) and not _is_id_text(value):
            return checked.text(value, field)
        key = checked.integer(value, field)
        return checked.text(self.strings().get(key), field, fallback=f"<string {key}>")

    def strings(self) -> dict[object, object]:
        if self._strings is None:
            self._strings = (
                dict(self.select("STRING_IDS", ("id", "value"))) if "STRING_IDS" in self.tables else {}
            )
        return self._strings


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _is_id_text(value: str | bytes) -> bool:
    text = value.decode("ascii", "replace") if isinstance(value, bytes) else value
    digits = text.strip().removeprefix("-")
    return digits.isascii() and digits.isdecimal()
