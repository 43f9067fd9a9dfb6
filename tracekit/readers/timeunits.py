"""Exact conversion of microsecond timestamps to integer nanoseconds.

Chrome traces store µs as JSON numbers, often with three decimals. A float64 holds such a value
exactly enough to recover the integer ns below about 4.5e12 µs (52 days), and any whole µs value
below 2**53. Beyond that the reader takes the numbers' text: written as plain decimals (digits, at
most three after the point: what the PyTorch profiler writes), all of them are converted at once
(`plain_decimal_ns`); otherwise each is decoded as a Decimal and converted through
tracekit/readers/checked.py (`us_to_ns`), which also notes what it cannot convert.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

_EXACT_FRACTION_LIMIT_US = 2.0**52 * 1e-3  # ulp(x) <= 1e-3 µs below this: ns survive rounding
_EXACT_INTEGER_LIMIT_US = 2.0**53
MAX_WHOLE_DIGITS = 15
"""Plain decimals of more whole µs digits (past 31 years) go the Decimal way: below it every value's
ns fit int64 and pass checked.MAX_US."""
_DOT, _ZERO, _NINE = ord("."), ord("0"), ord("9")
_POWERS = 10 ** np.arange(MAX_WHOLE_DIGITS + 3, dtype=np.int64)


def exact_in_float(values_us: np.ndarray, written_as_integers: Callable[[], bool]) -> bool:
    """True when every value can be turned into exact integer ns from its float64 form.

    `written_as_integers` tells whether the source wrote every value without a fraction; it is only
    asked for values too large for float64 to keep three decimals.
    """
    if len(values_us) == 0:
        return True
    largest = float(np.abs(values_us).max())
    if largest < _EXACT_FRACTION_LIMIT_US:
        return True
    return largest < _EXACT_INTEGER_LIMIT_US and written_as_integers()


def us_to_ns(values_us: np.ndarray) -> np.ndarray:
    """Float µs to int64 ns, splitting whole and fractional parts so large values do not drift."""
    whole = np.floor(values_us)
    fraction_ns = np.rint((values_us - whole) * 1000.0).astype(np.int64)
    return whole.astype(np.int64) * 1000 + fraction_ns


def plain_decimal_ns(texts: list[bytes]) -> np.ndarray | None:
    """Integer ns of µs values written as plain decimals (`123`, `5299189887853.440`: digits, then
    at most three after a point); None when any is written otherwise (a sign, an exponent, a string,
    more decimals or more digits), for the Decimal way to convert and note them."""
    if not texts:
        return np.zeros(0, dtype=np.int64)
    chars = np.array(texts, dtype=bytes)  # one row of characters per value, NUL-padded
    if not 0 < chars.dtype.itemsize <= MAX_WHOLE_DIGITS + 4:
        return None
    chars = chars.view(np.uint8).reshape(len(texts), chars.dtype.itemsize)
    layout = _plain_layout(chars)
    if layout is None:
        return None
    digit, point = layout
    column = np.arange(chars.shape[1])
    exponent = point[:, None] - column + np.where(column < point[:, None], 2, 3)  # of each digit, in ns
    weights = _POWERS[np.clip(exponent, 0, len(_POWERS) - 1)]
    return np.where(digit, (chars - _ZERO).astype(np.int64) * weights, 0).sum(axis=1)


def _plain_layout(chars: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(where the digits are, each value's count of whole digits) of rows of characters that are
    plain decimals, NUL-padded; None when one is not."""
    digit, dot = (chars >= _ZERO) & (chars <= _NINE), chars == _DOT
    length = np.count_nonzero(chars, axis=1)
    points = dot.sum(axis=1)
    inside = np.arange(chars.shape[1]) < length[:, None]
    if not ((digit | dot) == inside).all() or (points > 1).any():  # other characters, or NULs inside
        return None
    point = np.where(points == 1, dot.argmax(axis=1), length)
    decimals = np.where(points == 1, length - point - 1, 1)  # no point: as good as one decimal
    whole_ok = (point >= 1) & (point <= MAX_WHOLE_DIGITS)
    return (digit, point) if (whole_ok & (decimals >= 1) & (decimals <= 3)).all() else None
