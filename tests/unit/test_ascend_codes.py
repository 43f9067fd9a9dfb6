"""Text columns as codes (readers/ascend/scalars.Codes, rows.EventRows): every operation gives the
values, and the Arrow dictionary, that the same operation on one Python string per row gives."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from tracekit.readers.ascend.rows import EventRows
from tracekit.readers.ascend.scalars import Codes

TEXTS = st.lists(st.sampled_from(["", "a", "b", "MEMCPY_ASYNC", "Ascend Hardware", "é"]), max_size=25)


def _codes(texts: list) -> Codes:
    return Codes.of(texts)


@settings(max_examples=200, deadline=None)
@given(TEXTS, st.booleans())
def test_dictionary_array_is_the_dictionary_encode_of_the_texts(texts: list, with_null: bool) -> None:
    texts = [*texts, None] if with_null else texts
    expected = pa.array(texts, pa.string()).dictionary_encode()
    got = _codes(texts).dictionary_array()
    assert got.dictionary.to_pylist() == expected.dictionary.to_pylist()
    assert got.indices.to_pylist() == expected.indices.to_pylist()
    assert got.type == expected.type


@settings(max_examples=200, deadline=None)
@given(TEXTS, TEXTS, st.data())
def test_assigned_writes_the_other_values_in_their_rows(texts: list, other: list, data) -> None:
    rows = data.draw(st.permutations(range(len(texts))))[: len(other)]
    other = other[: len(rows)]
    expected = list(texts)
    for row, value in zip(rows, other, strict=True):
        expected[row] = value
    got = _codes(texts).assigned(np.array(rows, dtype=np.int64), _codes(other))
    assert got.array().tolist() == expected
    assert len(set(got.values)) == len(got.values)


@settings(max_examples=200, deadline=None)
@given(TEXTS, st.lists(st.sampled_from(["a", "b", "zz"]), max_size=3))
def test_relabeled_and_among_are_per_row(texts: list, wanted: list) -> None:
    codes = _codes(texts)
    relabeled = codes.relabeled(lambda text: text.upper() or None)
    assert relabeled.array().tolist() == [text.upper() or None for text in texts]
    assert len(set(relabeled.values)) == len(relabeled.values)
    assert codes.among(tuple(wanted)).tolist() == [text in wanted for text in texts]


@settings(max_examples=100, deadline=None)
@given(st.lists(TEXTS, min_size=1, max_size=4))
def test_rows_table_from_codes_is_the_table_from_texts(blocks: list[list]) -> None:
    def table(as_codes: bool) -> pa.Table:
        rows = EventRows()
        for texts in blocks:
            names = _codes(texts) if as_codes else np.array(texts, dtype=object)
            rows.add_block(names, start_ns=np.arange(len(texts)), dur_ns=1, kind=0, layer=names)
        return rows.table()

    every = pa.array([text for texts in blocks for text in texts], pa.string()).dictionary_encode()
    for as_codes in (True, False):
        got = table(as_codes)
        for column in ("name", "layer"):
            assert got.column(column).combine_chunks().equals(every)
