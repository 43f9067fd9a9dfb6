"""The rules tracekit checks, one module each (tracekit/rules/library/), in the order the report
lists them when none fires; and the replay changes they recommend, in the order the what-if replay
and the plan try them (of two changes with equal gains the plan applies the earlier first).

Adding a rule: its module, and its RULE in RULES (and, if it has a replay change, its CHANGE in
CHANGES). docs/rules.md, "Adding a rule".
"""

from __future__ import annotations

from tracekit.analysis.changes import Change
from tracekit.rules.library import (
    ai_cpu,
    bigger_batch,
    core_limit,
    cpu_bound,
    exposed_communication,
    fuse_elementwise,
    graph_launch,
    h2d_batch,
    host_syncs,
    int64,
    memory_growth,
    mixed_precision,
    more_instances,
    overlap_copies,
    pin_memory,
    slow_rank,
    stage_balance,
    static_shapes,
)
from tracekit.rules.model import ClusterRule, Rule

RULES: tuple[Rule, ...] = (
    h2d_batch.RULE,
    pin_memory.RULE,
    overlap_copies.RULE,
    host_syncs.RULE,
    static_shapes.RULE,
    graph_launch.RULE,
    fuse_elementwise.RULE,
    exposed_communication.RULE,
    mixed_precision.RULE,
    ai_cpu.RULE,
    int64.RULE,
    more_instances.RULE,
    core_limit.RULE,
    bigger_batch.RULE,
    cpu_bound.RULE,
    memory_growth.RULE,
)

CHANGES: tuple[Change, ...] = (
    h2d_batch.CHANGE,
    pin_memory.CHANGE,
    overlap_copies.CHANGE,
    graph_launch.CHANGE,
    host_syncs.CHANGE,
    static_shapes.CHANGE,
    mixed_precision.CHANGE,
    fuse_elementwise.CHANGE,
    bigger_batch.CHANGE,
)
"""What `tracekit.analysis.analyze.analyze` replays (pass them as `changes`)."""

CLUSTER_RULES: tuple[ClusterRule, ...] = (slow_rank.RULE, stage_balance.RULE)
"""The cross-rank rules, evaluated on the `cluster` block of a multi-rank run (tracekit/rules/cluster.py)."""
