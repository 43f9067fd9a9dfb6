"""The chunked timeline read (readers/ascend/timeline_pieces.py, scalars.py): columns picked and
converted give the values and warnings of the list conversions, and a timeline cut into chunks
(here or in worker processes) reads as the same table as when decoded whole."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import msgspec
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracekit.errors import TraceError
from tracekit.model.arrays import binary
from tracekit.readers import checked, read_trace
from tracekit.readers.ascend import join
from tracekit.readers.ascend.scalars import Codes, Scalars, Times
from tracekit.readers.ascend.values import (
    event_us_to_ns,
    per_distinct,
    to_int,
    to_ints,
    us_column_to_ns,
)
from tracekit.readers.chunked import driver, split, window

SCALARS = st.one_of(
    st.none(),
    st.integers(-(2**65), 2**65),
    st.sampled_from([2**32 - 1, 2**64 - 1, 0, -1, 7]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["", "N/A", "7", " 12 ", "abc", "4294967295", "1e3", "-3"]),
)


def _both(convert):
    with checked.collecting() as problems:
        result = convert()
    return result, problems.warnings()


@settings(max_examples=200, deadline=None)
@given(st.lists(SCALARS, max_size=30), st.data())
def test_scalars_picked_convert_as_the_picked_list(values: list, data) -> None:
    rows = np.array(sorted(data.draw(st.sets(st.integers(0, max(len(values) - 1, 0)))) if values else []))
    rows = rows.astype(np.int64)
    picked = [values[i] for i in rows.tolist()]
    expected = _both(lambda: to_ints(picked, "f", 0, 10**12).tolist())
    assert _both(lambda: Scalars.of(values).take(rows).to_ints("f", 0, 10**12).tolist()) == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(SCALARS, max_size=30), st.lists(SCALARS, max_size=30))
def test_scalars_or_else_is_the_first_given_value(first: list, second: list) -> None:
    n = min(len(first), len(second))
    first, second = first[:n], second[:n]
    combined = [a if a is not None else b for a, b in zip(first, second, strict=True)]
    expected = _both(lambda: to_ints(combined, "f").tolist())
    assert _both(lambda: Scalars.of(first).or_else(Scalars.of(second)).to_ints("f").tolist()) == expected


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(SCALARS, max_size=10), min_size=1, max_size=4))
def test_scalars_joined_and_codes_keep_every_value(parts: list[list]) -> None:
    joined = Scalars.joined([Scalars.of(part) for part in parts])
    flat = [value for part in parts for value in part]
    assert _both(lambda: joined.to_ints("f").tolist()) == _both(lambda: to_ints(flat, "f").tolist())
    codes = joined.codes()
    decoded = [codes.values[c] for c in codes.codes.tolist()]
    assert all(d == v or v != v for d, v in zip(decoded, flat, strict=True))  # equal as dict keys are


def _step(name: str) -> int:
    return to_int(name.removeprefix("s"), "step", 0, 100)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(["s1", "s999", "sx", "s-1", "s5", "a"]), max_size=25), st.data())
def test_codes_per_distinct_counts_warnings_per_row(names: list[str], data) -> None:
    rows = np.array(sorted(data.draw(st.sets(st.integers(0, max(len(names) - 1, 0))))) if names else [])
    rows = rows.astype(np.int64)
    picked = [names[i] for i in rows.tolist()]
    expected = _both(lambda: per_distinct(picked, _step))
    assert _both(lambda: Codes.of(names).take(rows).per_distinct(_step).tolist()) == expected


def _scalar(raw: bytes) -> int:
    return event_us_to_ns(msgspec.json.decode(raw, type=Decimal | None), "ts")


TIME_CELLS = st.sampled_from(
    [b'"12.5"', b"8.559", b'"1e3"', b"null", b'"4611686018427388.5"', b"-0", b'"1795219200000115.132"', b"7"]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(TIME_CELLS, max_size=8), min_size=1, max_size=3), st.data())
def test_times_joined_and_picked_decode_as_the_cells(parts: list[list[bytes]], data) -> None:
    cells = [cell for part in parts for cell in part]
    rows = np.array(sorted(data.draw(st.sets(st.integers(0, max(len(cells) - 1, 0))))) if cells else [])
    rows = rows.astype(np.int64)
    picked = [cells[i] for i in rows.tolist()]
    expected = _both(lambda: us_column_to_ns(binary(picked), "ts", _scalar).tolist())
    times = Times.joined([Times.of(part) for part in parts]).take(rows)
    assert (
        _both(
            lambda: times.to_ns(
                "ts", _scalar, "missing, not a finite number or out of range; event dropped"
            ).tolist()
        )
        == expected
    )


# --- whole files ----------------------------------------------------------------------------------


def _timeline(n_steps: int) -> list[dict]:
    """An msprof-style timeline: process metadata, CANN launches, device tasks (kernels and
    copies), HCCL ops and steps, with flow arrows between."""
    events: list[dict] = [
        {"ph": "M", "name": "process_name", "pid": 1, "tid": 0, "args": {"name": "CANN"}},
        {"ph": "M", "name": "process_name", "pid": 2, "tid": 0, "args": {"name": "Ascend Hardware"}},
        {"ph": "M", "name": "process_labels", "pid": 2, "tid": 0, "args": {"labels": "NPU 3"}},
        {"ph": "M", "name": "process_name", "pid": 3, "tid": 0, "args": {"name": "HCCL"}},
        {"ph": "M", "name": "process_name", "pid": 4, "tid": 0, "args": {"name": "Python"}},
    ]
    ts = 1_700_000_000_000_000
    for step in range(n_steps):
        events.append(
            {"ph": "X", "name": f"ProfilerStep#{step}", "pid": 4, "tid": 9, "ts": f"{ts}.000", "dur": 90}
        )
        for op in range(6):
            start = ts + op * 10
            link = step * 100 + op
            events.append({"ph": "X", "name": "aclnnAdd", "pid": 1, "tid": 5, "ts": f"{start}.125",
                           "dur": 1.5, "args": {"connection_id": link}})  # fmt: skip
            name, args = (
                ("MEMCPY_ASYNC", {"size(B)": 4096, "memcpy direction": "host to device"})
                if op == 3
                else (f"Add_{op}", {"Task Type": "AI_CORE"})
            )
            events.append(
                {"ph": "s", "name": "HostToDevice", "id": link, "pid": 1, "tid": 5, "ts": f"{start}.2"}
            )
            events.append({"ph": "X", "name": name, "pid": 2, "tid": 7, "ts": f"{start + 2}.5", "dur": "3.25",
                           "args": {"Physic Stream Id": 7, "connection_id": link, **args}})  # fmt: skip
        events.append({"ph": "X", "name": "hcom_allReduce_", "pid": 3, "tid": 1, "ts": f"{ts + 70}", "dur": 5,
                       "args": {"count": 1024, "data_type": "FP16"}})  # fmt: skip
        ts += 100
    return events


def _fingerprint(path: Path) -> tuple:
    trace = read_trace(path)
    return trace.events.to_pylist(), json.dumps(trace.metadata, sort_keys=True, default=str)


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch):
    def use(jobs: int) -> None:
        monkeypatch.setattr(driver, "CHUNK_BYTES", 4096)
        monkeypatch.setattr(split, "QUICK_WINDOW", 512)
        monkeypatch.setattr(window, "READ_AHEAD", 256)  # chunks left unread here, workers read them
        monkeypatch.setattr(driver, "PARALLEL_MIN_BYTES", 0 if jobs > 1 else 1 << 60)
        monkeypatch.setenv(driver.JOBS_ENV, str(jobs))

    return use


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_timeline_cut_into_chunks_reads_as_when_whole(tmp_path: Path, small_chunks, jobs: int) -> None:
    path = tmp_path / "msprof_0.json"
    path.write_text(json.dumps(_timeline(60)))
    whole = _fingerprint(path)
    small_chunks(jobs)
    seen: list[int] = []
    original = driver._Reader.run
    driver_run = lambda self: seen.append(1) or original(self)  # noqa: E731
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(driver._Reader, "run", driver_run)
        chunked = _fingerprint(path)
    assert seen, "expected the chunked read"
    assert chunked == whole
    rows = whole[0]
    assert sum(row["name"] == "MEMCPY_ASYNC" for row in rows) == 60
    assert {row["device"] for row in rows if row["layer"] == "Ascend Hardware"} == {3}


def test_an_unterminated_chunked_timeline_warns_as_the_whole_read(tmp_path: Path, small_chunks) -> None:
    path = tmp_path / "msprof_0.json"
    text = json.dumps(_timeline(40))
    path.write_text(text[: len(text) - 40])
    whole = _fingerprint(path)
    small_chunks(1)
    assert _fingerprint(path) == whole
    assert "not terminated" in whole[1]


def test_a_bad_event_in_a_late_chunk_is_the_whole_read_error(tmp_path: Path, small_chunks) -> None:
    events = _timeline(40)
    events[-3]["pid"] = [1]  # not a scalar
    path = tmp_path / "msprof_0.json"
    path.write_text(json.dumps(events))
    with pytest.raises(TraceError) as whole:
        read_trace(path)
    small_chunks(2)
    with pytest.raises(TraceError) as chunked:
        read_trace(path)
    assert str(chunked.value) == str(whole.value)
    assert f"[{len(events) - 3}]" in str(whole.value)


def test_pair_keys_order_as_the_pairs() -> None:
    rng = np.random.default_rng(0)
    codes, starts = rng.integers(0, 5, 300), rng.integers(-(2**62), 2**62, 300)
    starts[::7] = starts[0]
    want_code, want_start = rng.integers(0, 6, 50), np.concatenate([starts[:40], rng.integers(0, 9, 10)])
    keys, wanted = join._pair_keys(codes, starts, want_code, want_start)
    pairs = list(zip(codes.tolist(), starts.tolist(), strict=True))
    assert np.argsort(keys, kind="stable").tolist() == sorted(range(300), key=lambda i: pairs[i])
    asked = list(zip(want_code.tolist(), want_start.tolist(), strict=True))
    assert [keys.tolist().count(w) for w in wanted.tolist()] == [pairs.count(a) for a in asked]
