"""Run-to-run noise: lognormal factors on every simulated duration, from one seeded generator."""

from __future__ import annotations

import numpy as np


class Noise:
    """Lognormal factors with mean 1, drawn in blocks from one generator."""

    def __init__(self, rng: np.random.Generator, sigma: float, block: int = 8192) -> None:
        self._rng, self._sigma, self._block = rng, sigma, block
        self._values: list[float] = []
        self._next = 0

    def __call__(self) -> float:
        if self._sigma == 0:
            return 1.0
        if self._next == len(self._values):
            draws = self._rng.lognormal(-(self._sigma**2) / 2, self._sigma, self._block)
            self._values, self._next = draws.tolist(), 0
        self._next += 1
        return self._values[self._next - 1]
