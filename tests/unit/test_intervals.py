"""Property tests for tracekit.model.intervals against a brute-force coverage-mask reference.

A set of half-open intervals over a small integer range is represented as a boolean mask of unit
cells [i, i + 1); every operation of the interval algebra must agree with the matching boolean
operation on masks, and must return a normalized set.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracekit.model.intervals import (
    Intervals,
    clip,
    first_holder,
    gaps,
    held_by_any,
    holds_any,
    innermost_holder,
    intersection,
    lengths_by_group,
    lengths_within,
    subtract,
    total_length,
    union,
)

# Coordinates drawn for intervals and bounds; the mask covers them all, with a margin. Touching
# neighbours can chain (up to 3 extras, each up to 3 past the previous end): the mask reaches past that.
LO_COORD, HI_COORD = -20, 40
MASK_LO, MASK_HI = LO_COORD - 5, HI_COORD + 12
MAX_EXAMPLES = 300

EPOCH_NS = 1694039994071305123  # a realistic epoch-nanosecond timestamp, above 2**53

coords = st.integers(min_value=LO_COORD, max_value=HI_COORD)
# Module-level strategies and few draws per example keep hypothesis' per-example cost low.
_flat_coords = st.lists(coords, max_size=16)  # consecutive pairs are (start, end)
_extras = st.lists(st.integers(min_value=0, max_value=31), max_size=3)
_shuffler = st.randoms(use_true_random=False)


@st.composite
def interval_sets(draw: st.DrawFn) -> Intervals:
    """Arbitrary (non-normalized) intervals: unsorted, overlapping, touching, empty, reversed, duplicated."""
    flat = draw(_flat_coords)
    pairs = list(zip(flat[0::2], flat[1::2], strict=False))  # odd leftover coordinate is dropped
    extras = draw(_extras) if pairs else []
    for k in extras:
        s, e = pairs[k % len(pairs)]
        # k < 16: an exact duplicate; otherwise a neighbour touching its end (possibly zero-length).
        pairs.append((s, e) if k < 16 else (e, e + k % 4))
    if extras:
        draw(_shuffler).shuffle(pairs)
    starts = np.array([s for s, _ in pairs], dtype=np.int64)
    ends = np.array([e for _, e in pairs], dtype=np.int64)
    return Intervals(starts, ends)


def mask(iv: Intervals) -> np.ndarray:
    """Boolean coverage of the unit cells [i, i + 1) for i in [MASK_LO, MASK_HI)."""
    cells = np.arange(MASK_LO, MASK_HI)
    covered = np.zeros(len(cells), dtype=bool)
    for s, e in zip(iv.starts.tolist(), iv.ends.tolist(), strict=True):
        covered |= (cells >= s) & (cells < e)
    return covered


def window(lo: int, hi: int) -> np.ndarray:
    """Mask of the cells inside [lo, hi) (empty when lo >= hi)."""
    cells = np.arange(MASK_LO, MASK_HI)
    return (cells >= lo) & (cells < hi)


def assert_normalized(iv: Intervals) -> None:
    """Check int64 dtype, equal lengths, no empty interval, sorted, disjoint and non-touching."""
    assert isinstance(iv, Intervals)
    assert iv.starts.dtype == np.int64
    assert iv.ends.dtype == np.int64
    assert iv.starts.ndim == 1
    assert iv.ends.ndim == 1
    assert len(iv.starts) == len(iv.ends) == len(iv)
    assert np.all(iv.ends > iv.starts)
    assert np.all(iv.ends[:-1] < iv.starts[1:])


def assert_same_set(x: Intervals, y: Intervals) -> None:
    """Two normalized sets are equal iff their arrays are identical."""
    np.testing.assert_array_equal(x.starts, y.starts)
    np.testing.assert_array_equal(x.ends, y.ends)


# --- properties against the mask reference ------------------------------------------------------


@settings(max_examples=MAX_EXAMPLES, deadline=None)
@given(interval_sets())
def test_union_matches_mask(a: Intervals) -> None:
    """union is normalized, covers exactly the OR of the input intervals, and is idempotent."""
    u = union(a.starts, a.ends)
    assert_normalized(u)
    np.testing.assert_array_equal(mask(u), mask(a))
    assert_same_set(union(*u), u)


@settings(max_examples=MAX_EXAMPLES, deadline=None)
@given(interval_sets(), interval_sets())
def test_union_of_concatenation_is_mask_or(a: Intervals, b: Intervals) -> None:
    """Union of two concatenated sets covers the OR of their masks."""
    u = union(np.concatenate([a.starts, b.starts]), np.concatenate([a.ends, b.ends]))
    assert_normalized(u)
    np.testing.assert_array_equal(mask(u), mask(a) | mask(b))


@settings(max_examples=MAX_EXAMPLES, deadline=None)
@given(interval_sets())
def test_total_length_matches_mask(a: Intervals) -> None:
    """total_length counts covered unit cells, and returns a Python int."""
    n = total_length(a)
    assert type(n) is int
    assert n == int(mask(a).sum())


@settings(max_examples=MAX_EXAMPLES, deadline=None)
@given(interval_sets(), interval_sets())
def test_intersection_matches_mask(a: Intervals, b: Intervals) -> None:
    """intersection is normalized, equals AND of masks, and is commutative."""
    r = intersection(a, b)
    assert_normalized(r)
    np.testing.assert_array_equal(mask(r), mask(a) & mask(b))
    assert_same_set(r, intersection(b, a))


@settings(max_examples=MAX_EXAMPLES, deadline=None)
@given(interval_sets(), interval_sets())
def test_subtract_matches_mask(a: Intervals, b: Intervals) -> None:
    """subtract is normalized and equals AND-NOT of masks."""
    r = subtract(a, b)
    assert_normalized(r)
    np.testing.assert_array_equal(mask(r), mask(a) & ~mask(b))


@settings(max_examples=MAX_EXAMPLES, deadline=None)
@given(interval_sets(), coords, coords)
def test_clip_matches_mask(a: Intervals, lo: int, hi: int) -> None:
    """clip is normalized and equals the mask restricted to [lo, hi); lo >= hi gives nothing."""
    r = clip(a, lo, hi)
    assert_normalized(r)
    np.testing.assert_array_equal(mask(r), mask(a) & window(lo, hi))
    if lo >= hi:
        assert len(r) == 0
    else:
        assert np.all(r.starts >= lo)
        assert np.all(r.ends <= hi)


@settings(max_examples=MAX_EXAMPLES, deadline=None)
@given(interval_sets(), coords, coords)
def test_gaps_matches_mask(a: Intervals, lo: int, hi: int) -> None:
    """gaps is normalized and equals NOT union restricted to [lo, hi); lo >= hi gives nothing."""
    r = gaps(a, lo, hi)
    assert_normalized(r)
    np.testing.assert_array_equal(mask(r), ~mask(a) & window(lo, hi))
    if lo >= hi:
        assert len(r) == 0


@settings(max_examples=MAX_EXAMPLES, deadline=None)
@given(interval_sets(), st.lists(st.tuples(coords, coords), max_size=6))
def test_lengths_within_matches_mask(a: Intervals, windows: list[tuple[int, int]]) -> None:
    """lengths_within gives, per window, the covered cells of a inside it (0 when lo >= hi)."""
    los = np.array([lo for lo, _ in windows], dtype=np.int64)
    his = np.array([hi for _, hi in windows], dtype=np.int64)
    expected = [int((mask(a) & window(lo, hi)).sum()) for lo, hi in windows]
    assert lengths_within(a, los, his).tolist() == expected


@settings(max_examples=MAX_EXAMPLES, deadline=None)
@given(interval_sets(), st.randoms(use_true_random=False))
def test_lengths_by_group_matches_each_group_alone(a: Intervals, rng) -> None:
    """Per group, lengths_by_group is the covered cells of that group's intervals alone."""
    groups = np.array([rng.randrange(3) for _ in range(len(a))], dtype=np.int64)
    expected = [int(mask(Intervals(a.starts[groups == g], a.ends[groups == g])).sum()) for g in range(4)]
    assert lengths_by_group(groups, a.starts, a.ends, 4).tolist() == expected


