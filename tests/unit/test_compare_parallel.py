"""check and diff load their runs in worker processes when the inputs are large enough, and only
analyse what the comparison reads: the same verdicts, diffs and errors as the whole analysis."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import GPU_DATA

from tracekit.cli import compare as cli_compare
from tracekit.compare.budget import default_budgets
from tracekit.compare.check import check
from tracekit.compare.diff import diff
from tracekit.compare.run import run_of
from tracekit.errors import TraceError
from tracekit.readers import memory_budget, read_trace

PAIR = [GPU_DATA / "h2d_batched.pt.trace.json.gz", GPU_DATA / "h2d28_separate_run1.pt.trace.json.gz"]


def test_measures_only_gives_the_same_diff_and_check_as_the_whole_analysis() -> None:
    whole = [run_of(read_trace(path)) for path in PAIR]
    measured = [run_of(read_trace(path), full=False) for path in PAIR]
    assert whole[0].document.devices[0].whatif is not None
    assert measured[0].document.devices[0].whatif is None
    assert measured[0].document.timeline is None
    assert diff(*measured) == diff(*whole)
    budgets = default_budgets()
    checked = check(measured[1], [measured[0]], budgets, "default")
    assert checked == check(whole[1], [whole[0]], budgets, "default")


def test_worker_processes_give_what_one_process_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    serial = cli_compare.load_rank_sets(PAIR)
    monkeypatch.setattr(cli_compare, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(cli_compare, "available_cores", lambda: 2)
    parallel = cli_compare.load_rank_sets(PAIR, [True, False])
    steps = [ranks[""].document.steps for ranks in parallel]  # Documents pickled back from workers
    assert steps == [ranks[""].document.steps for ranks in serial]
    assert diff(parallel[0][""], parallel[1][""]) == diff(serial[0][""], serial[1][""])
    assert parallel[0][""].document.devices[0].whatif is not None  # full where asked
    assert parallel[1][""].document.devices[0].whatif is None


def test_bad_input_in_a_worker_is_the_one_line_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"traceEvents": []}')
    monkeypatch.setattr(cli_compare, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(cli_compare, "available_cores", lambda: 2)
    with pytest.raises(TraceError) as raised:
        cli_compare.load_rank_sets([PAIR[0], bad])
    assert raised.value.path == str(bad)


def test_one_core_or_tiny_inputs_stay_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pool(*args, **kwargs):
        raise AssertionError("a worker pool was started")

    monkeypatch.setattr(memory_budget, "traces_pool", no_pool)
    cli_compare.load_rank_sets(PAIR)  # tiny: a few hundred kB
    monkeypatch.setattr(cli_compare, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(cli_compare, "available_cores", lambda: 1)
    cli_compare.load_rank_sets(PAIR)
