"""The streaming Kineto read (tracekit/readers/kineto/stream.py) on traces built here, cut into chunks of
a few hundred bytes: it must give the table, warnings and errors of the whole-file read."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from kineto_builder import cpu_op, kernel, memcpy, memory, runtime, step, write_trace

import tracekit.readers.kineto as kineto
from tracekit.errors import TraceError
from tracekit.readers import checked, read_trace
from tracekit.readers.chunked import driver, split, window
from tracekit.readers.kineto import stream
from tracekit.readers.memory_budget import MEMORY_BUDGET_ENV
from tracekit.readers.source import read_buffer

TRICKY_NAMES = [
    'void k<{lambda()#1}, {"x"}>',  # `}, {"` inside a name: a quick cut there does not decode
    'quote \\" and brackets ]}[{ in a name',
    "backslash at the end \\",
    "unicode µs ✓",
]


def _events(steps: int = 12) -> list[dict]:
    events = []
    for n in range(steps):
        t = n * 1000
        events.append(step(n + 1, t, 900))
        op = cpu_op("aten::mm", t + 1, 50, external_id=n + 1)
        op["args"].update({"Input Dims": [[n, 4], [4, 8]], "Input type": ["float", "float"]})
        events.append(op)
        events.append(runtime("cudaLaunchKernel", t + 2, 5, correlation=10 * n + 1, external_id=n + 1))
        events.append(kernel(TRICKY_NAMES[n % len(TRICKY_NAMES)], t + 10, 20.125, correlation=10 * n + 1))
        events.append(memcpy("Memcpy HtoD (Pageable -> Device)", t + 40, 3, 4096))
        events.append(memory(t + 3, 1024, None if n % 2 else 4096 + n))
        events.append({"ph": "B", "name": "phase", "pid": 1, "tid": 1, "ts": t + 5})
        events.append({"ph": "E", "name": "phase", "pid": 1, "tid": 1, "ts": t + 500})
    return events


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of about 400 bytes, so a built trace of a few KB is streamed in many of them."""
    monkeypatch.setattr(driver, "CHUNK_BYTES", 400)
    monkeypatch.setattr(split, "QUICK_WINDOW", 128)


def _whole(path: Path) -> tuple:
    with checked.collecting() as problems:
        result = kineto._read_whole(path, read_buffer(path))
    return result.table, result.metadata, result.warnings + problems.warnings()


def _streamed(path: Path) -> tuple:
    with checked.collecting() as problems:
        result = stream.read_streamed(path)
    assert isinstance(result, stream.Streamed), "expected a streamed read"
    return result.table, result.metadata, result.warnings + problems.warnings()


def _same(a, b) -> None:
    assert a[0].to_pydict() == b[0].to_pydict()
    assert a[0].schema.equals(b[0].schema)
    assert a[1] == b[1]
    assert a[2] == b[2]


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("array_form", [False, True])
def test_streamed_table_equals_the_whole_read(
    tmp_path: Path, small_chunks: None, gz: bool, array_form: bool
) -> None:
    path = write_trace(tmp_path / "t.json", _events(), gz=gz, array_form=array_form)
    whole, streamed = _whole(path), _streamed(path)
    _same(streamed, whole)
    assert whole[0].num_rows == 12 * 7  # step, op, launch, kernel, copy, the B/E pair, a memory sample
    assert sorted(set(streamed[0].column("name").to_pylist())) == sorted(
        {"[memory]", "aten::mm", "cudaLaunchKernel", "Memcpy HtoD (Pageable -> Device)", "phase"}
        | {f"ProfilerStep#{n}" for n in range(1, 13)}
        | set(TRICKY_NAMES)
    )


def test_header_after_and_before_the_events_is_read(tmp_path: Path, small_chunks: None) -> None:
    devices = [{"id": 0, "name": "H100", "computeMajor": 9, "computeMinor": 0, "numSms": 132}]
    text = json.dumps({"schemaVersion": 7, "traceEvents": _events(), "deviceProperties": devices})
    path = tmp_path / "t.json"
    path.write_text(text)
    table, metadata, warnings = _streamed(path)
    assert metadata["gpus"] == [{"id": 0, "name": "H100", "compute_capability": "9.0", "sm_count": 132}]
    assert metadata["warnings"] == ["unknown Kineto schemaVersion 7 (tested: 1); read as version 1"]
    _same((table, metadata, warnings), _whole(path))


