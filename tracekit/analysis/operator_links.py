"""Which CPU operator issued each device operation (docs/metrics.md, "Operators").

The launching operator is the CPU op whose `external_id` the launch call carries (Kineto links a
runtime call to the operator that issued it); where that link is missing, the innermost CPU op on the
call's thread whose span holds the call. The operator reported is then the outermost enclosing op on
that thread that has a performance model (`aten::linear` rather than the `aten::addmm` it calls, so the
shapes are the caller's and every kernel of the call counts), else the launching op itself.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa

from tracekit import resident
from tracekit.analysis.columns import Columns
from tracekit.model.arrays import numeric
from tracekit.model.distinct import row_codes, unique_sorted
from tracekit.model.intervals import innermost_holder
from tracekit.model.schema import NONE, Kind


def operator_rows(
    table: pa.Table, cols: Columns, ops: np.ndarray, modelled: Callable[[str], bool]
) -> np.ndarray:
    """For each device operation in `ops`, the table row of the CPU operator it is reported under, or NONE.

    The launching operator of every launch call is found once per table (`_Links`, kept in
    `cols.derived`), and its reported operator once per predicate: the analyses ask per device, and
    for kernels, operations and elementwise operators."""
    links = _links(table, cols)
    leaf = links.leaf_of(cols.launch[ops])
    found = leaf != NONE
    if found.any():
        leaf[found] = links.reported(modelled, leaf[found])
    return leaf


class _Links:
    """The launching CPU operator (NONE: none) of each distinct launch call of the table, and per
    predicate the reported operator of each distinct launching operator."""

    def __init__(self, table: pa.Table, cols: Columns) -> None:
        self.cols, self.cpu = cols, resident.paged(np.flatnonzero(cols.kind == Kind.CPU_OP))
        self.calls = resident.paged(unique_sorted(cols.launch[cols.launch != NONE]))
        self.thread = resident.paged(
            _thread_codes(table, np.concatenate([self.cpu, self.calls])) if len(self.cpu) else self.cpu
        )
        self.leaves = resident.paged(_leaves(cols, self.thread, self.cpu, self.calls))
        self.distinct_leaves = resident.paged(unique_sorted(self.leaves[self.leaves != NONE]))
        self.by_predicate: dict[Callable[[str], bool], tuple[np.ndarray, np.ndarray]] = {}

    def leaf_of(self, calls: np.ndarray) -> np.ndarray:
        """Each call's launching operator (a copy; NONE for NONE and for unknown rows)."""
        return _lookup(self.calls, self.leaves, calls)

    def reported(self, modelled: Callable[[str], bool], leaves: np.ndarray) -> np.ndarray:
        """Each launching operator's outermost enclosing operator that `modelled` names, else itself."""
        if modelled not in self.by_predicate:
            distinct = self.distinct_leaves
            flags = np.array([modelled(n) for n in self.cols.names] or [False], dtype=bool)
            candidates = self.cpu[flags[self.cols.name_code[self.cpu]]]
            outer = _outermost_modelled(self.cols, self.thread, candidates, distinct)
            self.by_predicate[modelled] = (distinct, resident.paged(outer))
        return _lookup(*self.by_predicate[modelled], leaves)


def _links(table: pa.Table, cols: Columns) -> _Links:
    key = ("operator_links", id(table))
    if key not in cols.derived:
        cols.derived[key] = (table, _Links(table, cols))  # the table held: its id is not reused
    return cols.derived[key][1]


