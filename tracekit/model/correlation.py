"""Launch links: which host call (runtime API) launched each device operation."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from tracekit.model.arrays import numeric
from tracekit.model.schema import NONE, Kind


def launch_rows(table: pa.Table) -> np.ndarray:
    """For each row, the row index of the host call with the same correlation id, or NONE.

    Host calls are RUNTIME or SYNC rows off the device; only device rows get a link. Row indices are
    int32 where the table has fewer than 2^31 rows (half the memory of one int64 per row).
    """
    result = np.full(table.num_rows, NONE, dtype=row_index_dtype(table.num_rows))
    rows, calls = launch_pairs(table)
    result[rows] = calls
    return result


def row_index_dtype(rows: int) -> type:
    """The narrowest signed integer type that holds every row index of a table of `rows` rows."""
    return np.int32 if rows < 2**31 else np.int64


def launch_pairs(table: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    """The device rows that have a launch call, and that call's row (the first in table order among
    calls sharing the correlation id): the calls sorted by id once, one search per device row."""
    correlation = numeric(table.column("correlation"))
    device = numeric(table.column("device"))
    kind = numeric(table.column("kind"))
    is_call = (device == NONE) & np.isin(kind, [Kind.RUNTIME, Kind.SYNC]) & (correlation != NONE)
    call_rows = np.flatnonzero(is_call)
    call_ids = correlation[call_rows]
    if len(call_ids) and not bool(np.all(call_ids[1:] >= call_ids[:-1])):
        order = np.argsort(call_ids, kind="stable")
        call_rows, call_ids = call_rows[order], call_ids[order]
    rows = np.flatnonzero((device != NONE) & (correlation != NONE))
    if len(call_rows) == 0:
        return rows[:0], rows[:0]
    wanted = correlation[rows]
    slot = np.searchsorted(call_ids, wanted)
    np.minimum(slot, len(call_ids) - 1, out=slot)
    found = call_ids[slot] == wanted
    if found.all():  # the usual case: no row is left out, no copy of the rows
        return rows, call_rows[slot]
    return rows[found], call_rows[slot[found]]
