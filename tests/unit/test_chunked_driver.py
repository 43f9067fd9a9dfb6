"""The format-independent streaming driver (tracekit/readers/chunked/driver.py) with a toy decode and
collector: the collected elements are the whole array, in order, whatever the cuts and the workers."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from pathlib import Path

import msgspec
import pytest

from tracekit import parallel, resident
from tracekit.readers.chunked import driver, split, window


@dataclass
class _Piece:
    events: list
    decoded: int


def _decode(text: bytes | memoryview) -> _Piece | driver.Failure:
    try:
        events = msgspec.json.decode(text)
    except msgspec.DecodeError as exc:
        return driver.Failure(f"not valid JSON ({exc})")
    return _Piece(events, len(events))


@dataclass
class _Collector:
    events: list = field(default_factory=list)

    def add(self, piece: _Piece) -> None:
        self.events.extend(piece.events)


def _events(count: int) -> list[dict]:
    # every third name ends in `}, {`: `}, {"` in the text, where a quick cut does not decode
    return [{"ph": "X", "name": f"k{n}" + ("}, {" if n % 3 == 0 else ""), "ts": n} for n in range(count)]


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(driver, "CHUNK_BYTES", 64 << 10)
    monkeypatch.setattr(split, "QUICK_WINDOW", 4 << 10)


def _read(path: Path) -> tuple[driver.Around, _Collector]:
    made: list[_Collector] = []
    result = driver.read_chunked(path, _decode, lambda: made.append(_Collector()) or made[-1])
    assert not isinstance(result, bytes)
    around, collector = result
    assert collector is made[-1] and len(made) == 2  # a quick cut failed: read again with exact cuts
    return around, collector


@pytest.mark.parametrize("workers", [False, True])
@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("form", ["array", "object"])
def test_the_collected_elements_are_the_whole_array_in_order(
    tmp_path: Path, small_chunks: None, monkeypatch: pytest.MonkeyPatch, form: str, gz: bool, workers: bool
) -> None:
    if workers:
        monkeypatch.setattr(driver, "PARALLEL_MIN_BYTES", 0)
        monkeypatch.setenv(driver.JOBS_ENV, "2")
        if driver.read_jobs(1 << 30) < 2:
            pytest.skip("one core: no workers")
    events = _events(100_000)  # about 4 MB
    document = events if form == "array" else {"schemaVersion": 1, "traceEvents": events, "after": [1]}
    text = json.dumps(document).encode()
    path = tmp_path / ("t.json.gz" if gz else "t.json")
    path.write_bytes(gzip.compress(text, 1) if gz else text)
    around, collector = _read(path)
    assert collector.events == events
    assert (around.form, around.unterminated) == (form, False)
    if form == "object":
        assert around.head == b'{"schemaVersion": 1, "traceEvents": ['
        assert around.tail == b', "after": [1]}'
    else:
        assert (around.head, around.tail) == (b"[", b"")


def test_the_meanwhile_task_runs_once_while_the_workers_decode(
    tmp_path: Path, small_chunks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With workers, the block's task runs once, before the chunks are all collected; read here
    (nothing waits), never."""
    events = [{"ph": "X", "name": f"k{n}", "ts": n} for n in range(100_000)]  # quick cuts all decode
    path = tmp_path / "t.json"
    path.write_text(json.dumps(events))
    collected: list[_Collector] = []
    seen: list[int] = []

    def read() -> None:
        with parallel.meanwhile(lambda: seen.append(len(collected[-1].events))):
            driver.read_chunked(path, _decode, lambda: collected.append(_Collector()) or collected[-1])
        assert collected[-1].events == events

    read()
    assert seen == []
    monkeypatch.setattr(driver, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setenv(driver.JOBS_ENV, "2")
    if driver.read_jobs(1 << 30) < 2:
        pytest.skip("one core: no workers")
    read()
    assert len(seen) == 1 and seen[0] < len(events)


def test_an_unterminated_array_is_read_up_to_its_last_element(tmp_path: Path, small_chunks: None) -> None:
    events = _events(100_000)
    text = json.dumps(events)
    path = tmp_path / "crashed.json"
    path.write_text(text[: text.rindex('{"ph"') + 20])  # the last event is cut
    around, collector = _read(path)
    assert collector.events == events[:-1]
    assert around.unterminated and around.tail == b""


def test_a_small_file_is_bytes_and_a_bad_chunk_is_located(tmp_path: Path, small_chunks: None) -> None:
    small = tmp_path / "small.json"
    small.write_text(json.dumps(_events(10)))
    assert driver.read_chunked(small, _decode, _Collector) == small.read_bytes()
    text = json.dumps(_events(100_000))
    bad_at = text.index('"ts": 90000') + len('"ts": ')
    path = tmp_path / "bad.json"
    path.write_text(text[:bad_at] + "?" + text[bad_at + 1 :])
    with pytest.raises(driver.Unstreamable, match=rf"\(byte {bad_at}\)"):
        driver.read_chunked(path, _decode, _Collector)


def test_workers_reading_a_plain_file_leave_the_chunks_unread_here(
    tmp_path: Path, small_chunks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With workers on a plain file, only the bytes around each cut point are read here; the
    chunks, the elements and their order are those of reading everything."""
    monkeypatch.setattr(driver, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setenv(driver.JOBS_ENV, "2")
    if driver.read_jobs(1 << 30) < 2:
        pytest.skip("one core: no workers")
    monkeypatch.setattr(window, "READ_AHEAD", 256)
    events = [{"ph": "X", "name": f"k{n}", "ts": n} for n in range(100_000)]  # no `}, {` in names
    path = tmp_path / "t.json"
    path.write_bytes(json.dumps(events).encode())
    skipped: list[int] = []
    original = window.Window.skip
    monkeypatch.setattr(
        window.Window, "skip", lambda self, size, keep: skipped.append(size) or original(self, size, keep)
    )
    read: list[int] = []
    original_read = window.Content.read_into
    monkeypatch.setattr(
        window.Content, "read_into", lambda self, view: read.append(n := original_read(self, view)) or n
    )
    result = driver.read_chunked(path, _decode, _Collector)
    assert not isinstance(result, bytes)
    assert result[1].events == events
    assert skipped and sum(read) < path.stat().st_size / 2


def _plain_events(count: int) -> list[dict]:
    return [{"ph": "X", "name": f"k{n}", "ts": n} for n in range(count)]  # no `}, {` in names


def test_the_exact_scan_for_the_arrays_end_reads_only_the_last_windows(
    tmp_path: Path, small_chunks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = _plain_events(100_000)
    path = tmp_path / "t.json"
    path.write_bytes(json.dumps({"traceEvents": events, "traceName": "t"}).encode())
    scanned: list[int] = []
    original = driver.element_ends
    monkeypatch.setattr(driver, "element_ends", lambda data: scanned.append(len(data)) or original(data))
    made: list[_Collector] = []
    around, collector = driver.read_chunked(path, _decode, lambda: made.append(_Collector()) or made[-1])
    assert collector.events == events and len(made) == 1 and around.tail == b', "traceName": "t"}'
    assert scanned and max(scanned) <= driver.TAIL_WINDOWS * split.QUICK_WINDOW


def test_a_long_text_after_the_array_is_read_by_the_exact_pass(tmp_path: Path, small_chunks: None) -> None:
    """The quick cut before the tail lands after the array's end: that chunk fails, the file is read
    again with exact cuts, and every element and the text after the array are as written."""
    events = _plain_events(100_000)
    after = [{"name": f"m{n}", "args": {}} for n in range(20_000)]  # about 500 KB after the array
    path = tmp_path / "t.json"
    path.write_bytes(json.dumps({"traceEvents": events, "after": after}).encode())
    around, collector = _read(path)
    assert collector.events == events
    assert json.loads(b"{" + around.tail.lstrip(b", ")) == {"after": after}


def test_a_memory_budget_bounds_the_decoding_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Half the budget (the table may take the rest) holds 64 MiB per worker (resident.PROCESS_BYTES)."""
    monkeypatch.setattr(driver, "available_cores", lambda: 64)
    monkeypatch.delenv(driver.JOBS_ENV, raising=False)
    assert resident.PROCESS_BYTES == 64 << 20 and resident.WORKERS_SHARE == 0.5
    assert driver.read_jobs(1 << 30) == 64  # no budget: every core
    assert driver.CHUNK_BYTES == 16 << 20 and driver.read_jobs(90 << 20) == 6  # no more than its chunks
    assert [driver.read_jobs(1 << 30, budget << 30) for budget in (2, 1, 8)] == [16, 8, 64]
    assert driver.read_jobs(1 << 30, 100 << 20) == 1  # decoded in this process
    assert driver.read_jobs(1 << 20, 8 << 30) == 1  # a small file: no workers either way