def _pairs(iv: Intervals) -> list[tuple[int, int]]:
    return list(zip(iv.starts.tolist(), iv.ends.tolist(), strict=True))


@settings(max_examples=MAX_EXAMPLES, deadline=None)
@given(interval_sets(), interval_sets())
def test_containment_queries_match_pairwise_checks(outer: Intervals, inner: Intervals) -> None:
    """holds_any, held_by_any and first_holder equal the pairwise definitions (a <= c and d <= b),
    the first holder taken in (start, end) order as a sorted list of pairs gives it."""
    outer_pairs, inner_pairs = _pairs(outer), _pairs(inner)
    holds = [any(a <= c and d <= b for c, d in inner_pairs) for a, b in outer_pairs]
    assert holds_any(outer, inner).tolist() == holds
    held = [any(a <= c and d <= b for a, b in outer_pairs) for c, d in inner_pairs]
    assert held_by_any(inner, outer).tolist() == held
    by_order = sorted(outer_pairs)
    first = [next(((a, b) for a, b in by_order if a <= c and d <= b), None) for c, d in inner_pairs]
    found = first_holder(outer, inner).tolist()
    assert [outer_pairs[k] if k >= 0 else None for k in found] == first


def _innermost_by_parents(starts: list[int], ends: list[int], t: int) -> int:
    """The row-by-row definition: each span's parent from the nesting stack, then from the last span
    starting at or before t up the parents while the span ends before t."""
    parent, stack = [], []
    for i in range(len(starts)):
        while stack and ends[stack[-1]] < ends[i]:
            stack.pop()
        parent.append(stack[-1] if stack else -1)
        stack.append(i)
    i = int(np.searchsorted(starts, t, side="right")) - 1
    while i != -1 and ends[i] < t:
        i = parent[i]
    return i


