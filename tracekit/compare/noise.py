"""The noise model's statistics: Mann-Whitney U, the Hodges-Lehmann shift with its interval, and
the run-to-run spread of several baseline runs with the noise margin it implies.

The U test is exact (the null distribution counted) when there are no ties and the samples are
small, else the normal approximation with tie and continuity correction. Both samples are per-step
values; `new` is compared against `base`. Nothing builds the m x n pairs: U comes from searches in
the sorted base, the Hodges-Lehmann order statistics from selection (tracekit/compare/differences.py),
exact either way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from tracekit.compare.differences import kth_differences, median_difference

ALPHA = 0.05  # one-sided significance level of the U test
CONFIDENCE = 0.95  # two-sided coverage of the Hodges-Lehmann interval
EXACT_MAX_WORK = 200_000  # min(m, n) * m * n up to which the null distribution is counted
TEST_NAME = "Mann-Whitney U"
# One-sided 95 % quantiles of Student's t for 1..30 degrees of freedom; the last serves beyond 30.
T_95 = (6.314, 2.920, 2.353, 2.132, 2.015, 1.943, 1.895, 1.860, 1.833, 1.812, 1.796, 1.782, 1.771, 1.761,
        1.753, 1.746, 1.740, 1.734, 1.729, 1.725, 1.721, 1.717, 1.714, 1.711, 1.708, 1.706, 1.703, 1.701,
        1.699, 1.697)  # fmt: skip


@dataclass(frozen=True)
class ShiftTest:
    """A two-sample comparison of per-step values: new against base."""

    u: float  # pairs with new > base, ties counting one half
    p: float  # one-sided p-value in the direction asked for
    method: str  # "exact" or "normal"
    n_new: int
    n_base: int
    shift: float  # Hodges-Lehmann estimate: median of all new - base differences
    low: float | None  # interval bounds; None when the samples are too small for the confidence
    high: float | None

    def as_dict(self) -> dict[str, object]:
        return {
            "test": TEST_NAME,
            "method": self.method,
            "u": self.u,
            "p": self.p,
            "n_new": self.n_new,
            "n_base": self.n_base,
            "shift": self.shift,
            "interval": [self.low, self.high],
            "confidence": CONFIDENCE,
        }


def compare_samples(new: np.ndarray, base: np.ndarray, worse: int) -> ShiftTest:
    """U test of `new` being worse than `base` (worse = +1: larger, -1: smaller) and the HL shift."""
    new, base = np.asarray(new, dtype=float), np.asarray(base, dtype=float)
    u, p, method = mann_whitney(new, base, greater=worse > 0)
    shift, low, high = hodges_lehmann(new, base)
    return ShiftTest(u, p, method, len(new), len(base), shift, low, high)


def mann_whitney(new: np.ndarray, base: np.ndarray, greater: bool = True) -> tuple[float, float, str]:
    """(U, one-sided p, method): U counts pairs new > base (ties one half); p is P(U >= observed)
    under no difference when `greater`, else P(U <= observed)."""
    new, base = np.asarray(new, dtype=float), np.asarray(base, dtype=float)
    m, n = len(new), len(base)
    u = _u_statistic(new, base)
    tail_u = u if greater else m * n - u  # by symmetry, P(U <= u) = P(U >= mn - u)
    pooled = np.concatenate([new, base])
    if _exact_is_cheap(m, n) and len(np.unique(pooled)) == m + n:
        counts = u_null_counts(m, n)
        return u, sum(counts[math.ceil(tail_u) :]) / sum(counts), "exact"
    sigma = _u_sigma(m, n, pooled)
    if sigma == 0.0:
        return u, 1.0, "normal"
    z = (tail_u - m * n / 2 - 0.5) / sigma
    return u, 1.0 - NormalDist().cdf(z), "normal"


def hodges_lehmann(new: np.ndarray, base: np.ndarray) -> tuple[float, float | None, float | None]:
    """(shift, low, high): the median of all new - base differences and its distribution-free
    CONFIDENCE interval (Moses): the k-th smallest and k-th largest difference, k from the U
    distribution. low and high are None when the samples are too small for that coverage."""
    shift = median_difference(new, base)
    k = _interval_rank(len(new), len(base), np.concatenate([new, base]))
    if k < 1:
        return shift, None, None
    low, high = kth_differences(new, base, [k - 1, len(new) * len(base) - k])
    return shift, low, high


def run_spread(values: list[float]) -> float | None:
    """Run-to-run spread: the sample standard deviation of the baseline runs' values (None for one run)."""
    return float(np.std(values, ddof=1)) if len(values) >= 2 else None


def noise_margin(values: list[float]) -> float | None:
    """How far one more run of the baseline code may land above the baseline runs' mean: the one-sided
    95 % prediction bound t(k-1) * s * sqrt(1 + 1/k) over k runs. Wide for few runs, as it must be."""
    spread = run_spread(values)
    if spread is None:
        return None
    runs = len(values)
    t = T_95[min(runs - 1, len(T_95)) - 1]
    return t * spread * math.sqrt(1 + 1 / runs)


def u_null_counts(m: int, n: int) -> list[int]:
    """How many of the C(m+n, m) orderings give U = 0, 1, ..., mn: the coefficients of the Gaussian
    binomial [m+n choose m]_q = prod_{i=1..m} (1 - q^(n+i)) / (1 - q^i)."""
    poly = [1] + [0] * (m * n)
    for i in range(1, m + 1):
        for k in range(len(poly) - 1, n + i - 1, -1):  # multiply by (1 - q^(n+i))
            poly[k] -= poly[k - n - i]
        for k in range(i, len(poly)):  # divide by (1 - q^i)
            poly[k] += poly[k - i]
    return poly


def _u_statistic(new: np.ndarray, base: np.ndarray) -> float:
    """Pairs new > base, ties counting one half: two searches per new value in the sorted base."""
    ordered = np.sort(base)
    below = np.searchsorted(ordered, new, side="left")
    tied = np.searchsorted(ordered, new, side="right") - below
    return float(int(below.sum()) + 0.5 * int(tied.sum()))


def _exact_is_cheap(m: int, n: int) -> bool:
    return min(m, n) * m * n <= EXACT_MAX_WORK


def _u_sigma(m: int, n: int, pooled: np.ndarray) -> float:
    """Standard deviation of U under no difference, corrected for ties."""
    total = m + n
    _, tie_sizes = np.unique(pooled, return_counts=True)
    ties = float((tie_sizes**3 - tie_sizes).sum())
    variance = m * n / 12 * ((total + 1) - ties / (total * (total - 1)))
    return math.sqrt(max(variance, 0.0))


def _interval_rank(m: int, n: int, pooled: np.ndarray) -> int:
    """The largest k with P(U <= k - 1) <= (1 - CONFIDENCE) / 2 (exact), or its normal value."""
    if m == 0 or n == 0:
        return 0
    tail = (1 - CONFIDENCE) / 2
    if _exact_is_cheap(m, n):
        counts = u_null_counts(m, n)
        total, below, k = sum(counts), 0, 0
        while k < len(counts) and (below + counts[k]) / total <= tail:
            below += counts[k]
            k += 1
        return k
    z = NormalDist().inv_cdf(1 - tail)
    return math.floor(m * n / 2 - z * _u_sigma(m, n, pooled) + 0.5)
