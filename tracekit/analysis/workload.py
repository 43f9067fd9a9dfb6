"""Training or inference: training steps run backward passes and optimizer updates."""

from __future__ import annotations

import re

from tracekit.analysis.columns import Columns

TRAINING_NAMES = re.compile(
    r"backward|Backward|autograd::engine|Optimizer\.step|optimizer\.step|\bApply(Adam|Momentum|Rms)|"
    r"[a-z0-9]Grad(V\d)?\b|Backprop(Input|Filter)"
)
"""Autograd and optimizer ops (PyTorch), gradient and optimizer operator types (Ascend)."""


def workload(cols: Columns) -> dict[str, object]:
    """`{"kind": "training" | "inference", "evidence": [up to 3 names]}`."""
    found = [name for name in cols.names if TRAINING_NAMES.search(name)]
    return {"kind": "training" if found else "inference", "evidence": sorted(found)[:3]}
