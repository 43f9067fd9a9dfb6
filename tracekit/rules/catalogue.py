"""The rules tracekit checks, in the order the report lists them when none fires."""

from __future__ import annotations

from tracekit.rules import compute, copies, host
from tracekit.rules.model import Rule

RULES: tuple[Rule, ...] = (
    Rule("h2d-batch", "000", copies.batch_h2d),
    Rule("pin-memory", "002", copies.pin_memory),
    Rule("overlap-copies", "002", copies.overlap_copies),
    Rule("more-instances", "000", compute.more_instances),
    Rule("core-limit", "000", compute.core_limit),
    Rule("bigger-batch", "000", compute.bigger_batch),
    Rule("graph-launch", "002", compute.graph_launch),
    Rule("static-shapes", "001", host.static_shapes),
    Rule("ai-cpu", "001", compute.ai_cpu_operators),
    Rule("int64", "001", compute.int64_operators),
    Rule("mixed-precision", "002", compute.mixed_precision),
    Rule("cpu-bound", "002", host.cpu_bound),
    Rule("pipeline-balance", "003", host.pipeline_balance),
    Rule("memory-growth", "002", host.memory_growth),
)
