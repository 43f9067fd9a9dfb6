"""Recommendations: one module per rule (tracekit/rules/library/), evaluated on the analysis
document (docs/rules.md). `CHANGES` are the rules' replay changes, for `analyze(..., changes=CHANGES)`."""

from __future__ import annotations

from tracekit.rules.catalogue import CHANGES, CLUSTER_RULES, RULES
from tracekit.rules.cluster import recommend_cluster
from tracekit.rules.engine import recommend

__all__ = ["CHANGES", "CLUSTER_RULES", "RULES", "recommend", "recommend_cluster"]
