"""Kineto times past float precision (µs above 2^52 ns), read from their text: a whole column at once
when every cell has a common layout (tracekit/readers/decimal_cells.py), else through Decimal; a
streamed chunk whose first time is past it is decoded text first."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kineto_builder import kernel

from tracekit.readers import read_trace
from tracekit.readers.chunked.driver import Failure
from tracekit.readers.kineto import columns, stream


@st.composite
def large_times(draw: st.DrawFn) -> str:
    """µs past 2^52 ns, written with 0 to 5 decimals (more than 3: rounded half to even)."""
    whole = draw(st.integers(min_value=4_600_000_000_000, max_value=10**15 - 1))
    decimals = draw(st.integers(min_value=0, max_value=5))
    if decimals == 0:
        return str(whole)
    return f"{whole}.{draw(st.integers(min_value=0, max_value=10**decimals - 1)):0{decimals}d}"


@settings(max_examples=60, deadline=None)
@given(st.lists(large_times(), min_size=1, max_size=8))
def test_large_times_are_exact_nanoseconds(
    tmp_path_factory: pytest.TempPathFactory, texts: list[str]
) -> None:
    path = tmp_path_factory.mktemp("t") / "t.json"
    text = json.dumps({"traceEvents": [kernel(f"k{i}", 1000 + i, 1.5) for i in range(len(texts))]})
    for i, ts in enumerate(texts):
        text = text.replace(f'"ts": {1000 + i},', f'"ts": {ts},', 1)
    starts = read_trace(_written(path, text)).events.column("start_ns").to_pylist()
    expected = [int((Decimal(t) * 1000).to_integral_value()) for t in texts]
    assert sorted(starts) == sorted(expected)


def test_a_chunk_with_an_exponent_goes_the_decimal_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Plain texts are converted as a column; an exponent form sends the events through Decimal."""
    through_decimal = []
    real = columns._exact_times
    monkeypatch.setattr(columns, "_exact_times", lambda events: through_decimal.append(1) or real(events))
    events = [kernel("a", 0, 1.5), kernel("b", 1, 2.25)]
    text = json.dumps({"traceEvents": events}).replace('"ts": 0', '"ts": 5299189887853.440')
    plain = read_trace(_written(tmp_path / "plain.json", text))
    assert sorted(plain.events.column("start_ns").to_pylist()) == [1000, 5299189887853440]
    assert through_decimal == []
    mixed = read_trace(_written(tmp_path / "mixed.json", text.replace('"ts": 1', '"ts": 5.2991898878535e12')))
    assert sorted(mixed.events.column("start_ns").to_pylist()) == [5299189887853440, 5299189887853500]
    assert sorted(mixed.events.column("dur_ns").to_pylist()) == [1500, 2250]
    assert through_decimal


def _written(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _chunk(ts: str, dur: str = "1.5") -> bytes:
    events = [kernel("a", 1000, 1.5), kernel("b", 1001, 2.25)]
    return (
        json.dumps(events)
        .replace('"ts": 1000,', f'"ts": {ts},')
        .replace('"dur": 1.5', f'"dur": {dur}')
        .encode()
    )


@pytest.mark.parametrize("first", ["5299189887853.440", "4000000000000.5", "12"])
def test_a_chunk_decoded_text_first_gives_the_float_first_piece(
    first: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whether a chunk's first time is past float precision only picks the faster way to the same ns."""
    text = _chunk(first)
    guess = stream.past_float_precision(text)
    assert guess == (first == "5299189887853.440")
    guessed = stream.decode_chunk(text)
    monkeypatch.setattr(stream, "past_float_precision", lambda _: not guess)
    other = stream.decode_chunk(text)
    assert {k: v.tolist() for k, v in guessed.columns.items()} == {
        k: v.tolist() for k, v in other.columns.items()
    }


def test_a_bad_time_is_reported_as_the_float_first_way_reports_it() -> None:
    failure = stream.decode_chunk(_chunk("5299189887853.440", dur="[1]"))
    assert isinstance(failure, Failure)
    assert "Expected `int | float`, got `array`" in failure.message
