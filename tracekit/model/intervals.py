"""Interval algebra over int64 arrays: the one place where time sets are combined.

Intervals are half-open, [start, end). A normalized set is sorted, disjoint and non-touching, and
holds no empty interval. Every function accepts any input (unsorted, overlapping, empty intervals)
and returns a normalized set. Lengths are int64: sets spanning 2**63 ns (292 years) or more overflow.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

_EMPTY = np.empty(0, dtype=np.int64)


class Intervals(NamedTuple):
    """A set of half-open intervals [starts[i], ends[i])."""

    starts: np.ndarray
    ends: np.ndarray

    @classmethod
    def empty(cls) -> Intervals:
        return cls(_EMPTY, _EMPTY)

    def __len__(self) -> int:  # type: ignore[override]
        return len(self.starts)


def union(starts: np.ndarray, ends: np.ndarray) -> Intervals:
    """Merge intervals into a normalized set (touching intervals merge, empty ones vanish)."""
    starts, ends = _as_int64(starts), _as_int64(ends)
    keep = ends > starts
    starts, ends = starts[keep], ends[keep]
    if len(starts) == 0:
        return Intervals.empty()
    order = np.argsort(starts, kind="stable")
    starts, ends = starts[order], np.maximum.accumulate(ends[order])
    first = np.empty(len(starts), dtype=bool)
    first[0] = True
    first[1:] = starts[1:] > ends[:-1]
    heads = np.flatnonzero(first)
    tails = np.append(heads[1:] - 1, len(starts) - 1)
    return Intervals(starts[heads], ends[tails])


def total_length(intervals: Intervals) -> int:
    """Length of the union of the intervals, in their unit."""
    merged = union(intervals.starts, intervals.ends)
    return int((merged.ends - merged.starts).sum())


def lengths_within(a: Intervals, los: np.ndarray, his: np.ndarray) -> np.ndarray:
    """Length of a inside each window [los[i], his[i]) (0 for an empty window): one union, then
    two searches per window in its running total, so many windows cost no more than one pass."""
    a = union(*a)
    covered = np.concatenate([[0], np.cumsum(a.ends - a.starts)])
    los, his = _as_int64(los), _as_int64(his)
    return np.where(his > los, _length_before(a, covered, his) - _length_before(a, covered, los), 0)


def _length_before(a: Intervals, covered: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Length of the normalized set a before each time; `covered[k]`: length of its first k intervals."""
    last = np.searchsorted(a.starts, times, side="right") - 1  # the last interval starting by then
    if len(a) == 0:
        return np.zeros(len(times), dtype=np.int64)
    at = np.maximum(last, 0)
    partial = np.clip(np.minimum(times, a.ends[at]) - a.starts[at], 0, None)
    return np.where(last >= 0, covered[at] + partial, 0)


def lengths_by_group(groups: np.ndarray, starts: np.ndarray, ends: np.ndarray, count: int) -> np.ndarray:
    """Per group 0..count-1, the length of the union of its intervals (group of interval i:
    groups[i]): one sort for all groups, no loop over them."""
    groups, starts, ends = _as_int64(groups), _as_int64(starts), _as_int64(ends)
    keep = ends > starts
    groups, starts, ends = groups[keep], starts[keep], ends[keep]
    if len(starts) == 0:
        return np.zeros(count, dtype=np.int64)
    order = np.lexsort((starts, groups))
    groups, starts, ends = groups[order], starts[order], ends[order]
    reach = _running_max_by_group(groups, ends)
    first = np.r_[True, (groups[1:] != groups[:-1]) | (starts[1:] > reach[:-1])]
    heads = np.flatnonzero(first)
    tails = np.append(heads[1:] - 1, len(starts) - 1)
    return np.bincount(groups[heads], weights=reach[tails] - starts[heads], minlength=count).astype(np.int64)


