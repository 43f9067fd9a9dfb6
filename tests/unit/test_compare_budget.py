"""Budget files: syntax, units, limits, and bad files as one-line input errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import GPU_DATA

from tracekit.compare.budget import DEFAULT_PRIOR, default_budgets, load_budgets, load_prior, parse_budget
from tracekit.compare.metrics import known_paths, lookup
from tracekit.errors import TraceError

TRACE = GPU_DATA / "h2d28_separate_run1.pt.trace.json.gz"


def test_relative_budgets_in_every_unit() -> None:
    assert parse_budget("step.p50", "+5%").limit(2_000_000) == pytest.approx(2_100_000)
    assert parse_budget("h2d.share_of_busy", "+2pp").limit(0.5) == pytest.approx(0.52)
    assert parse_budget("device.busy_per_step_ns", "+20us").limit(100_000) == pytest.approx(120_000)
    assert parse_budget("utilization", "-5pp").limit(0.6) == pytest.approx(0.55)
    assert parse_budget("h2d.per_step", "+0").limit(28) == 28
    budget = parse_budget("bubbles.count", " -10 % ")
    assert (budget.relative, budget.worse, budget.unit, budget.limit(200)) == (
        True,
        -1,
        "%",
        pytest.approx(180),
    )


def test_absolute_budgets() -> None:
    at_most = parse_budget("h2d.per_step", "<= 2")
    assert (at_most.relative, at_most.worse, at_most.limit(None)) == (False, +1, 2.0)
    at_least = parse_budget("utilization", ">= 60%")
    assert (at_least.worse, at_least.limit(None)) == (-1, pytest.approx(0.6))
    assert parse_budget("step.p99", "<= 1.5ms").limit(None) == pytest.approx(1_500_000)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("step.p50", "5%", "not a budget"),
        ("step.p50", "+5 %%", "not a budget"),
        ("step.p50", 5, "write the budget as a string"),
        ("h2d.per_step", "+2pp", "needs a fraction metric"),
        ("h2d.per_step", "+2ms", "duration unit on a metric counted in count"),
        ("step.p50", "<= 50%", "needs a fraction metric"),
        ("step.p05", "+5%", "unknown metric path 'step.p05'"),
        ('op["*gemm*"].mean', "+5%", "unknown metric path"),
    ],
)
def test_bad_budget_lines(path: str, value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        parse_budget(path, value)


def test_toml_tables_and_quoted_operator_keys_flatten_to_paths(tmp_path: Path) -> None:
    file = tmp_path / "budget.toml"
    file.write_text(
        'utilization = ">= 0.5"\n\'op["*gemm*"].count_per_step\' = "+0"\n[h2d]\nper_step = "<= 2"\n'
    )
    budgets = load_budgets(file)
    assert [(b.path, b.text) for b in budgets] == [
        ("utilization", ">= 0.5"),
        ('op["*gemm*"].count_per_step', "+0"),
        ("h2d.per_step", "<= 2"),
    ]


def test_default_budget_names_only_known_metrics_and_all_are_relative() -> None:
    budgets = default_budgets()
    assert [b.path for b in budgets][:3] == ["step.p50", "utilization", "device.busy_per_step_ns"]
    assert all(b.relative for b in budgets)
    assert "step.p50" in known_paths() and lookup("step.p50").stability == "wall-clock"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('step.p50 = "+5%"\nstep.p05 = "+5%"\n', "unknown metric path 'step.p05'"),
        ('step.p50 = "+5%\n', "not valid TOML"),
        ("step.p50 = 5\n", "write the budget as a string"),
        ("", "budget file names no metric"),
    ],
)
def test_bad_budget_file_is_an_input_error_naming_the_file(tmp_path: Path, text: str, problem: str) -> None:
    file = tmp_path / "budget.toml"
    file.write_text(text)
    with pytest.raises(TraceError) as caught:
        load_budgets(file)
    assert caught.value.path == str(file) and problem in caught.value.problem


@pytest.mark.parametrize(
    "text",
    ['h2d.per_step = "<= 2"\nno.such.metric = "+5%"\n', 'h2d.per_step = "<= 2\n'],
    ids=["unknown", "syntax"],
)
def test_check_with_bad_budget_file_exits_2_with_one_line(tmp_path: Path, text: str) -> None:
    file = tmp_path / "budget.toml"
    file.write_text(text)
    result = subprocess.run(
        [sys.executable, "-m", "tracekit", "check", str(TRACE), "--budget", str(file)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(file) in lines[0] and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_the_noise_prior_is_read_from_the_budget_file(tmp_path: Path) -> None:
    path = tmp_path / "budget.toml"
    path.write_text('step.p50 = "+5%"\n[noise]\nprior = "40%"\n')
    assert load_prior(path) == pytest.approx(0.40)
    assert [b.path for b in load_budgets(path)] == ["step.p50"]  # the prior is not a metric budget
    assert load_prior(None) == DEFAULT_PRIOR == 0.75
    path.write_text('step.p50 = "+5%"\nnoise.prior = 0.4\n')
    with pytest.raises(TraceError, match=r'noise.prior = .*write it as a percentage, e.g. "75%"'):
        load_prior(path)
