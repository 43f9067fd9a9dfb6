"""tracekit/analysis/row_values.py: sparse per-row values, read a step's rows at a time."""

from __future__ import annotations

import numpy as np

from tracekit.analysis.row_values import RowValues, rows_among


def test_among_gives_the_values_of_the_rows_that_have_one() -> None:
    values = RowValues.of(np.array([40, 7, 19]), np.array([1.5, 1.25, 2.0]))
    assert values.rows.tolist() == [7, 19, 40] and len(values) == 3
    assert values.among(np.array([19, 3, 40, 41])) == {19: 2.0, 40: 1.5}
    assert values.among(np.array([], dtype=np.int64)) == {}


def test_no_values_and_a_mapping() -> None:
    assert RowValues.of_mapping({}).among(np.array([1, 2])) == {}
    assert RowValues.of_mapping({5: 1.125, 2: 1.0}).among(np.array([2, 5, 6])) == {2: 1.0, 5: 1.125}


def test_rows_among_a_sorted_set() -> None:
    assert rows_among(np.array([2, 9, 12]), np.array([12, 3, 2, 13])) == frozenset({2, 12})
    assert rows_among(np.array([], dtype=np.int64), np.array([1])) == frozenset()


def test_at_gives_each_rows_value_and_whether_it_has_one() -> None:
    row_values = RowValues.of(np.array([40, 7, 19]), np.array([1.5, 1.25, 2.0]))
    values, found = row_values.at(np.array([19, 3, 40, 41]))
    assert values.tolist() == [2.0, 0.0, 1.5, 0.0] and found.tolist() == [True, False, True, False]
    values, found = RowValues.of_mapping({}).at(np.array([1, 2]))
    assert values.tolist() == [0.0, 0.0] and not found.any()
