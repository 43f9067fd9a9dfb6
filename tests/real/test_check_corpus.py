"""`tracekit check` with ONE baseline run on the real H200 corpus (tests/data/gpu/corpus.toml): two
runs of the same code pass, whichever is the baseline; every recorded regression (a pair's "before"
checked against its "after": graph -> eager, pinned -> pageable, overlapped -> serial copies,
bf16 -> fp32, batched -> separate copies, device flags -> .item(), parallel -> serial preprocessing)
fails and names the metric, the shift and its interval."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from functools import cache

import pytest
from conftest import GPU_DATA

from tracekit.compare.budget import default_budgets
from tracekit.compare.check import check
from tracekit.compare.run import Run, run_of
from tracekit.readers import read_trace

CORPUS = tomllib.loads((GPU_DATA / "corpus.toml").read_text())
SAME_CODE = [(c["before"], c["run2"]) for c in CORPUS["same_code"]]
REGRESSIONS = [
    (p["before"], p["after"])
    for p in CORPUS["pair"]
    if p["metric"] == "step_time" and p["measured_speedup"] > 1.1
] + [("preprocess_serial", "preprocess_parallel")]  # x1.03 unprofiled, but the CPU work moved threads


@cache
def _run(name: str) -> Run:
    return run_of(read_trace(GPU_DATA / "corpus" / f"{name}.pt.trace.json.gz"))


@pytest.mark.parametrize(("first", "second"), SAME_CODE + [(b, a) for a, b in SAME_CODE])
def test_two_runs_of_the_same_code_pass_with_one_baseline(first: str, second: str) -> None:
    document = check(_run(first), [_run(second)], default_budgets(), "default")
    assert document["counts"]["regression"] == 0, [
        (v["path"], v["reason"]) for v in document["verdicts"] if v["status"] == "regression"
    ]


@pytest.mark.parametrize(("new", "base"), REGRESSIONS)
def test_every_recorded_regression_fails_with_one_baseline(new: str, base: str) -> None:
    document = check(_run(new), [_run(base)], default_budgets(), "default")
    regressions = [v for v in document["verdicts"] if v["status"] == "regression"]
    assert document["status"] == "regression" and regressions
    assert all(v["relative_change"] is not None or v["change"] for v in regressions)
    assert any(v["test"] and v["test"]["interval"][0] is not None for v in regressions)


def test_the_graph_regression_fails_the_cli_with_exit_1_naming_metric_shift_and_interval() -> None:
    new, base = (GPU_DATA / "corpus" / f"{n}.pt.trace.json.gz" for n in ("chain80_eager", "chain80_graph"))
    command = [sys.executable, "-m", "tracekit", "check", str(new), "--baseline", str(base), "--json", "-"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    verdicts = {v["path"]: v for v in json.loads(result.stdout)["verdicts"]}
    launches = verdicts["host.launch_calls_per_step"]
    assert launches["status"] == "regression" and launches["base"] == 1 and launches["new"] == 80
    step = verdicts["step.p50"]
    assert step["status"] == "regression" and "prior" in step["reason"]
    low, high = step["test"]["interval"]
    assert step["base"] + low > step["limit"] + step["noise_margin"] and high >= low
