"""Pass, regression or inconclusive, per budget: the noise model (docs/ci.md, "Noise model").

- Run-stable metrics are compared with the budget directly.
- A wall-clock metric over its budget is a regression only when both sides have at least MIN_STEPS
  steps, the one-sided Mann-Whitney U test on per-step values is significant at ALPHA, and it is over
  the budget by more than the noise margin: with two baseline runs or more, the 95 % prediction bound
  of one more baseline run; with one, the prior (DEFAULT_PRIOR of the baseline, or the budget file's
  `noise.prior`), and then the whole Hodges-Lehmann interval of the shift must lie beyond budget plus
  prior. Otherwise it is inconclusive, never a failure. The verdict's reason names the rule.
- A value within its budget passes, whatever the noise: noise cannot hide a regression that is not there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tracekit.compare.budget import DEFAULT_PRIOR, Budget
from tracekit.compare.metrics import RUN_STABLE, Metric, lookup
from tracekit.compare.noise import ALPHA, CONFIDENCE, ShiftTest, compare_samples, noise_margin, run_spread
from tracekit.compare.run import Run

PASS, REGRESSION, INCONCLUSIVE = "pass", "regression", "inconclusive"
MIN_STEPS = 5  # per side: with fewer, no U test reaches ALPHA = 0.05 with margin


@dataclass(frozen=True)
class Verdict:
    """The outcome of one budget, with every number it rests on."""

    budget: Budget
    metric: Metric
    status: str
    reason: str
    new: float | None = None
    base: float | None = None  # mean of the baseline runs' values; None for absolute budgets
    limit: float | None = None  # the worst value the budget allows
    spread: float | None = None  # standard deviation of the baseline runs' values
    margin: float | None = None  # noise margin beyond the limit (wall-clock metrics)
    baseline_runs: int = 0
    test: ShiftTest | None = None  # new steps against the pooled baseline steps

    def as_dict(self) -> dict[str, object]:
        change = None if self.new is None or self.base is None else self.new - self.base
        return {
            "path": self.budget.path,
            "budget": self.budget.text,
            "kind": "relative" if self.budget.relative else "absolute",
            "stability": self.metric.stability,
            "unit": self.metric.unit,
            "status": self.status,
            "reason": self.reason,
            "new": self.new,
            "base": self.base,
            "change": change,
            "relative_change": change / abs(self.base) if change is not None and self.base else None,
            "limit": self.limit,
            "spread": self.spread,
            "noise_margin": self.margin,
            "baseline_runs": self.baseline_runs,
            "test": self.test.as_dict() if self.test else None,
        }


def judge(budget: Budget, new: Run, baselines: list[Run], prior: float = DEFAULT_PRIOR) -> Verdict:
    """The verdict of one budget for `new` against the baseline runs (none for absolute budgets)."""
    metric = lookup(budget.path)
    if not budget.relative:
        return _judge_absolute(budget, metric, new)
    new_value = metric.value(new)
    base_values = [metric.value(run) for run in baselines]
    if metric.absent_is_zero and (new_value is not None or any(v is not None for v in base_values)):
        new_value, base_values = new_value or 0.0, [v or 0.0 for v in base_values]
    if new_value is None or None in base_values:
        reason = _missing_reason(metric, new_value is None)
        return Verdict(budget, metric, INCONCLUSIVE, reason, new_value, baseline_runs=len(baselines))
    base = sum(base_values) / len(base_values)
    limit, margin = budget.limit(base), noise_margin(base_values)
    test = _shift_test(metric, new, baselines, budget.worse)
    numbers = {"new": new_value, "base": base, "limit": limit, "spread": run_spread(base_values),
               "margin": None if metric.stability == RUN_STABLE else margin,
               "baseline_runs": len(baselines), "test": test}  # fmt: skip
    excess = budget.worse * (new_value - limit)
    if excess <= 0:
        return Verdict(budget, metric, PASS, "within the budget", **numbers)
    if metric.stability == RUN_STABLE:
        return Verdict(budget, metric, REGRESSION, "over the budget (run-stable metric, compared directly)",
                       **numbers)  # fmt: skip
    if margin is None:
        prior_margin = prior * abs(base)
        numbers["margin"] = prior_margin
        outcome = _prior_outcome(budget.worse, base, limit, prior_margin, prior, test)
        return Verdict(budget, metric, *outcome, **numbers)
    return Verdict(budget, metric, *_wall_clock_outcome(excess, margin, test), **numbers)


def _prior_outcome(
    worse: int, base: float, limit: float, margin: float, prior: float, test: ShiftTest | None
) -> tuple[str, str]:
    """One baseline run: a regression when the test is significant and even the shift's interval
    bound nearest to no change lies beyond the budget plus the prior spread."""
    if test is None or min(test.n_new, test.n_base) < MIN_STEPS:
        return INCONCLUSIVE, f"over the budget, but fewer than {MIN_STEPS} steps on a side"
    near = test.low if worse > 0 else test.high
    if near is None:
        return INCONCLUSIVE, "over the budget, but too few steps for the shift's interval"
    if test.p >= ALPHA or worse * (base + near - limit) <= margin:
        return (
            INCONCLUSIVE,
            f"over the budget, but within the {prior:.0%} run-to-run prior (one baseline run)",
        )
    return REGRESSION, (
        f"over the budget beyond the {prior:.0%} run-to-run prior (one baseline run): the whole "
        f"{CONFIDENCE:.0%} interval of the shift lies beyond, and significant (p < {ALPHA})"
    )


def _wall_clock_outcome(excess: float, margin: float | None, test: ShiftTest | None) -> tuple[str, str]:
    """Regression only beyond the noise margin and with a significant test; else inconclusive."""
    if test is None or min(test.n_new, test.n_base) < MIN_STEPS:
        return INCONCLUSIVE, f"over the budget, but fewer than {MIN_STEPS} steps on a side"
    if excess <= margin:
        return INCONCLUSIVE, "over the budget by less than the run-to-run noise margin"
    if test.p >= ALPHA:
        return INCONCLUSIVE, f"over the budget beyond the noise margin, but not significant (p >= {ALPHA})"
    return REGRESSION, f"over the budget beyond the noise margin and significant (p < {ALPHA})"


def _judge_absolute(budget: Budget, metric: Metric, new: Run) -> Verdict:
    value = metric.value(new)
    if value is None:
        return Verdict(budget, metric, INCONCLUSIVE, _missing_reason(metric, True), limit=budget.amount)
    within = budget.worse * (value - budget.amount) <= 0
    status, reason = (PASS, "within the limit") if within else (REGRESSION, "past the absolute limit")
    return Verdict(budget, metric, status, reason, value, limit=budget.amount)


def _shift_test(metric: Metric, new: Run, baselines: list[Run], worse: int) -> ShiftTest | None:
    """U test and Hodges-Lehmann shift of the per-step values, baseline steps pooled over runs."""
    new_samples = metric.samples(new)
    if new_samples is None or len(new_samples) == 0:
        return None
    base_samples = np.concatenate([metric.samples(run) for run in baselines])
    return compare_samples(new_samples, base_samples, worse) if len(base_samples) else None


def _missing_reason(metric: Metric, in_new: bool) -> str:
    where = "the new run" if in_new else "a baseline run"
    if metric.absent_is_zero:
        return "the pattern matches no kernel in any run"
    return f"{where} does not give this metric (no steps or no device work?)"
