"""Cell values as msprof and torch_npu write them: decimal µs strings, N/A, sentinel integers.

Every conversion delegates to `tracekit.readers.checked` (bounded number parsing, int64 ranges,
counted warnings); this module only adds what is Ascend-specific: the TABs and quotes around cells
and the `N/A` / 2^32-1 / 2^64-1 "no value" sentinels, which are absent, not unusable.
"""

from __future__ import annotations

import math

from tracekit.model.schema import NONE
from tracekit.readers import checked

NULL_TEXTS = frozenset({"", "N/A", "NA", "n/a", "None", "null", "4294967295", "18446744073709551615"})
_NULL_INTEGERS = frozenset({2**32 - 1, 2**64 - 1})


def clean(text: object) -> str:
    """A cell without the TABs, spaces and literal double quotes msprof wraps values in."""
    return str(text).strip().strip('"').strip()


def is_null(value: object) -> bool:
    """True for an absent value: None, an empty or N/A cell, or a "no value" sentinel."""
    if value is None:
        return True
    if isinstance(value, int) and not isinstance(value, bool):
        return value in _NULL_INTEGERS
    return isinstance(value, str) and clean(value) in NULL_TEXTS


def to_int(value: object, field: str, low: int = checked.INT64_MIN, high: int = checked.INT64_MAX) -> int:
    """An integer cell in [low, high]; NONE when absent, or when unusable (counted by `checked`)."""
    if is_null(value):
        return NONE
    return checked.integer(clean(value) if isinstance(value, str) else value, field, low, high)


def event_us_to_ns(value: object, field: str) -> int:
    """An event time in µs as exact integer ns; checked.INVALID_NS when absent or unusable (counted:
    the event is dropped)."""
    return checked.us_to_ns(_exact(value), field)


def us_to_ns(value: object, field: str) -> int | None:
    """An optional µs value as exact integer ns; None when absent, or when unusable (counted)."""
    if is_null(value):
        return None
    us = checked.number(_exact(value))
    if us is None or abs(us) > checked.MAX_US:
        checked.note(field, "not a finite number of µs in range, read as unknown")
        return None
    return checked.us_to_ns(us, field)


def _exact(value: object) -> object:
    """A finite float as its shortest decimal text (what the file wrote), so ns round as written."""
    return repr(value) if isinstance(value, float) and math.isfinite(value) else value
