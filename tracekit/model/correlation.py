"""Launch links: which host call (runtime API) launched each device operation."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from tracekit.model.schema import NONE, Kind


def launch_rows(table: pa.Table) -> np.ndarray:
    """For each row, the row index of the host call with the same correlation id, or NONE.

    Host calls are RUNTIME or SYNC rows off the device; only device rows get a link.
    """
    correlation = table.column("correlation").to_numpy()
    device = table.column("device").to_numpy()
    kind = table.column("kind").to_numpy()
    is_call = (device == NONE) & np.isin(kind, [Kind.RUNTIME, Kind.SYNC]) & (correlation != NONE)
    call_rows = np.flatnonzero(is_call)
    call_rows = call_rows[np.argsort(correlation[call_rows], kind="stable")]
    result = np.full(len(correlation), NONE, dtype=np.int64)
    if len(call_rows) == 0:
        return result
    sorted_ids = correlation[call_rows]
    slot = np.minimum(np.searchsorted(sorted_ids, correlation), len(call_rows) - 1)
    linked = (sorted_ids[slot] == correlation) & (correlation != NONE) & (device != NONE)
    result[linked] = call_rows[slot[linked]]
    return result
