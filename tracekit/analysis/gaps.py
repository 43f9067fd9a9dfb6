"""Long gaps: the nsys `gpu_gaps` view of idle time (docs/metrics.md, "Long gaps")."""

from __future__ import annotations

import numpy as np

from tracekit.analysis.columns import Columns
from tracekit.model.intervals import gaps, union


def long_gaps(cols: Columns, ops: np.ndarray, lo: int, hi: int, threshold_ns: int) -> dict[str, object]:
    """Idle intervals inside [lo, hi) strictly longer than the threshold, longest first."""
    idle = gaps(union(cols.start[ops], cols.end[ops]), lo, hi)
    lengths = idle.ends - idle.starts
    keep = np.flatnonzero(lengths > threshold_ns)
    keep = keep[np.argsort(-lengths[keep], kind="stable")]
    return {
        "threshold_ns": threshold_ns,
        "count": len(keep),
        "total_ns": int(lengths[keep].sum()),
        "gaps": [{"start_ns": int(idle.starts[i]), "dur_ns": int(lengths[i])} for i in keep],
    }
