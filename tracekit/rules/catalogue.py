"""The rules tracekit checks, in the order the report lists them when none fires.

Each rule names its group (latency, throughput, memory) and, for latency levers, the replay change it
recommends (tracekit/analysis/changes.py): the plan then decides whether it fires.
"""

from __future__ import annotations

from tracekit.rules import compute, copies, host
from tracekit.rules.model import MEMORY, THROUGHPUT, Rule

RULES: tuple[Rule, ...] = (
    Rule("h2d-batch", "000", copies.batch_h2d, change="batch_h2d"),
    Rule("pin-memory", "002", copies.pin_memory, change="pin_memory"),
    Rule("overlap-copies", "002", copies.overlap_copies, change="overlap_copies"),
    Rule("host-syncs", "002", host.host_syncs, change="remove_host_syncs"),
    Rule("static-shapes", "001", host.static_shapes, change="static_shapes"),
    Rule("graph-launch", "002", compute.graph_launch, change="graph_launch"),
    Rule("mixed-precision", "002", compute.mixed_precision, change="mixed_precision"),
    Rule("ai-cpu", "001", compute.ai_cpu_operators),
    Rule("int64", "001", compute.int64_operators),
    Rule("more-instances", "000", compute.more_instances, THROUGHPUT),
    Rule("core-limit", "000", compute.core_limit, THROUGHPUT),
    Rule("bigger-batch", "000", compute.bigger_batch, THROUGHPUT),
    Rule("cpu-bound", "002", host.cpu_bound, THROUGHPUT),
    Rule("pipeline-balance", "003", host.pipeline_balance, THROUGHPUT),
    Rule("memory-growth", "002", host.memory_growth, MEMORY),
)
