"""Cell values as msprof and torch_npu write them: decimal µs strings, N/A, sentinel integers."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from tracekit.model.schema import NONE
from tracekit.readers import timeunits

NULL_TEXTS = frozenset({"", "N/A", "NA", "n/a", "None", "null", "4294967295", "18446744073709551615"})


def clean(text: object) -> str:
    """A cell without the TABs, spaces and literal double quotes msprof wraps values in."""
    return str(text).strip().strip('"').strip()


def us_to_ns(value: object) -> int | None:
    """Exact integer ns from µs written as a decimal string or JSON number; None when absent."""
    if value is None:
        return None
    if not isinstance(value, Decimal):
        text = clean(value)
        if text in NULL_TEXTS:
            return None
        try:
            value = Decimal(text)
        except InvalidOperation:
            return None
    if not value.is_finite():
        return None
    return timeunits.decimal_us_to_int_ns(value)


def to_int(value: object) -> int:
    """An integer cell; NONE for N/A, empty and the 2^32-1 / 2^64-1 "no value" sentinels."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return NONE if str(value) in NULL_TEXTS else value
    text = clean(value)
    if text in NULL_TEXTS:
        return NONE
    try:
        return int(Decimal(text))
    except (InvalidOperation, ValueError):
        return NONE
