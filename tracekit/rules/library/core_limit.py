"""core-limit: several instances whose operators never overlap; limit the cores per operator."""

from __future__ import annotations

from tracekit.formatting import fmt_share
from tracekit.rules.common import kernel_utilization, training
from tracekit.rules.model import (
    FIRED,
    THROUGHPUT,
    Context,
    Evidence,
    Gain,
    Outcome,
    Rule,
    amdahl,
    not_applicable,
    not_fired,
)

SERIALIZED_OVERLAP_MAX = 0.05
BUSY_FOR_CONTENTION = 0.3


def check(ctx: Context) -> Outcome:
    """Several streams whose operators never overlap: each takes every core; limit cores per operator."""
    if ctx.device is None or ctx.whatif is None:
        return not_applicable("needs_device")
    if training(ctx):
        return not_applicable("training")
    kernels = ctx.whatif.kernels
    if kernels.instances < 2 or kernels.streams < 2:
        return not_fired("one_instance", streams=kernels.streams)
    overlap = 1 - kernels.union_ns / kernels.sum_ns if kernels.sum_ns else 0.0
    if overlap > SERIALIZED_OVERLAP_MAX or kernel_utilization(ctx) < BUSY_FOR_CONTENTION:
        return not_fired("streams_overlap", overlap=overlap)
    share = (1 - 1 / kernels.streams) * kernel_utilization(ctx)
    return Outcome(
        FIRED,
        params={"streams": kernels.streams, "overlap": fmt_share(overlap)},
        evidence=(
            Evidence("ev.kernel_streams", str(kernels.streams), "whatif.kernels"),
            Evidence("ev.kernel_overlap", fmt_share(overlap), "whatif.kernel_overlap"),
            Evidence("ev.kernel_utilization", fmt_share(kernel_utilization(ctx)), "kernel_utilization"),
        ),
        gain=Gain(
            metric="throughput",
            speedup=amdahl(share),
            method="method.core_limit",
            assumptions=("assume.bound_only", "assume.fixed_cost_ops"),
            amdahl_bound=amdahl(share),
            removable_share=share,
        ),
    )


TEXTS = {
    "en": {
        "title": "Limit the cores each operator may use",
        "summary": "{streams} streams run kernels but they overlap only {overlap} of the time: each "
        "operator takes every core, so instances queue behind each other.",
        "actions.ascend": [
            'Build the model with ge.aicoreNum (e.g. "8|8" cube|vector cores per operator) so operators '
            "of different instances run side by side (case 000: +19.5 % throughput at 4 instances).",
        ],
        "actions.cuda": [
            "Share the GPU between instances with MPS and CUDA_MPS_ACTIVE_THREAD_PERCENTAGE, or with MIG "
            "partitions, so kernels of different instances run concurrently.",
        ],
        "reason.streams_overlap": "kernels of different streams overlap {overlap:.1%} of their time",
        "ev.kernel_streams": "streams with kernels",
        "ev.kernel_overlap": "kernel time overlapping another stream",
        "method.core_limit": "upper bound: serialized kernel time that could overlap across streams, (1 - "
        "1/streams) x kernel utilization, removed",
        "assume.bound_only": "not replayed: an upper bound",
        "assume.fixed_cost_ops": "operators are dominated by fixed costs, so fewer cores barely slow them",
        "reason.one_instance": "one instance drives the device ({streams} streams, but its other streams "
        "copy or communicate)",
    },
    "zh": {
        "title": "限制每个算子可用的核数",
        "summary": "{streams} 条流在执行核函数，但只有 {overlap} 的时间重叠：每个算子占满所有核，实例之间相互排队。",
        "actions.ascend": [
            '用 ge.aicoreNum 构建模型（如 "8|8"，即每个算子的 cube|vector 核数），让不同实例的算子并行执行（案例 000：4 实例时吞吐 +19.5 %）。',
        ],
        "actions.cuda": [
            "用 MPS 与 CUDA_MPS_ACTIVE_THREAD_PERCENTAGE 或 MIG 分区在实例间共享 GPU，让不同实例的核函数并发执行。",
        ],
        "reason.streams_overlap": "不同流的核函数有 {overlap:.1%} 的时间重叠",
        "ev.kernel_streams": "执行核函数的流",
        "ev.kernel_overlap": "与其他流重叠的核函数时间",
        "method.core_limit": "上限：可在流之间重叠的串行核函数时间 (1 - 1/流数) × 核函数利用率 被消除",
        "assume.bound_only": "未重放：这是上限",
        "assume.fixed_cost_ops": "算子受固定开销主导，减少核数几乎不会变慢",
        "reason.one_instance": "只有一个实例驱动设备（{streams} 条流，但其余的流用于拷贝或通信）",
    },
}

RULE = Rule(id="core-limit", case_study="000", check=check, group=THROUGHPUT, texts=TEXTS)
