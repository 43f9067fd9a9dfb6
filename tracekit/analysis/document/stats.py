"""Distributions that several blocks share."""

from __future__ import annotations

from tracekit.analysis.document.base import Block


class Distribution(Block, kw_only=True):
    """count, Σ, mean, min, median (mean of the two middle values), max, sample stddev; None when empty."""

    count: int
    total: int | None
    mean: float | None
    min: int | None
    median: float | None
    max: int | None
    stddev: float | None


class Hotspot(Block, kw_only=True):
    """A name's durations: count, Σ, mean, min, median, nearest-rank p50/p99, max, stddev, share."""

    name: str
    count: int
    total_ns: int
    mean_ns: float
    min_ns: int
    median_ns: float
    p50_ns: int
    p99_ns: int
    max_ns: int
    stddev_ns: float
    share: float


class KernelHotspot(Hotspot, kw_only=True):
    """A kernel hotspot and the CPU call that launches it most often."""

    launched_by: str | None = None


class Span(Block, kw_only=True):
    start_ns: int
    end_ns: int


class Interval(Block, kw_only=True):
    start_ns: int
    dur_ns: int
