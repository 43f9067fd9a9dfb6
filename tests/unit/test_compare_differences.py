"""Selection of pairwise differences (tracekit/compare/differences.py) against brute force: every
new_i - base_j built and sorted. Agreement is exact, ties and duplicates included."""

from __future__ import annotations

import tracemalloc

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tracekit.compare import differences
from tracekit.compare.differences import kth_differences, median_difference
from tracekit.compare.noise import hodges_lehmann, mann_whitney

values = st.lists(st.integers(min_value=-50, max_value=50).map(float), min_size=1, max_size=40)


def brute_sorted(new: np.ndarray, base: np.ndarray) -> np.ndarray:
    return np.sort(np.subtract.outer(np.asarray(new, dtype=float), np.asarray(base, dtype=float)).ravel())


@settings(max_examples=300, deadline=None)
@given(values, values, st.data())
def test_every_rank_matches_brute_force(new: list[float], base: list[float], data: st.DataObject) -> None:
    everything = brute_sorted(np.array(new), np.array(base))
    ranks = data.draw(st.lists(st.integers(0, len(everything) - 1), min_size=1, max_size=5))
    assert kth_differences(np.array(new), np.array(base), ranks) == everything[ranks].tolist()
    assert median_difference(np.array(new), np.array(base)) == float(np.median(everything))


def test_selection_rounds_match_brute_force_on_moderate_samples(monkeypatch) -> None:
    """Samples large enough for many pivot rounds (few candidates sorted directly), with ties."""
    monkeypatch.setattr(differences, "FEW", 16)
    rng = np.random.default_rng(7)
    new = np.round(rng.lognormal(10, 0.3, 700))
    base = np.concatenate([np.round(rng.lognormal(10, 0.3, 500)), np.full(20, new[3])])
    everything = brute_sorted(new, base)
    count = len(everything)
    ranks = [0, 1, count // 3, (count - 1) // 2, count // 2, count - 1]
    assert kth_differences(new, base, ranks) == everything[ranks].tolist()
    assert hodges_lehmann(new, base)[0] == float(np.median(everything))


def test_u_statistic_matches_the_pairwise_count() -> None:
    rng = np.random.default_rng(3)
    new, base = rng.integers(0, 30, 200).astype(float), rng.integers(0, 30, 150).astype(float)
    pairs = (new[:, None] > base).sum() + 0.5 * (new[:, None] == base).sum()
    assert mann_whitney(new, base)[0] == float(pairs)


def test_hodges_lehmann_never_builds_the_pairs() -> None:
    """4,000 x 4,000 steps: the m x n differences would take 128 MB; selection stays under 2 MB."""
    rng = np.random.default_rng(11)
    new, base = rng.normal(1e6, 1e4, 4000), rng.normal(1e6, 1e4, 4000)
    tracemalloc.start()
    try:
        shift, low, high = hodges_lehmann(new, base)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2_000_000
    assert low is not None and high is not None and low < shift < high
