"""Memory given back under a memory budget (tracekit/resident.py): a spilled table's mapped pages, read
again from the page cache when touched, give the same values and the same analysis; without a spilled
table nothing happens; the analysis of a spilled table stays in one process."""

from __future__ import annotations

import gc
import mmap
import sys
from pathlib import Path

import numpy as np
import pytest
from kineto_builder import cpu_op, kernel, memcpy, runtime, step, write_trace

import tracekit.analysis.analyze as analyze_module
from tracekit import parallel, resident
from tracekit.analysis.analyze import analyze
from tracekit.analysis.document import encode
from tracekit.readers import read_trace
from tracekit.readers.chunked import driver, split
from tracekit.readers.memory_budget import MEMORY_BUDGET_ENV
from tracekit.rules import CHANGES

MB = 1 << 20


def _events(steps: int = 6) -> list[dict]:
    events = []
    for n in range(steps):
        t = n * 1000
        events.append(step(n + 1, t, 900))
        op = cpu_op("aten::mm", t + 1, 50, external_id=n + 1)
        op["args"].update({"Input Dims": [[64, 64], [64, 64]], "Input type": ["float", "float"]})
        events.append(op)
        events.append(runtime("cudaLaunchKernel", t + 2, 5, correlation=n + 1, external_id=n + 1))
        events.append(kernel("gemm", t + 10, 200, correlation=n + 1))
        events.append(memcpy("Memcpy HtoD (Pageable -> Device)", t + 300, 30, 1 << 20))
    return events


def _read_spilled(path: Path, monkeypatch: pytest.MonkeyPatch, chunk_bytes: int = 400):
    """The trace read in chunks of about `chunk_bytes` under a 1 KB budget: its table spilled."""
    with monkeypatch.context() as patch:
        patch.setattr(driver, "CHUNK_BYTES", chunk_bytes)
        patch.setattr(split, "QUICK_WINDOW", 128)
        patch.setenv(MEMORY_BUDGET_ENV, "1KB")
        return read_trace(path)


def _resident_file_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssFile:"):
            return int(line.split()[1])
    raise AssertionError("no RssFile in /proc/self/status")


def test_nothing_is_given_back_without_a_spilled_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gc.collect()
    assert not resident.holding()
    trims = []
    monkeypatch.setattr(resident, "_trim_c_heap", lambda: trims.append(1))
    read_trace(write_trace(tmp_path / "t.json", _events(2)))
    resident.give_back()
    assert trims == [] and not resident.holding()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads RssFile from /proc/self/status")
def test_given_back_pages_leave_the_resident_size_and_read_the_same(tmp_path: Path) -> None:
    path = tmp_path / "column.bin"
    values = np.arange(8 * MB, dtype=np.int64)  # 64 MB
    values.tofile(path)
    with path.open("rb") as source:
        mapped = mmap.mmap(source.fileno(), 0, access=mmap.ACCESS_READ)
    view = np.frombuffer(mapped, dtype=np.int64)
    resident.hold(mapped)
    total = int(view.sum())  # every page touched
    before = _resident_file_kib()
    resident.give_back()
    after = _resident_file_kib()
    assert before - after > 48 * 1024  # most of the 64 MB left this process
    assert int(view.sum()) == total == int(values.sum())  # read again from the page cache
    del view
    mapped.close()
    assert not resident.holding()  # a closed mapping is not held, nor given back
    resident.give_back()


def test_a_spilled_table_is_held_while_it_lives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_trace(tmp_path / "t.json", _events())
    table = _read_spilled(path, monkeypatch).events
    assert resident.holding()
    resident.give_back()
    assert table.to_pydict() == read_trace(path).events.to_pydict()
    del table
    gc.collect()
    assert not resident.holding()  # the mappings went with the table


def test_a_spilled_table_is_analysed_alike_in_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_trace(tmp_path / "t.json", _events())
    spilled = (_read_spilled(path, monkeypatch), read_trace(path))
    monkeypatch.setattr(analyze_module, "HELPED_MIN_ROWS", 0)  # an in-memory table gets the helper

    def no_helper(*tasks):
        raise AssertionError("a spilled table is analysed in this process alone")

    given = []
    monkeypatch.setattr(resident, "_trim_c_heap", lambda: given.append(1))
    helped = encode(analyze(spilled[1], changes=CHANGES))
    monkeypatch.setattr(analyze_module, "beside", no_helper)
    alone = encode(analyze(spilled[0], changes=CHANGES))
    assert alone == helped
    assert len(given) >= 8  # between the phases: the device block's, the host's, the what-if's


def test_arrays_are_paged_only_while_a_spilled_table_is_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gc.collect()  # earlier tests' spilled tables
    values = np.arange(MB, dtype=np.int64)
    assert resident.paged(values) is values  # nothing spilled: the array itself
    table = _read_spilled(write_trace(tmp_path / "t.json", _events()), monkeypatch).events
    paged = resident.paged(values)
    assert paged is not values and not paged.flags.writeable
    assert np.array_equal(paged, values) and paged.dtype == values.dtype
    resident.give_back()
    assert np.array_equal(paged, values)  # read again from the page cache
    monkeypatch.setattr(resident, "PAGED_MIN_BYTES", 2 * values.nbytes)
    assert resident.paged(values) is values  # too small to be worth a file
    del table


GPU_TRACES = Path(__file__).resolve().parents[1] / "data" / "gpu"


@pytest.mark.parametrize(
    "name",
    [
        "operators_fp32.pt.trace.json.gz",  # shapes: operators, bf16 effects, bigger batch
        "h2d28_separate_run1.pt.trace.json.gz",  # copies
        "decode_graph.pt.trace.json.gz",  # CUDA graphs
        "memory_leak.pt.trace.json.gz",  # memory samples
    ],
)
def test_a_spilled_table_with_every_derived_array_paged_is_analysed_alike(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every array the analysis derives and keeps is read-only on a mapped file (PAGED_MIN_BYTES 0):
    no analysis writes into one, and the document is the in-memory table's."""
    path = GPU_TRACES / name
    in_memory = encode(analyze(read_trace(path), changes=CHANGES))
    spilled = _read_spilled(path, monkeypatch, chunk_bytes=16 << 10)
    monkeypatch.setattr(resident, "PAGED_MIN_BYTES", 0)
    assert encode(analyze(spilled, changes=CHANGES)) == in_memory


@pytest.mark.skipif(not parallel.can_fork(), reason="helpers are forked")
def test_a_spilled_table_bounds_the_helpers_by_its_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Half the budget at resident.PROCESS_BYTES (64 MiB) a helper, while the spilled table is held."""
    gc.collect()
    monkeypatch.setattr(parallel, "available_cores", lambda: 64)
    assert parallel.spare_jobs() == 64
    table = _read_spilled(write_trace(tmp_path / "t.json", _events()), monkeypatch).events  # 1 KB budget
    assert parallel.spare_jobs() == 1
    resident.spilled_under(2 << 30)
    assert parallel.spare_jobs() == 16
    del table
    gc.collect()
    assert parallel.spare_jobs() == 64  # no spilled table held: every core
