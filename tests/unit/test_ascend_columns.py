"""The column conversions of the Ascend readers give the values and warnings of the scalar ones."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import msgspec
import pyarrow as pa
import pytest
from ascend_builder import python_op, task, write_rank
from hypothesis import given, settings
from hypothesis import strategies as st

from tracekit.errors import TraceError
from tracekit.model.arrays import binary
from tracekit.model.schema import NONE
from tracekit.readers import checked, read_trace
from tracekit.readers.ascend.values import (
    event_us_to_ns,
    text_ints,
    to_int,
    to_ints,
    us_column_to_ns,
)

EDGES = [
    b"null", b'"1e3"', b"1E-3", b'" 12.5 "', b'"12."', b'".5"', b'"-0.0025"', b'"0.0005"',
    b'"0.0015"', b'"4611686018427387.000"', b'"4611686018427387.001"', b"4611686018427388",
    b'"1795219200000115.132"', b"8.559", b'"12.3456789012"', b"-0", b'"0012.5"',
]  # fmt: skip


def _scalar(raw: bytes) -> int:
    return event_us_to_ns(msgspec.json.decode(raw, type=Decimal | None), "ts")


def _decimal_cell(sign: bool, whole: int, fraction: str, quoted: bool) -> bytes:
    text = ("-" if sign else "") + str(whole) + (f".{fraction}" if fraction else "")
    return (f'"{text}"' if quoted else text).encode()


cells = st.one_of(
    st.builds(
        _decimal_cell,
        st.booleans(),
        st.integers(0, 10**17),
        st.text("0123456789", max_size=11),
        st.booleans(),
    ),
    st.sampled_from(EDGES),
)


def _assert_column_matches_scalars(raws: list[bytes]) -> None:
    """The column decode gives each cell's scalar conversion, with the same counted warnings."""
    with checked.collecting() as scalar:
        expected = [_scalar(raw) for raw in raws]
    with checked.collecting() as column:
        got = us_column_to_ns(binary(raws), "ts", _scalar)
    assert got.tolist() == expected
    assert column.warnings() == scalar.warnings()


@settings(max_examples=300, deadline=None)
@given(st.lists(cells, max_size=30))
def test_us_column_matches_the_scalar_conversion(raws: list[bytes]) -> None:
    _assert_column_matches_scalars(raws)


@settings(max_examples=200, deadline=None)
@given(
    st.booleans(),
    st.booleans(),
    st.integers(1, 17),
    st.integers(0, 10),
    st.lists(st.integers(0, 10**17), min_size=1, max_size=40),
    st.integers(0, 40),
)
def test_cells_of_one_layout_back_to_back_match_the_scalar_conversion(
    sign: bool, quoted: bool, whole_digits: int, decimals: int, numbers: list[int], other_at: int
) -> None:
    """A run of cells of one length and dot position (read as strided columns, without a gather),
    with one cell of another layout somewhere in it or not."""
    fractions = [str(n).zfill(decimals)[len(str(n).zfill(decimals)) - decimals :] for n in numbers]
    wholes = [str(n % 10**whole_digits).zfill(whole_digits) for n in numbers]  # quoted: leading zeros
    if not quoted:  # a JSON number: exactly `whole_digits` digits, no leading zero
        wholes = [str(10 ** (whole_digits - 1) + n % (9 * 10 ** (whole_digits - 1))) for n in numbers]
    texts = [w + (f".{f}" if f else "") for w, f in zip(wholes, fractions, strict=True)]
    raws = [(f'"{"-" * sign}{t}"' if quoted else f"{'-' * sign}{t}").encode() for t in texts]
    if other_at < len(raws):
        raws.insert(other_at, b"8.559")
    _assert_column_matches_scalars(raws)


def test_half_way_nanoseconds_round_to_even() -> None:
    raws = [b'"0.0005"', b'"0.0015"', b'"-0.0025"', b"1.00050001"]
    assert us_column_to_ns(binary(raws), "ts", _scalar).tolist() == [0, 2, -2, 1001]


def test_integer_columns_match_to_int() -> None:
    for plain in ([3, None, -1, -5, 2**32 - 1], [None, None]):  # ints and NULLs: the array path
        with checked.collecting() as scalar:
            expected = [to_int(v, "f", 0) for v in plain]
        with checked.collecting() as column:
            assert to_ints(plain, "f", 0).tolist() == expected
        assert column.warnings() == scalar.warnings()
    texts_only = ["7", " 8 ", "x", "7", "N/A", "x", "2.5"]  # one type: each distinct text converted once
    with checked.collecting() as scalar:
        expected = [to_int(v, "f", 0) for v in texts_only]
    with checked.collecting() as column:
        assert to_ints(texts_only, "f", 0).tolist() == expected
    assert column.warnings() == scalar.warnings()
    values = [1, None, 2**32 - 1, 2**64 - 1, -5, "7", " 8 ", "N/A", "x", 2.0, 2.5]
    with checked.collecting() as scalar:
        expected = [to_int(v, "f", 0) for v in values]
    with checked.collecting() as column:
        assert to_ints(values, "f", 0).tolist() == expected
    assert column.warnings() == scalar.warnings()
    texts = ["1", "", "4294967295", "18446744073709551615", "-5", "x", "12"]
    with checked.collecting() as scalar:
        expected = [to_int(v, "f", 0) for v in texts]
    with checked.collecting() as column:
        assert text_ints(pa.array(texts), "f", 0).tolist() == expected
    assert column.warnings() == scalar.warnings() and expected[2] == NONE


def test_a_time_that_is_not_a_number_is_an_input_error_naming_the_event(tmp_path: Path) -> None:
    root = write_rank(tmp_path, 0, [python_op("ProfilerStep#1", "0.000", 10.0), task("MatMul", "abc", 1.0)])
    with pytest.raises(TraceError, match=r"decimal.*\$\[\d+\]\.ts"):
        read_trace(root)
