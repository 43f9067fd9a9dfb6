"""Exact conversion of microsecond timestamps to integer nanoseconds.

Chrome traces store µs as JSON numbers, often with three decimals. A float64 holds such a value
exactly enough to recover the integer ns below about 4.5e12 µs (52 days), and any whole µs value
below 2**53. Beyond that a reader takes the numbers' text: a whole column at once where its cells
have the common layouts (tracekit/readers/decimal_cells.py), else each as a Decimal through
tracekit/readers/checked.py (`us_to_ns`), which also notes what it cannot convert.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

EXACT_FRACTION_LIMIT_US = 2.0**52 * 1e-3  # ulp(x) <= 1e-3 µs below this: ns survive rounding
_EXACT_INTEGER_LIMIT_US = 2.0**53


def exact_in_float(values_us: np.ndarray, written_as_integers: Callable[[], bool]) -> bool:
    """True when every value can be turned into exact integer ns from its float64 form.

    `written_as_integers` tells whether the source wrote every value without a fraction; it is only
    asked for values too large for float64 to keep three decimals.
    """
    if len(values_us) == 0:
        return True
    largest = float(np.abs(values_us).max())
    if largest < EXACT_FRACTION_LIMIT_US:
        return True
    return largest < _EXACT_INTEGER_LIMIT_US and written_as_integers()


def us_to_ns(values_us: np.ndarray) -> np.ndarray:
    """Float µs to int64 ns, splitting whole and fractional parts so large values do not drift."""
    whole = np.floor(values_us)
    fraction_ns = np.rint((values_us - whole) * 1000.0).astype(np.int64)
    return whole.astype(np.int64) * 1000 + fraction_ns
