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

from tracekit.analysis.columns import Columns
from tracekit.model.schema import NONE, Kind


def operator_rows(
    table: pa.Table, cols: Columns, ops: np.ndarray, modelled: Callable[[str], bool]
) -> np.ndarray:
    """For each device operation in `ops`, the table row of the CPU operator it is reported under, or NONE."""
    cpu = np.flatnonzero(cols.kind == Kind.CPU_OP)
    calls = cols.launch[ops]
    if len(cpu) == 0:
        return np.full(len(ops), NONE, dtype=np.int64)
    thread = _thread_codes(table)
    leaf = _by_external_id(cols, cpu, calls)
    missing = np.flatnonzero((leaf == NONE) & (calls != NONE))
    if len(missing):
        leaf[missing] = _innermost_enclosing(cols, thread, cpu, calls[missing])
    flags = np.array([modelled(n) for n in cols.names] or [False], dtype=bool)
    candidates = cpu[flags[cols.name_code[cpu]]]
    found = leaf != NONE
    leaf[found] = _outermost_modelled(cols, thread, candidates, leaf[found])
    return leaf


def _thread_codes(table: pa.Table) -> np.ndarray:
    """One code per (process, thread) pair, in the pairs' sorted order: each column ranked on its
    own, then the ranks combined into one key (a 1-D unique: a pairwise one sorts rows, 10x slower)."""
    _, process = np.unique(table.column("process").to_numpy(), return_inverse=True)
    _, thread = np.unique(table.column("thread").to_numpy(), return_inverse=True)
    width = int(thread.max()) + 1 if len(thread) else 1
    return np.unique(process.astype(np.int64) * width + thread, return_inverse=True)[1].reshape(-1)


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
    """The innermost CPU op on each call's thread whose span holds the call's start, or NONE."""
    result = np.full(len(calls), NONE, dtype=np.int64)
    for code in np.unique(thread[calls]):
        ops = cpu[thread[cpu] == code]
        ops = ops[np.lexsort((-cols.dur[ops], cols.start[ops]))]
        parent = _parents(cols.start[ops], cols.end[ops])
        queries = np.flatnonzero(thread[calls] == code)
        for q in queries:
            t = cols.start[calls[q]]
            i = int(np.searchsorted(cols.start[ops], t, side="right")) - 1
            while i != NONE and cols.end[ops[i]] < t:
                i = parent[i]
            result[q] = ops[i] if i != NONE else NONE
    return result


def _parents(start: np.ndarray, end: np.ndarray) -> list[int]:
    """Index of each span's innermost enclosing span (spans sorted by start, longest first), or NONE."""
    parent, stack = [], []
    for i in range(len(start)):
        while stack and end[stack[-1]] < end[i]:
            stack.pop()
        parent.append(stack[-1] if stack else NONE)
        stack.append(i)
    return parent


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
