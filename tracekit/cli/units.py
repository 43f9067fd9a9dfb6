"""Parsing of command-line values: durations with units and step ranges."""

from __future__ import annotations

import re

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s)?\s*$")
_NS_PER_UNIT = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 1_000_000_000}


def parse_duration_ns(text: str) -> int:
    """`10us`, `1.5ms`, `500ns`, `2s` or a bare number of ns, as integer ns."""
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"not a duration: {text!r} (use e.g. 10us, 1.5ms, 500ns)")
    return round(float(match.group(1)) * _NS_PER_UNIT[match.group(2) or "ns"])


def parse_step_range(text: str) -> tuple[int, int]:
    """`A:B` (steps A to B inclusive) or `A` (that step alone)."""
    first, _, last = text.partition(":")
    try:
        lo, hi = int(first), int(last or first)
    except ValueError:
        raise ValueError(f"not a step range: {text!r} (use A:B, e.g. 3:12)") from None
    if hi < lo:
        raise ValueError(f"empty step range: {text!r} (the last step comes before the first)")
    return lo, hi
