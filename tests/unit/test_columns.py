"""Columns helpers against their numpy definitions."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tracekit.analysis.columns import distinct_rows

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