def test_parallel_workers_give_the_same_table(
    tmp_path: Path, small_chunks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(driver, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setenv(driver.JOBS_ENV, "2")
    if driver.read_jobs(1 << 30) < 2:
        pytest.skip("one core: no workers")
    for gz in (False, True):
        path = write_trace(tmp_path / f"t{gz}.json", _events(), gz=gz)
        _same(_streamed(path), _whole(path))


def test_a_quick_cut_inside_a_name_is_read_again_with_exact_cuts(
    tmp_path: Path, small_chunks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    passes = []
    original = driver._Reader.run
    monkeypatch.setattr(driver._Reader, "run", lambda self: passes.append(self.exact) or original(self))
    # `}, {"` in the text where a name ends with `}, {` (escaped quotes inside a name never match);
    # events of 124 bytes, chunks of 450: each cut point falls after the name's `}, {"`
    monkeypatch.setattr(driver, "CHUNK_BYTES", 450)
    events = [step(1, 0, 100), *[kernel(f"k{i}}}, {{", 10 + i, 1) for i in range(60)]]
    path = write_trace(tmp_path / "t.json", events)
    _same(_streamed(path), _whole(path))
    assert passes == [False, True]


def test_byte_order_mark_and_a_small_file(tmp_path: Path, small_chunks: None) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"traceEvents": _events()}).encode())
    _same(_streamed(path), _whole(path))
    monkeypatch_free = tmp_path / "small.json"
    write_trace(monkeypatch_free, [kernel("k", 1, 2)])
    assert stream.read_streamed(monkeypatch_free) == monkeypatch_free.read_bytes()  # one chunk: read whole


def test_unterminated_array_is_read_up_to_the_last_complete_event(tmp_path: Path, small_chunks: None) -> None:
    text = json.dumps(_events(), separators=(", ", ": "))
    path = tmp_path / "crashed.json"
    path.write_text(text[: text.rindex('{"ph": "E"') + 30])  # the last event is cut
    table, _, warnings = _streamed(path)
    assert f"crashed.json: {stream.UNTERMINATED}" in warnings
    _same((table, {}, warnings), _whole(path))


@pytest.mark.parametrize(
    ("mutation", "message"),
    [
        (lambda t: t.replace('"ts": 11010', '"ts": "late"'), r"unexpected trace JSON content \(Expected"),
        (lambda t: t.replace('"ts": 11010,', '"ts": 11010,,'), "not valid trace JSON"),
        (lambda t: t[: t.rindex("]")] + ", ]}", "not valid trace JSON"),
        (lambda t: t[:-2], "not valid trace JSON"),
    ],
)
def test_bad_input_gives_the_whole_read_message(
    tmp_path: Path, small_chunks: None, mutation, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(mutation(json.dumps({"traceEvents": _events()})))
    with pytest.raises(TraceError, match=message) as streamed:
        read_trace(path)
    with pytest.raises(TraceError) as whole, checked.collecting():
        kineto._read_whole(path, read_buffer(path))
    assert str(streamed.value) == str(whole.value)


def test_large_bad_input_names_the_event_in_the_whole_file(
    tmp_path: Path, small_chunks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kineto, "WHOLE_READ_LIMIT", 0)  # as if the file were too large to read whole
    events = _events()
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"traceEvents": events}).replace('"ts": 11010', '"ts": "late"'))
    index = next(i for i, e in enumerate(events) if e.get("ts") == 11010)
    with pytest.raises(TraceError, match=rf"unexpected trace JSON content .*\$\.traceEvents\[{index}\]\.ts"):
        read_trace(path)


def test_memory_budget_spills_the_table_to_a_mapped_file_and_leaves_nothing(
    tmp_path: Path, small_chunks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    spill_root = tmp_path / "tmp"
    spill_root.mkdir()
    monkeypatch.setenv("TMPDIR", str(spill_root))
    monkeypatch.setattr("tempfile.tempdir", None)
    inputs = tmp_path / "in"
    inputs.mkdir()
    path = write_trace(inputs / "t.json", _events())
    expected = _whole(path)
    monkeypatch.setenv(MEMORY_BUDGET_ENV, "1KB")
    spilled = _streamed(path)
    _same(spilled, expected)
    assert os.listdir(inputs) == ["t.json"]  # nothing beside the input
    folders = list(spill_root.iterdir())
    assert len(folders) == 1 and folders[0].name.startswith("tracekit-spill-")
    assert list(folders[0].iterdir()) == []  # every file unlinked once mapped


def test_bad_memory_budget_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MEMORY_BUDGET_ENV, "plenty")
    with pytest.raises(TraceError, match="TRACEKIT_MEMORY_BUDGET='plenty' is not a size"):
        read_trace(write_trace(tmp_path / "t.json", _events(1)))


