"""tracekit/readers/timeunits.py: plain decimal µs texts to exact integer ns, against Decimal."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kineto_builder import kernel

from tracekit.readers import read_trace
from tracekit.readers.timeunits import MAX_WHOLE_DIGITS, plain_decimal_ns


@st.composite
def plain_decimals(draw: st.DrawFn) -> str:
    """Whole µs below 10^15, then nothing or a point and one to three digits."""
    whole = draw(st.integers(min_value=0, max_value=10**MAX_WHOLE_DIGITS - 1))
    decimals = draw(st.integers(min_value=0, max_value=3))
    if decimals == 0:
        return str(whole)
    return f"{whole}.{draw(st.integers(min_value=0, max_value=10**decimals - 1)):0{decimals}d}"


@settings(max_examples=300, deadline=None)
@given(st.lists(plain_decimals(), max_size=40))
def test_plain_decimals_give_the_exact_nanoseconds(texts: list[str]) -> None:
    converted = plain_decimal_ns([t.encode() for t in texts])
    assert converted is not None
    assert converted.tolist() == [int(Decimal(t) * 1000) for t in texts]


@pytest.mark.parametrize(
    "other",
    ["-1.5", "1e3", "5.2991898878535e12", "1.2345", '"12.5"', "null", "", "1234567890123456.1", "1.", ".5"],
)
def test_any_other_text_is_left_to_the_decimal_way(other: str) -> None:
    assert plain_decimal_ns([b"5299189887853.440", other.encode()]) is None


def test_large_times_in_plain_and_other_forms_are_exact(tmp_path: Path) -> None:
    """Past 2^52 ns a float cannot hold three decimals: plain texts are converted at once, and a chunk
    with an exponent form goes the Decimal way; both exact."""
    events = [kernel("a", 0, 1.5), kernel("b", 1, 2.25)]
    text = json.dumps({"traceEvents": events}).replace('"ts": 0', '"ts": 5299189887853.440')
    plain = read_trace(_written(tmp_path / "plain.json", text))
    assert sorted(plain.events.column("start_ns").to_pylist()) == [1000, 5299189887853440]
    mixed = read_trace(_written(tmp_path / "mixed.json", text.replace('"ts": 1', '"ts": 5.2991898878535e12')))
    assert sorted(mixed.events.column("start_ns").to_pylist()) == [5299189887853440, 5299189887853500]
    assert sorted(mixed.events.column("dur_ns").to_pylist()) == [1500, 2250]


def _written(path: Path, text: str) -> Path:
    path.write_text(text)
    return path