@settings(max_examples=MAX_EXAMPLES, deadline=None)
@given(interval_sets(), st.lists(st.integers(min_value=MASK_LO, max_value=MASK_HI), max_size=12))
def test_innermost_holder_matches_the_parent_walk(spans: Intervals, times: list[int]) -> None:
    """innermost_holder equals walking up the nesting stack's parents, on spans sorted by start,
    longest first (nested, partly overlapping, empty and reversed ones, shared starts); the spans of
    a real thread (at epoch-ns times) give the same answer."""
    order = np.lexsort((spans.starts - spans.ends, spans.starts))
    starts, ends = spans.starts[order], spans.ends[order]
    expected = [_innermost_by_parents(starts.tolist(), ends.tolist(), t) for t in times]
    assert innermost_holder(starts, ends, np.array(times, dtype=np.int64)).tolist() == expected
    shifted = innermost_holder(starts + EPOCH_NS, ends + EPOCH_NS, np.array(times, dtype=np.int64) + EPOCH_NS)
    assert shifted.tolist() == expected


def test_innermost_holder_on_nested_spans() -> None:
    """[0, 10) holds [2, 6) holds [3, 4); [7, 9) is a sibling: the innermost holder of each time."""
    starts, ends = np.array([0, 2, 3, 7]), np.array([10, 6, 4, 9])
    times = np.array([-1, 0, 2, 3, 4, 5, 6, 7, 9, 10, 11])
    assert innermost_holder(starts, ends, times).tolist() == [-1, 0, 1, 2, 2, 1, 1, 3, 3, 0, -1]
    assert innermost_holder(starts[:0], ends[:0], times).tolist() == [-1] * len(times)


@settings(max_examples=MAX_EXAMPLES, deadline=None)
@given(interval_sets(), interval_sets())
def test_inputs_are_not_modified(a: Intervals, b: Intervals) -> None:
    """No operation writes into its input arrays."""
    before = [x.copy() for x in (*a, *b)]
    union(*a)
    total_length(a)
    intersection(a, b)
    subtract(a, b)
    clip(a, 0, 10)
    gaps(a, 0, 10)
    lengths_within(a, np.array([0]), np.array([10]))
    for old, new in zip(before, (*a, *b), strict=True):
        np.testing.assert_array_equal(old, new)