def _running_max_by_group(groups: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The running maximum of `values` restarting at each group (rows sorted by group): the values'
    ranks offset by group, so one accumulate serves every group without overflow."""
    ordered = np.sort(values)
    stride = len(values) + 1
    keys = groups * stride + np.searchsorted(ordered, values)
    return ordered[np.maximum.accumulate(keys) - groups * stride]


def intersection(a: Intervals, b: Intervals) -> Intervals:
    """Points covered by both a and b."""
    return _sweep(a, b, lambda in_a, in_b: in_a & in_b)


def subtract(a: Intervals, b: Intervals) -> Intervals:
    """Points covered by a and not by b."""
    return _sweep(a, b, lambda in_a, in_b: in_a & ~in_b)


def clip(a: Intervals, lo: int, hi: int) -> Intervals:
    """Points of a inside [lo, hi)."""
    return intersection(a, Intervals(np.array([lo]), np.array([hi])))


def gaps(a: Intervals, lo: int, hi: int) -> Intervals:
    """Maximal intervals inside [lo, hi) covered by no interval of a."""
    return subtract(Intervals(np.array([lo]), np.array([hi])), a)


# --- containment between two lists of intervals (not sets: each interval counts on its own) --------
# Interval [a, b] holds [c, d] when a <= c and d <= b (closed: an empty interval can be held).


def holds_any(outer: Intervals, inner: Intervals) -> np.ndarray:
    """For each outer interval, whether it holds at least one inner interval: one sort of the inner
    intervals by start, the running minimum of their ends from the right, one search per outer."""
    order = np.argsort(_as_int64(inner.starts), kind="stable")
    starts, ends = _as_int64(inner.starts)[order], _as_int64(inner.ends)[order]
    least_end = np.append(np.minimum.accumulate(ends[::-1])[::-1], np.iinfo(np.int64).max)
    first = np.searchsorted(starts, _as_int64(outer.starts), side="left")
    return (first < len(starts)) & (least_end[first] <= _as_int64(outer.ends))


def held_by_any(inner: Intervals, outer: Intervals) -> np.ndarray:
    """For each inner interval, whether at least one outer interval holds it."""
    return first_holder(outer, inner) >= 0


def first_holder(outer: Intervals, inner: Intervals) -> np.ndarray:
    """For each inner interval, the index of the first outer interval in (start, end) order that
    holds it, -1 when none does: a sort of the outer intervals, the running maximum of their ends,
    one search per inner interval."""
    outer_starts, outer_ends = _as_int64(outer.starts), _as_int64(outer.ends)
    order = np.lexsort((outer_ends, outer_starts))
    if len(order) == 0:
        return np.full(len(inner.starts), -1, dtype=np.int64)
    reach = np.maximum.accumulate(outer_ends[order])
    first = np.minimum(np.searchsorted(reach, _as_int64(inner.ends), side="left"), len(order) - 1)
    found = (reach[first] >= _as_int64(inner.ends)) & (outer_starts[order[first]] <= _as_int64(inner.starts))
    return np.where(found, order[first], -1)


def innermost_holder(starts: np.ndarray, ends: np.ndarray, times: np.ndarray) -> np.ndarray:
    """For spans sorted by start (ties: the longest first), the index of the innermost span holding
    each time t (start <= t <= end), -1 when none does; "innermost" as the nesting stack defines it:
    a span's parent is the latest earlier span not popped, a span pops the earlier ones ending
    before it. Walking up from the last span starting at or before t to the first that ends at or
    after t gives, with the stack's ends nondecreasing from top to bottom, the largest index
    j <= that span with end >= t: binary lifting over running maxima of the ends, O((n + q) log n)."""
    starts, ends, times = _as_int64(starts), _as_int64(ends), _as_int64(times)
    position = np.searchsorted(starts, times, side="right") - 1
    if len(starts) == 0:
        return position  # all -1
    windows = [ends]  # windows[k][j]: the largest end among spans j - 2**k + 1 .. j
    while 2 ** len(windows) <= len(starts):
        width, last = 2 ** (len(windows) - 1), windows[-1]
        windows.append(np.concatenate([last[:width], np.maximum(last[width:], last[:-width])]))
    for k in range(len(windows) - 1, -1, -1):  # skip the longest run ending at `position` that ends before t
        width = 2**k
        skip = (position - width + 1 >= 0) & (windows[k][np.maximum(position, 0)] < times)
        position = np.where(skip, position - width, position)
    found = (position >= 0) & (ends[np.maximum(position, 0)] >= times)
    return np.where(found, position, -1)


def latest_started(
    starts: np.ndarray, ends: np.ndarray, values: np.ndarray, times: np.ndarray, missing: int
) -> np.ndarray:
    """For spans sorted by start, per time t the value of the last span starting at or before t
    (ties: the later one) when that span holds t (start <= t < end), else `missing`. The answer is
    the same between two consecutive span bounds, so it is found once per bound: the times cost one
    search among the bounds and one look-up each, O(n log n + q log n)."""
    starts, ends, values, times = _as_int64(starts), _as_int64(ends), _as_int64(values), _as_int64(times)
    bounds = np.unique(np.concatenate([starts, ends]))
    slot = np.searchsorted(starts, bounds, side="right") - 1
    at = np.maximum(slot, 0)  # no bound when there is no span: then every index array is empty
    at_bounds = np.where((slot >= 0) & (bounds < ends[at]), values[at], missing)
    lookup = np.concatenate([np.array([missing], dtype=np.int64), at_bounds])  # [0]: before every bound
    return lookup[np.searchsorted(bounds, times, side="right")]


def _sweep(a: Intervals, b: Intervals, keep: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Intervals:
    a, b = union(*a), union(*b)
    points = np.concatenate([a.starts, a.ends, b.starts, b.ends])
    if len(points) == 0:
        return Intervals.empty()
    na, nb = len(a), len(b)
    delta_a = np.concatenate([np.ones(na), -np.ones(na), np.zeros(2 * nb)]).astype(np.int64)
    delta_b = np.concatenate([np.zeros(2 * na), np.ones(nb), -np.ones(nb)]).astype(np.int64)
    order = np.argsort(points, kind="stable")
    points = points[order]
    depth_a, depth_b = np.cumsum(delta_a[order]), np.cumsum(delta_b[order])
    last_at_point = np.append(points[1:] != points[:-1], True)
    x = points[last_at_point]
    selected = keep(depth_a[last_at_point][:-1] > 0, depth_b[last_at_point][:-1] > 0)
    return union(x[:-1][selected], x[1:][selected])


def _as_int64(values: np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)
