"""Property tests for intervals.latest_started against its plain definition, time by time."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tracekit.model.intervals import latest_started

MISSING = -1
coords = st.integers(min_value=-20, max_value=40)
spans = st.lists(st.tuples(coords, coords, st.integers(min_value=0, max_value=9)), max_size=10)
times = st.lists(st.integers(min_value=-25, max_value=45), max_size=16)


def _plain(pairs: list[tuple[int, int, int]], t: int) -> int:
    """The value of the last span (in start order, the later of equal starts) starting at or before
    t, when it holds t; else MISSING."""
    started = [(start, end, value) for start, end, value in pairs if start <= t]
    if not started:
        return MISSING
    _, end, value = started[-1]
    return value if t < end else MISSING


def _sorted_by_start(pairs: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    return sorted(pairs, key=lambda pair: pair[0])  # stable: ties keep their drawn order


def _columns(pairs: list[tuple[int, int, int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return tuple(np.array([pair[k] for pair in pairs], dtype=np.int64) for k in range(3))  # type: ignore[return-value]


@settings(max_examples=400, deadline=None)
@given(spans, times)
def test_latest_started_matches_the_plain_definition(drawn: list, ts: list[int]) -> None:
    pairs = _sorted_by_start(drawn)
    starts, ends, values = _columns(pairs)
    found = latest_started(starts, ends, values, np.array(ts, dtype=np.int64), MISSING)
    assert found.dtype == np.int64
    assert found.tolist() == [_plain(pairs, t) for t in ts]


@settings(max_examples=100, deadline=None)
@given(spans, times, st.integers(min_value=-(2**40), max_value=2**40))
def test_latest_started_on_epoch_ns_values(drawn: list, ts: list[int], shift: int) -> None:
    epoch = 1694039994071305123 + shift  # above 2**53: no float on the way
    pairs = [(start + epoch, end + epoch, value) for start, end, value in _sorted_by_start(drawn)]
    starts, ends, values = _columns(pairs)
    found = latest_started(starts, ends, values, np.array(ts, dtype=np.int64) + epoch, MISSING)
    assert found.tolist() == [_plain(pairs, t + epoch) for t in ts]


def test_latest_started_examples() -> None:
    starts, ends, values = np.array([0, 5, 5, 20]), np.array([10, 7, 9, 20]), np.array([1, 2, 3, 4])
    ts = np.array([-1, 0, 4, 5, 8, 9, 10, 19, 20, 21])
    # from 5 the later of the two spans starting there (value 3) counts, until its end (9), even
    # though the first span (to 10) still holds 9; the empty span at 20 holds nothing
    assert latest_started(starts, ends, values, ts, MISSING).tolist() == [-1, 1, 1, 3, 3, -1, -1, -1, -1, -1]
    empty = np.empty(0, dtype=np.int64)
    assert latest_started(empty, empty, empty, ts, MISSING).tolist() == [-1] * len(ts)
    assert latest_started(starts, ends, values, empty, MISSING).tolist() == []
