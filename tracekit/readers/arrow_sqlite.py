"""Integer columns of an SQLite query as Arrow, through ADBC's SQLite driver (a dependency).

The nsys and Ascend SQLite readers fetch their integer columns here when adbc-driver-sqlite is
installed (it is by default): the driver fills Arrow columns in C (no Python object per value),
about 2.5x less CPU than numpy's `fromiter` over sqlite3 rows. Without the driver, or when a column
is anything but int64 without NULLs, the caller fetches through sqlite3 as before; the values are
the same.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from tracekit.model.arrays import numeric

BATCH_ROWS = 1 << 22
"""Rows per Arrow batch from ADBC. The driver allocates a whole batch up front: one of 2^30 rows (to
get every row in one batch, without the copy that joins batches) reserved gigabytes, and under an
address-space limit (ulimit -v, strict overcommit) the driver then crashed instead of failing. 4 Mi
rows keep a batch at 32 MiB a column, and a result of fewer rows, nsys's and msprof's usual tables,
still comes in one batch, without a copy (ADBC's default of 1024 makes the joining cost more than
the fetch)."""


def integer_columns(uri: str, sql: str, writable: bool = True) -> list[np.ndarray] | None:
    """The int64 columns of a query on the database at `uri` (read-only, immutable), or None without
    the driver, or unless every value is an SQLite integer (the driver refuses a value of another
    type than the column's first ones; a column it did not type int64, or with a NULL, is refused
    here). `writable=False`: the arrays may be read-only views of Arrow's buffers (no copy)."""
    try:
        import adbc_driver_manager as adbc
        import adbc_driver_sqlite
    except ImportError:
        return None
    try:
        table = _fetched(adbc, adbc_driver_sqlite.connect(uri), sql)
    except (adbc.Error, OSError):  # OSError: a value of another type than the column's first ones
        return None
    if any(column.type != pa.int64() or column.null_count for column in table.columns):
        return None
    return [_writable(numeric(column)) if writable else numeric(column) for column in table.columns]


def _fetched(adbc, database, sql: str) -> pa.Table:
    """The query's result through ADBC's low-level API (its DB-API module imports pyarrow.dataset,
    which imports pandas: 0.29 s of a 0.54 s analysis of a small nsys export)."""
    with database, adbc.AdbcConnection(database) as connection, adbc.AdbcStatement(connection) as statement:
        statement.set_options(**{"adbc.sqlite.query.batch_rows": str(BATCH_ROWS)})
        statement.set_sql_query(sql)
        stream, _ = statement.execute_query()
        return pa.RecordBatchReader.from_stream(stream).read_all()


def _writable(values: np.ndarray) -> np.ndarray:
    return values if values.flags.writeable else values.copy()
