"""Order statistics of the m x n differences new_i - base_j, without building them.

With `new` sorted and `base` sorted in descending order, the differences form a matrix whose rows
ascend. Selection keeps, per row, the range of columns still in play; it counts the differences
below a pivot with a binary search in every row at once, and cuts each row's range around the
pivot (the weighted median of the rows' middle candidates, so at least a quarter of the candidates
go each round) until few remain, which are sorted (Johnson and Mizoguchi 1978; Monahan 1984).
A rank costs O(m log n log(mn)) time and O(m + n) memory. Each difference is the same floating-point
new_i - base_j that brute force computes, so the result is exactly brute force's.
"""

from __future__ import annotations

import numpy as np

FEW = 4096  # candidates left when the rest are gathered and sorted


def kth_differences(new: np.ndarray, base: np.ndarray, ranks: list[int]) -> list[float]:
    """The differences of 0-based rank `ranks` among all new_i - base_j, in ascending order."""
    rows = np.sort(np.asarray(new, dtype=float))
    columns = np.sort(-np.asarray(base, dtype=float))  # rows[i] + columns[j] == new_i - base_j
    return [_select(rows, columns, rank) for rank in ranks]


def median_difference(new: np.ndarray, base: np.ndarray) -> float:
    """The median of all new_i - base_j (the mean of the middle two for an even count)."""
    count = len(new) * len(base)
    low, high = kth_differences(new, base, [(count - 1) // 2, count // 2])
    return float((low + high) / 2)


def _select(rows: np.ndarray, columns: np.ndarray, rank: int) -> float:
    lo = np.zeros(len(rows), dtype=np.int64)
    hi = np.full(len(rows), len(columns), dtype=np.int64)
    while int((hi - lo).sum()) > FEW:
        pivot = _pivot(rows, columns, lo, hi)
        below, up_to = _count(rows, columns, pivot, strict=True), _count(rows, columns, pivot, strict=False)
        if rank < int(below.sum()):
            hi = np.minimum(hi, below)
        elif rank >= int(up_to.sum()):
            lo = np.maximum(lo, up_to)
        else:
            return float(pivot)
    left = _candidates(rows, columns, lo, hi)
    return float(np.partition(left, rank - int(lo.sum()))[rank - int(lo.sum())])


def _pivot(rows: np.ndarray, columns: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    """The weighted median of each open row's middle candidate, weighted by its candidates."""
    open_rows = np.flatnonzero(hi > lo)
    middle = rows[open_rows] + columns[(lo[open_rows] + hi[open_rows]) // 2]
    weight = (hi - lo)[open_rows]
    order = np.argsort(middle, kind="stable")
    half = np.searchsorted(np.cumsum(weight[order]), (weight.sum() + 1) // 2)
    return float(middle[order[half]])


def _count(rows: np.ndarray, columns: np.ndarray, pivot: float, strict: bool) -> np.ndarray:
    """Per row, how many of its differences are below the pivot (strict) or at most the pivot."""
    lo = np.zeros(len(rows), dtype=np.int64)
    hi = np.full(len(rows), len(columns), dtype=np.int64)
    last = len(columns) - 1
    while (searching := lo < hi).any():
        mid = (lo + hi) // 2
        value = rows + columns[np.minimum(mid, last)]
        right = searching & ((value < pivot) if strict else (value <= pivot))
        lo = np.where(right, mid + 1, lo)
        hi = np.where(searching & ~right, mid, hi)
    return lo


def _candidates(rows: np.ndarray, columns: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The differences still in play, row by row."""
    sizes = hi - lo
    row = np.repeat(np.arange(len(rows)), sizes)
    offset = np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    return rows[row] + columns[np.repeat(lo, sizes) + offset]
