"""tracekit/model/distinct.py against np.unique, which it must equal exactly."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tracekit.model import distinct
from tracekit.model.distinct import distinct_rows, unique_inverse, unique_sorted

_values = st.integers(min_value=-3, max_value=3) | st.integers(min_value=-(2**62), max_value=2**62)


@st.composite
def tables(draw: st.DrawFn) -> list[np.ndarray]:
    """1 to 4 int64 columns of one length (0 to 30), few distinct values and some huge ones."""
    rows = draw(st.integers(min_value=0, max_value=30))
    width = draw(st.integers(min_value=1, max_value=4))
    cells = draw(st.lists(_values, min_size=rows * width, max_size=rows * width))
    return [np.array(cells[c::width], dtype=np.int64) for c in range(width)]


@settings(max_examples=300, deadline=None)
@given(tables())
def test_distinct_rows_equals_a_row_wise_unique(columns: list[np.ndarray]) -> None:
    """First occurrences and groups as np.unique(axis=0) gives them (its lexicographic order)."""
    first, groups = distinct_rows(*columns)
    stacked = np.stack(columns, axis=1)
    _, expected_first, expected_groups = np.unique(stacked, axis=0, return_index=True, return_inverse=True)
    assert first.tolist() == expected_first.tolist()
    assert groups.tolist() == expected_groups.reshape(-1).tolist()


def test_distinct_rows_of_two_columns() -> None:
    """Rows (1, 5), (0, 9), (1, 5), (0, 2): sorted (0, 2), (0, 9), (1, 5)."""
    first, groups = distinct_rows(np.array([1, 0, 1, 0]), np.array([5, 9, 5, 2]))
    assert (first.tolist(), groups.tolist()) == ([3, 1, 0], [2, 1, 2, 0])


@st.composite
def integer_arrays(draw: st.DrawFn) -> np.ndarray:
    """0 to 60 values of a signed or unsigned integer type, few distinct or many, some huge."""
    dtype = draw(st.sampled_from([np.int64, np.int32, np.uint64, np.int8]))
    info = np.iinfo(dtype)
    small = st.integers(min_value=max(-3, int(info.min)), max_value=3)
    cells = draw(st.lists(small | st.integers(min_value=int(info.min), max_value=int(info.max)), max_size=60))
    return np.array(cells, dtype=dtype)


@settings(max_examples=300, deadline=None)
@given(integer_arrays(), st.sampled_from([0, 2, 1 << 16]))
def test_unique_sorted_and_inverse_equal_np_unique(values: np.ndarray, few: int) -> None:
    """Both ways of finding the inverse (binary search among few values, numpy's sort) give numpy's."""
    expected, expected_inverse = np.unique(values, return_inverse=True)
    assert unique_sorted(values).tolist() == expected.tolist()
    assert unique_sorted(values).dtype == values.dtype
    original = distinct.FEW
    try:
        distinct.FEW = few
        found, inverse = unique_inverse(values)
    finally:
        distinct.FEW = original
    assert found.tolist() == expected.tolist()
    assert inverse.dtype == np.int64
    assert inverse.tolist() == expected_inverse.reshape(-1).tolist()


def test_unique_inverse_of_a_thread_column() -> None:
    """Four threads, sorted: -1 < 5 < 9 < 1000."""
    found, inverse = unique_inverse(np.array([1000, 5, -1, 5, 9], dtype=np.int64))
    assert (found.tolist(), inverse.tolist()) == ([-1, 5, 9, 1000], [3, 1, 0, 1, 2])