def _lookup(keys: np.ndarray, values: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """values[i] where keys[i] (sorted, distinct) == wanted, else NONE."""
    if len(keys) == 0:
        return np.full(len(wanted), NONE, dtype=np.int64)
    slot = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
    return np.where(keys[slot] == wanted, values[slot], NONE).astype(np.int64)


def _leaves(cols: Columns, thread: np.ndarray, cpu: np.ndarray, calls: np.ndarray) -> np.ndarray:
    """Each call's launching CPU operator: the one its external id names, else the innermost on its
    thread holding its start."""
    if len(cpu) == 0:
        return np.full(len(calls), NONE, dtype=np.int64)
    leaf = _by_external_id(cols, cpu, calls)
    missing = np.flatnonzero(leaf == NONE)
    if len(missing):
        leaf[missing] = _innermost_enclosing(cols, thread, cpu, calls[missing])
    return leaf


def _thread_codes(table: pa.Table, rows: np.ndarray) -> np.ndarray:
    """Per table row, a code for its (process, thread) pair (the pairs' sorted order among `rows`:
    the CPU operators and launch calls, the only rows whose thread is asked; -1 on the others). A row
    given twice gets its one code twice (no set union: numpy 2 hashes it, tracekit/model/distinct.py)."""
    codes = np.full(table.num_rows, -1, dtype=np.int32)  # fewer pairs than rows: int32 holds them
    codes[rows] = row_codes(numeric(table.column("process"))[rows], numeric(table.column("thread"))[rows])
    return codes


def _by_external_id(cols: Columns, cpu: np.ndarray, calls: np.ndarray) -> np.ndarray:
    linked = cpu[cols.external_id[cpu] != NONE]
    result = np.full(len(calls), NONE, dtype=np.int64)
    if len(linked) == 0:
        return result
    linked = linked[np.argsort(cols.external_id[linked], kind="stable")]
    ids = np.where(calls != NONE, cols.external_id[np.maximum(calls, 0)], NONE)
    slot = np.minimum(np.searchsorted(cols.external_id[linked], ids), len(linked) - 1)
    found = (cols.external_id[linked[slot]] == ids) & (ids != NONE)
    result[found] = linked[slot[found]]
    return result


def _innermost_enclosing(cols: Columns, thread: np.ndarray, cpu: np.ndarray, calls: np.ndarray) -> np.ndarray:
    """The innermost CPU op on each call's thread whose span holds the call's start, or NONE: per
    thread, one sort of its ops and one lifted search for all its calls (intervals.innermost_holder)."""
    result = np.full(len(calls), NONE, dtype=np.int64)
    for code in np.unique(thread[calls]):
        ops = cpu[thread[cpu] == code]
        ops = ops[np.lexsort((-cols.dur[ops], cols.start[ops]))]
        if len(ops) == 0:
            continue  # no CPU op on the calls' thread
        queries = np.flatnonzero(thread[calls] == code)
        held = innermost_holder(cols.start[ops], cols.end[ops], cols.start[calls[queries]])
        result[queries] = np.where(held >= 0, ops[np.maximum(held, 0)], NONE)
    return result


def _outermost_modelled(
    cols: Columns, thread: np.ndarray, candidates: np.ndarray, leaf: np.ndarray
) -> np.ndarray:
    """Each leaf's outermost enclosing modelled op on its thread (itself included), else the leaf."""
    result = leaf.copy()
    for code in np.unique(thread[leaf]):
        outer = _outermost(cols, candidates[thread[candidates] == code])
        if len(outer) == 0:
            continue
        on = np.flatnonzero(thread[leaf] == code)
        slot = np.searchsorted(cols.start[outer], cols.start[leaf[on]], side="right") - 1
        held = (slot >= 0) & (cols.end[outer[np.maximum(slot, 0)]] >= cols.end[leaf[on]])
        result[on[held]] = outer[slot[held]]
    return result


def _outermost(cols: Columns, rows: np.ndarray) -> np.ndarray:
    """The rows not nested in another of them, sorted by start (ties: the longest first)."""
    rows = rows[np.lexsort((-cols.dur[rows], cols.start[rows]))]
    if len(rows) == 0:
        return rows
    reach = np.maximum.accumulate(cols.end[rows])
    nested = np.concatenate([[False], cols.start[rows[1:]] < reach[:-1]])
    return rows[~nested]
