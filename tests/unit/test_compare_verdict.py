"""The verdict rules on built runs: run-stable direct, wall-clock only beyond the noise margin and
significant, inconclusive (never a failure) with one baseline run or too few steps."""

from __future__ import annotations

import math

import numpy as np
import pytest
from document_builder import built_document

from tracekit.compare.budget import parse_budget
from tracekit.compare.check import check
from tracekit.compare.run import Run
from tracekit.compare.verdict import judge


def _run(steps_ns: list[int], h2d_per_step: float = 28.0, kernels: tuple[tuple[str, int], ...] = ()) -> Run:
    """A run whose step durations are `steps_ns` (p50 by nearest rank) with one device."""
    ordered = sorted(steps_ns)
    p50 = ordered[math.ceil(len(ordered) / 2) - 1]
    document = built_document(len(steps_ns), p50, h2d_per_step, kernels)
    samples = {"duration_ns": np.array(steps_ns), "h2d_count": np.full(len(steps_ns), h2d_per_step)}
    return Run("built", document, samples)


BASE_A = _run([100, 101, 102, 103, 104, 105, 106, 107, 108, 109])  # p50 104
BASE_B = _run([102, 103, 104, 105, 106, 107, 108, 109, 110, 111])  # p50 106
SLOW = _run([200, 201, 202, 203, 204, 205, 206, 207, 208, 209])  # p50 204


def test_identical_runs_pass() -> None:
    verdict = judge(parse_budget("step.p50", "+5%"), BASE_A, [BASE_A])
    assert (verdict.status, verdict.new, verdict.base, verdict.limit) == (
        "pass",
        104,
        104,
        pytest.approx(109.2),
    )
    assert verdict.test.u == 50.0 and verdict.test.shift == 0.0


def test_one_baseline_run_regression_beyond_budget_plus_prior() -> None:
    verdict = judge(parse_budget("step.p50", "+5%"), SLOW, [BASE_A])
    # limit 104 * 1.05 = 109.2; prior 75 % of 104 = 78; every new - base difference is 100 +/- 9,
    # the HL interval's low end 96 puts even the nearest shift at 104 + 96 = 200 > 109.2 + 78
    assert verdict.limit == pytest.approx(109.2) and verdict.margin == pytest.approx(78.0)
    assert verdict.test.low is not None and 104 + verdict.test.low - 109.2 > 78.0
    assert verdict.status == "regression" and "75% run-to-run prior" in verdict.reason
    # the test: U = 100 of 100 pairs, exact p = 1 / C(20, 10)
    assert verdict.test.u == 100.0 and verdict.test.p == pytest.approx(1 / math.comb(20, 10))
    assert (verdict.test.shift, verdict.test.n_new, verdict.test.n_base) == (100.0, 10, 10)


def test_one_baseline_run_within_the_prior_is_inconclusive() -> None:
    half_again = _run([x + 52 for x in range(100, 110)])  # p50 156: over 109.2, but 156 < 109.2 + 78
    verdict = judge(parse_budget("step.p50", "+5%"), half_again, [BASE_A])
    assert verdict.status == "inconclusive" and "within the 75% run-to-run prior" in verdict.reason


def test_the_prior_is_settable() -> None:
    half_again = _run([x + 52 for x in range(100, 110)])
    verdict = judge(parse_budget("step.p50", "+5%"), half_again, [BASE_A], prior=0.25)
    # prior 26: 104 + (low end of a shift of 52 +/- 9) - 109.2 > 26
    assert verdict.margin == pytest.approx(26.0) and verdict.status == "regression"


def test_wall_clock_regression_beyond_the_noise_margin_and_significant() -> None:
    verdict = judge(parse_budget("step.p50", "+5%"), SLOW, [BASE_A, BASE_B])
    # base = mean(104, 106) = 105, limit 110.25; s = sqrt(2), margin = 6.314 * sqrt(2) * sqrt(1.5) = 10.94
    assert verdict.base == 105 and verdict.limit == pytest.approx(110.25)
    assert verdict.margin == pytest.approx(6.314 * math.sqrt(3))
    assert verdict.status == "regression" and "significant" in verdict.reason
    assert verdict.test.n_base == 20 and verdict.test.u == 200.0


def test_wall_clock_over_budget_within_the_noise_margin_is_inconclusive() -> None:
    slightly_slow = _run([x + 15 for x in range(100, 110)])  # p50 119: over 110.25, under 110.25 + 10.94
    verdict = judge(parse_budget("step.p50", "+5%"), slightly_slow, [BASE_A, BASE_B])
    assert verdict.status == "inconclusive" and "noise margin" in verdict.reason


def test_wall_clock_with_too_few_steps_is_inconclusive() -> None:
    short_a, short_b, slow = _run([100, 101, 102]), _run([102, 103, 104]), _run([300, 301, 302])
    verdict = judge(parse_budget("step.p50", "+5%"), slow, [short_a, short_b])
    assert verdict.status == "inconclusive" and "fewer than 5 steps" in verdict.reason


def test_run_stable_metric_is_compared_directly() -> None:
    batched = _run(list(range(100, 110)), h2d_per_step=1.0)
    verdict = judge(parse_budget("h2d.per_step", "+10%"), BASE_A, [batched])
    assert (verdict.status, verdict.new, verdict.base, verdict.limit) == (
        "regression",
        28.0,
        1.0,
        pytest.approx(1.1),
    )
    assert (verdict.test.shift, verdict.test.low, verdict.test.high) == (27.0, 27.0, 27.0)
    assert verdict.margin is None


def test_absolute_budgets_need_no_baseline() -> None:
    assert judge(parse_budget("h2d.per_step", "<= 2"), BASE_A, []).status == "regression"
    assert judge(parse_budget("h2d.per_step", "<= 28"), BASE_A, []).status == "pass"
    assert judge(parse_budget("step.p50", ">= 105"), BASE_A, []).status == "regression"


def test_operator_patterns_count_absence_as_zero() -> None:
    with_gemm = _run(list(range(100, 110)), kernels=(("sgemm_largek", 500), ("cat", 100)))
    without = _run(list(range(100, 110)), kernels=(("cat", 100),))
    appeared = judge(parse_budget('op["*gemm*"].total_per_step_ns', "+10%"), with_gemm, [without])
    assert (appeared.status, appeared.new, appeared.base) == ("regression", 50.0, 0.0)
    vanished = judge(parse_budget('op["*gemm*"].total_per_step_ns', "+10%"), without, [with_gemm])
    assert (vanished.status, vanished.new, vanished.base) == ("pass", 0.0, 50.0)
    nowhere = judge(parse_budget('op["*conv*"].total_per_step_ns', "+10%"), without, [with_gemm])
    assert nowhere.status == "inconclusive" and "matches no kernel" in nowhere.reason


def test_check_status_is_the_worst_verdict() -> None:
    budgets = [parse_budget("step.p50", "+5%"), parse_budget("h2d.per_step", "<= 28")]
    half_again = _run([x + 52 for x in range(100, 110)])  # over the budget, within the prior
    document = check(half_again, [BASE_A], budgets, "built")
    assert (document["status"], document["counts"]) == ("inconclusive", {"pass": 1, "regression": 0,
                                                                          "inconclusive": 1})  # fmt: skip
    budgets.append(parse_budget("h2d.per_step", "<= 2"))
    assert check(half_again, [BASE_A], budgets, "built")["status"] == "regression"
