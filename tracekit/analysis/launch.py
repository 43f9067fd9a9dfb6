"""Launch overhead: delay from the end of a launch call to the kernel's start (HTA's definition)."""

from __future__ import annotations

import numpy as np

from tracekit.analysis.columns import Columns
from tracekit.analysis.stats import distribution, ratio
from tracekit.model.schema import NONE


def launch_summary(cols: Columns, kernels: np.ndarray) -> dict[str, object]:
    """Launch delay statistics and the share of kernels shorter than their own launch call."""
    linked = kernels[cols.launch[kernels] != NONE]
    calls = cols.launch[linked]
    delay = np.maximum(cols.start[linked] - (cols.start[calls] + cols.dur[calls]), 0)
    stats = distribution(delay, (50, 90))
    short = int((cols.dur[linked] < cols.dur[calls]).sum())
    return {
        "kernels_with_launch": len(linked),
        "delay_p50_ns": stats["p50"],
        "delay_p90_ns": stats["p90"],
        "delay_mean_ns": stats["mean"],
        "delay_max_ns": stats["max"],
        "call_p50_ns": distribution(cols.dur[calls], (50,))["p50"],
        "short_kernel_count": short,
        "short_kernel_share": ratio(short, len(linked)),
    }
