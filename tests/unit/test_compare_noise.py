"""The noise model's statistics on small samples whose results are computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tracekit.compare.noise import (
    compare_samples,
    hodges_lehmann,
    mann_whitney,
    noise_margin,
    run_spread,
    u_null_counts,
)


def test_null_distribution_of_u_counts_the_orderings() -> None:
    # m = n = 3: C(6, 3) = 20 orderings; U = 0 only for all new below all base, and so on
    assert u_null_counts(3, 3) == [1, 1, 2, 3, 3, 3, 3, 2, 1, 1]
    counts = u_null_counts(4, 5)
    assert sum(counts) == math.comb(9, 4) == 126
    assert counts[:4] == [1, 1, 2, 3] and counts == counts[::-1]


def test_u_and_exact_p_by_hand() -> None:
    new, base = np.array([3.0, 5.0, 7.0]), np.array([1.0, 2.0, 4.0])
    # pairs new > base: 3 > {1, 2}, 5 > {1, 2, 4}, 7 > {1, 2, 4}: U = 8; P(U >= 8) = (1 + 1) / 20
    assert mann_whitney(new, base) == (8.0, 0.1, "exact")
    # the other direction: P(U <= 8) = 1 - P(U = 9) = 19 / 20
    assert mann_whitney(new, base, greater=False) == (8.0, 0.95, "exact")


def test_u_with_ties_uses_the_tie_corrected_normal_approximation() -> None:
    new, base = np.array([1.0, 2.0, 2.0]), np.array([2.0, 3.0])
    u, p, method = mann_whitney(new, base)
    # pairs: 1 vs {2, 3}: 0; each 2 vs {2, 3}: 0.5 -> U = 1
    assert (u, method) == (1.0, "normal")
    # ties: value 2 three times -> sum(t^3 - t) = 24; var = 6/12 * (6 - 24/20) = 2.4
    z = (1.0 - 3.0 - 0.5) / math.sqrt(2.4)
    assert p == pytest.approx(0.5 * math.erfc(z / math.sqrt(2)))


def test_hodges_lehmann_shift_and_interval_by_hand() -> None:
    new, base = np.array([11.0, 13.0, 15.0, 20.0]), np.array([1.0, 4.0, 9.0, 12.0, 14.0])
    # 20 differences sorted: -3 -1 -1 1 1 2 3 4 6 6 | 7 8 9 10 11 11 12 14 16 19; median (6 + 7) / 2
    # 95 %: P(U <= 1) = 2/126 <= 0.025 < P(U <= 2) = 4/126, so k = 2: [2nd smallest, 2nd largest]
    assert hodges_lehmann(new, base) == (6.5, -1.0, 16.0)
    assert mann_whitney(new, base) == (17.0, pytest.approx(7 / 126), "exact")


def test_samples_too_small_for_the_interval_give_none() -> None:
    # m = n = 3: P(U <= 0) = 1/20 > 0.025, no 95 % interval exists
    assert hodges_lehmann(np.array([3.0, 5.0, 7.0]), np.array([1.0, 2.0, 4.0])) == (3.0, None, None)


def test_compare_samples_tests_the_worse_direction() -> None:
    slower = compare_samples(np.array([11.0, 13.0, 15.0, 20.0]), np.array([1.0, 4.0, 9.0, 12.0, 14.0]), +1)
    assert (slower.u, slower.n_new, slower.n_base, slower.shift) == (17.0, 4, 5, 6.5)
    assert slower.p == pytest.approx(7 / 126)
    lower_is_worse = compare_samples(
        np.array([11.0, 13.0, 15.0, 20.0]), np.array([1.0, 4.0, 9.0, 12.0, 14.0]), -1
    )
    assert lower_is_worse.p == pytest.approx(1 - 4 / 126)  # P(U <= 17) = 1 - P(U >= 18) = 1 - P(U <= 2)


def test_run_spread_and_noise_margin() -> None:
    assert run_spread([1.0]) is None and noise_margin([1.0]) is None
    assert run_spread([1.0, 3.0]) == pytest.approx(math.sqrt(2))
    # two runs: t(1) = 6.314, s = sqrt(2), sqrt(1 + 1/2)
    assert noise_margin([1.0, 3.0]) == pytest.approx(6.314 * math.sqrt(2) * math.sqrt(1.5))
    # three runs 1, 2, 3: s = 1, t(2) = 2.920
    assert noise_margin([1.0, 2.0, 3.0]) == pytest.approx(2.920 * math.sqrt(4 / 3))