# --- algebraic identities -------------------------------------------------------------------------


@settings(max_examples=MAX_EXAMPLES, deadline=None)
@given(interval_sets(), interval_sets())
def test_subtract_and_intersection_partition_a(a: Intervals, b: Intervals) -> None:
    """subtract(a, b) and intersection(a, b) are disjoint and their union is union(a)."""
    diff, common = subtract(a, b), intersection(a, b)
    assert len(intersection(diff, common)) == 0
    joined = union(np.concatenate([diff.starts, common.starts]), np.concatenate([diff.ends, common.ends]))
    assert_same_set(joined, union(*a))


@settings(max_examples=MAX_EXAMPLES, deadline=None)
@given(interval_sets(), interval_sets())
def test_inclusion_exclusion(a: Intervals, b: Intervals) -> None:
    """Inclusion-exclusion: |a| + |b| == |a or b| + |a and b|."""
    both = Intervals(np.concatenate([a.starts, b.starts]), np.concatenate([a.ends, b.ends]))
    assert total_length(a) + total_length(b) == total_length(both) + total_length(intersection(a, b))


@settings(max_examples=MAX_EXAMPLES, deadline=None)
@given(interval_sets(), coords, coords)
def test_clip_and_gaps_partition_window(a: Intervals, lo: int, hi: int) -> None:
    """clip(a) and gaps(a) are disjoint and together fill [lo, hi) exactly."""
    inside, holes = clip(a, lo, hi), gaps(a, lo, hi)
    assert len(intersection(inside, holes)) == 0
    assert total_length(inside) + total_length(holes) == max(hi - lo, 0)


@settings(max_examples=MAX_EXAMPLES, deadline=None)
@given(interval_sets(), st.integers(min_value=-(2**40), max_value=2**40))
def test_operations_commute_with_large_shift(a: Intervals, shift: int) -> None:
    """Shifting every coordinate by an epoch-ns offset shifts every result by that exact offset."""
    off = EPOCH_NS + shift
    moved = Intervals(a.starts + off, a.ends + off)
    u, um = union(*a), union(*moved)
    np.testing.assert_array_equal(um.starts, u.starts + off)
    np.testing.assert_array_equal(um.ends, u.ends + off)
    assert total_length(moved) == total_length(a)
    lo, hi = -3, 17
    g, gm = gaps(a, lo, hi), gaps(moved, lo + off, hi + off)
    np.testing.assert_array_equal(gm.starts, g.starts + off)
    np.testing.assert_array_equal(gm.ends, g.ends + off)


# --- exact examples -------------------------------------------------------------------------------


def iv(*pairs: tuple[int, int]) -> Intervals:
    """Build Intervals from (start, end) pairs as int64 arrays."""
    return Intervals(
        np.array([s for s, _ in pairs], dtype=np.int64), np.array([e for _, e in pairs], dtype=np.int64)
    )


def as_pairs(x: Intervals) -> list[tuple[int, int]]:
    """Normalized set as a list of Python-int pairs."""
    return list(zip(x.starts.tolist(), x.ends.tolist(), strict=True))


def test_union_examples() -> None:
    """Hand-computed unions: touching merge, empties vanish, duplicates collapse, reversed dropped."""
    assert as_pairs(union(*iv((5, 7), (0, 2), (2, 3), (6, 9), (4, 4), (5, 7), (12, 10)))) == [(0, 3), (5, 9)]
    assert as_pairs(union(*iv((-5, -1), (-1, 0), (1, 2)))) == [(-5, 0), (1, 2)]
    assert as_pairs(union(*iv((0, 10), (2, 3), (4, 5)))) == [(0, 10)]


def test_empty_inputs() -> None:
    """Empty arrays and Intervals.empty() give empty int64 results everywhere."""
    e = Intervals.empty()
    assert len(e) == 0
    for r in (
        union(np.array([], dtype=np.int64), np.array([], dtype=np.int64)),
        union(*iv((3, 3), (5, 1))),
        intersection(e, e),
        subtract(e, iv((0, 5))),
        intersection(iv((0, 5)), e),
        clip(e, 0, 10),
        clip(iv((0, 5)), 5, 5),
        gaps(e, 4, 4),
        gaps(e, 9, 2),
        gaps(iv((0, 10)), 2, 8),
    ):
        assert_normalized(r)
        assert len(r) == 0
    assert total_length(e) == 0
    assert as_pairs(subtract(iv((0, 5)), e)) == [(0, 5)]
    assert as_pairs(gaps(e, -4, 4)) == [(-4, 4)]