def test_memory_budget_option_of_analyze(tmp_path: Path) -> None:
    path = write_trace(tmp_path / "t.json", _events(2))
    command = [sys.executable, "-m", "tracekit", "analyze", str(path), "--no-json", "--no-html"]
    bad = subprocess.run([*command, "--memory-budget", "lots"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2
    expected = f"tracekit: error: {path}: TRACEKIT_MEMORY_BUDGET='lots' is not a size such as 2GB"
    assert bad.stderr.strip() == expected
    good = subprocess.run([*command, "--memory-budget", "2GB"], capture_output=True, text=True, timeout=120)
    assert good.returncode == 0, good.stderr


# --- the exact scan -----------------------------------------------------------------------------


def test_structure_ignores_brackets_in_strings_and_escaped_quotes() -> None:
    text = rb'{"a": "x]}\"{[", "b": "\\\\", "c": [1, {"d": "\\\\\"}"}]}'
    scanned = split.structure(text)
    brackets = bytes(text[i] for i in scanned.positions)
    assert brackets == b"{[{}]}"
    assert scanned.depths.tolist() == [1, 2, 3, 2, 1, 0]
    assert not scanned.in_string
    assert split.structure(b'{"a": "open').in_string


def test_find_events_skips_keys_in_strings_and_nested_objects() -> None:
    head = b' {"note": "\\"traceEvents\\": [", "meta": {"traceEvents": [1]}, "traceEvents" : [{"ph": "X"}'
    form, offset = split.find_events(head)
    assert form == "object" and head[offset - 1 : offset + 1] == b"[{"
    assert head.index(b'"traceEvents" :') < offset
    assert split.find_events(b"  [{}]") == ("array", 3)
    assert split.find_events(b'{"traceEvents": null}') is None
    assert split.find_events(b"42") is None


def test_element_ends_and_exact_cut(small_chunks: None) -> None:
    text = b'{"n": "}, {\\""}, [1, {"x": "]"}], {"y": {}} ] , "after": 1'
    found = split.element_ends(text)
    assert [text[e - 1 : e] for e in found.element_ends] == [b"}", b"]", b"}"]
    assert text[found.close : found.close + 1] == b"]" and text[found.close + 1 :].startswith(b" ,")
    events = b'{"a": 1}, {"b": "}, {"}, {"c": 3}' + b" " * 200
    end, start = split.exact_cut(events, 20)
    assert events[:end] == b'{"a": 1}' and events[start:].startswith(b'{"b"')
    assert split.next_element(b'{"a": 1} {"b": 2}', 8) == -1  # no comma between two events


def test_quick_cut_finds_the_last_boundary_before_the_limit() -> None:
    events = b'{"a": 1}, {"b": 2},\n  {"c": 3}'
    assert split.quick_cut(events, len(events)) == (18, 22)
    assert split.quick_cut(b'{"a": 1}', 8) is None


def test_gzip_stream_is_never_inflated_whole(tmp_path: Path, small_chunks: None) -> None:
    path = write_trace(tmp_path / "t.json.gz", _events(40), gz=True)
    content = gzip.decompress(path.read_bytes())
    buffered = window.Window(window.Content(path), 1024)
    assert buffered.fill(600) and len(buffered.buffer) < len(content) // 4
    table, _, _ = _streamed(path)
    assert np.all(table.column("dur_ns").to_numpy() >= 0)


BAD_KINETO = sorted((Path(__file__).parents[1] / "data" / "bad" / "kineto").iterdir())


def _outcome(read) -> tuple:
    """What reading gives: the table, metadata and warnings, or the error message."""
    try:
        table, metadata, warnings = read()
    except TraceError as exc:
        return ("error", str(exc))
    return ("read", table.to_pydict(), metadata, warnings)


@pytest.mark.parametrize("path", BAD_KINETO, ids=[p.name for p in BAD_KINETO])
def test_bad_input_corpus_reads_alike_streamed_and_whole(
    path: Path, small_chunks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each file of tests/data/bad/kineto, cut in chunks of 200 bytes: the same table and warnings, or
    the same one-line error, as the whole read (a file the stream refuses is read whole)."""
    monkeypatch.setattr(driver, "CHUNK_BYTES", 200)

    def streamed() -> tuple:
        with checked.collecting() as problems:
            result = stream.read_streamed(path)
            if not isinstance(result, stream.Streamed):
                result = kineto._read_whole(path, result)
        return result.table, result.metadata, result.warnings + problems.warnings()

    def whole_or_fallback() -> tuple:
        try:
            return streamed()
        except stream.Unstreamable:
            return _whole(path)

    assert _outcome(whole_or_fallback) == _outcome(lambda: _whole(path))


def test_a_chunk_decodes_without_importing_pandas(tmp_path: Path) -> None:
    """The reader's workers convert chunks without pyarrow's conversions, which import pandas (0.15 s
    in each worker); the parent imports it meanwhile (driver.py)."""
    nccl = kernel("ncclDevKernel_AllReduce_Sum_f32", 40, 5, correlation=99)
    nccl["args"].update(
        {"Collective name": "allreduce", "In msg nelems": 8, "Out msg nelems": 8, "dtype": "Float"}
    )
    events = [*_events(3), nccl]
    late = [{**e, "ts": e["ts"] + 5e12 + 0.125} if "ts" in e else e for e in events]  # past float precision
    chunks = tmp_path / "chunks.json"
    chunks.write_text(json.dumps([json.dumps(events), json.dumps(late)]))
    code = (
        "import json, sys; from tracekit.readers.kineto.stream import decode_chunk; "
        "texts = json.load(open(sys.argv[1])); "
        "print([decode_chunk(t.encode()).rows for t in texts], 'pandas' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(chunks)], capture_output=True, text=True, timeout=120
    )
    assert done.stdout.split() == ["[22,", "22]", "False"], done.stderr
