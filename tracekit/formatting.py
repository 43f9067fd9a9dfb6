"""Numbers as people read them: durations, shares and byte counts (terminal, reports, rule texts)."""

from __future__ import annotations

UNKNOWN = "unknown"


def fmt_ns(ns: float | int | None) -> str:
    """A duration with a readable unit."""
    if ns is None:
        return "-"
    for unit, size in (("s", 1e9), ("ms", 1e6), ("us", 1e3)):
        if abs(ns) >= size:
            return f"{ns / size:.3g} {unit}" if abs(ns) < 100 * size else f"{ns / size:.0f} {unit}"
    return f"{ns:.0f} ns"


def fmt_share(value: float | None) -> str:
    """A ratio as a percentage."""
    return "-" if value is None else f"{100 * value:.1f} %"


def fmt_bytes(count: int | None) -> str:
    """A byte count with a binary unit; `unknown` when the trace does not give it."""
    if count is None:
        return UNKNOWN
    size = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


def fmt_copy_bytes(total: int, unknown: int, count: int) -> str:
    """The bytes of `count` copies of which `unknown` have no byte count: `unknown` when none is known,
    `>= total` when some are not, else the total."""
    if count and unknown >= count:
        return UNKNOWN
    return (">= " if unknown else "") + fmt_bytes(total)