def test_set_operation_examples() -> None:
    """Hand-computed intersection, subtract, clip and gaps."""
    a = iv((0, 10), (20, 30))
    b = iv((5, 25), (28, 29))
    assert as_pairs(intersection(a, b)) == [(5, 10), (20, 25), (28, 29)]
    assert as_pairs(subtract(a, b)) == [(0, 5), (25, 28), (29, 30)]
    assert as_pairs(subtract(b, a)) == [(10, 20)]
    assert as_pairs(clip(a, 5, 22)) == [(5, 10), (20, 22)]
    assert as_pairs(gaps(a, -5, 35)) == [(-5, 0), (10, 20), (30, 35)]
    assert as_pairs(gaps(a, 10, 20)) == [(10, 20)]
    # Touching, not overlapping: nothing in common, nothing removed.
    assert as_pairs(intersection(iv((0, 5)), iv((5, 9)))) == []
    assert as_pairs(subtract(iv((0, 5)), iv((5, 9)))) == [(0, 5)]


def test_accepts_lists_and_other_int_dtypes() -> None:
    """Plain lists and int32 arrays are accepted and produce int64 output."""
    r = union([3, 0], [5, 3])  # type: ignore[arg-type]
    assert_normalized(r)
    assert as_pairs(r) == [(0, 5)]
    r32 = union(np.array([1, 2], dtype=np.int32), np.array([2, 4], dtype=np.int32))
    assert_normalized(r32)
    assert as_pairs(r32) == [(1, 4)]


def test_epoch_ns_values_stay_exact() -> None:
    """Values near 1.7e18 (above 2**53) are kept exactly: no float round-trip anywhere."""
    s, e = 1694039994071305123, 1694039994071305999
    assert float(s) != s  # sanity: a float64 could not hold this value
    a = iv((s, e))
    assert as_pairs(union(*a)) == [(s, e)]
    assert total_length(a) == 876
    assert as_pairs(clip(a, s + 1, e - 1)) == [(s + 1, e - 1)]
    assert as_pairs(gaps(a, s - 7, e + 3)) == [(s - 7, s), (e, e + 3)]
    b = iv((s + 100, s + 101), (e - 1, e + 50))
    assert as_pairs(intersection(a, b)) == [(s + 100, s + 101), (e - 1, e)]
    assert as_pairs(subtract(a, b)) == [(s, s + 100), (s + 101, e - 1)]
    # Odd neighbours one ns apart must neither merge nor be rounded together.
    c = iv((s, s + 1), (s + 2, s + 3), (s + 3, s + 5))
    assert as_pairs(union(*c)) == [(s, s + 1), (s + 2, s + 5)]
    assert total_length(c) == 4


def test_extreme_int64_bounds() -> None:
    """Coordinates near the int64 limits are handled exactly."""
    big = np.iinfo(np.int64).max
    small = np.iinfo(np.int64).min
    a = iv((big - 10, big - 1), (small + 1, small + 4))
    assert as_pairs(union(*a)) == [(small + 1, small + 4), (big - 10, big - 1)]
    assert as_pairs(gaps(a, big - 12, big)) == [(big - 12, big - 10), (big - 1, big)]
    assert as_pairs(clip(a, small, small + 2)) == [(small + 1, small + 2)]


@pytest.mark.parametrize(("lo", "hi"), [(0, 0), (5, 5), (7, 3), (-1, -9)])
def test_empty_window(lo: int, hi: int) -> None:
    """clip and gaps over an empty or reversed window give nothing."""
    a = iv((-20, 20))
    assert len(clip(a, lo, hi)) == 0
    assert len(gaps(Intervals.empty(), lo, hi)) == 0
