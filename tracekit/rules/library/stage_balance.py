"""stage-balance: pipeline stages on different ranks take unequal time; the slowest sets the pace."""

from __future__ import annotations

from tracekit.formatting import fmt_ns, fmt_share
from tracekit.rules.model import (
    FIRED,
    THROUGHPUT,
    ClusterRule,
    Evidence,
    Gain,
    Outcome,
    not_applicable,
    not_fired,
)

BALANCE_MIN = 0.9
"""Fires when the mean stage is below this share of the slowest one."""


def check(cluster: dict) -> Outcome:
    """Unbalanced pipeline stages across ranks: throughput is 1 / the slowest stage."""
    pipeline = cluster.get("pipeline")
    if pipeline is None or not pipeline["applicable"]:
        return not_applicable("needs_pipeline_ranks")
    if (pipeline["balance"] or 1.0) >= BALANCE_MIN:
        return not_fired("stages_balanced", balance=fmt_share(pipeline["balance"]))
    speedup = pipeline["balanced_throughput_per_s"] / pipeline["throughput_per_s"]
    return Outcome(
        FIRED,
        params={
            "rank": pipeline["slowest_rank"],
            "slowest": fmt_ns(pipeline["slowest_ns"]),
            "mean": fmt_ns(pipeline["mean_ns"]),
            "throughput": pipeline["throughput_per_s"],
            "balanced": pipeline["balanced_throughput_per_s"],
        },
        evidence=(
            Evidence("ev.slowest_stage", fmt_ns(pipeline["slowest_ns"]), "cluster.pipeline"),
            Evidence("ev.mean_stage", fmt_ns(pipeline["mean_ns"]), "cluster.pipeline"),
            Evidence("ev.stage_balance", fmt_share(pipeline["balance"]), "cluster.pipeline"),
        ),
        gain=Gain(
            metric="throughput",
            speedup=speedup,
            method="method.stage_balance",
            assumptions=("assume.movable_layers",),
            baseline_step_ns=round(pipeline["slowest_ns"]),
            predicted_step_ns=round(pipeline["mean_ns"]),
        ),
        planned=False,
    )


TEXTS = {
    "en": {
        "title": "Balance the pipeline stages across ranks",
        "summary": "The stage on rank {rank} takes {slowest} per step, the mean stage {mean}: a pipeline runs "
        "at 1 / its slowest stage, {throughput:.1f} steps/s now, {balanced:.1f} steps/s with equal stages.",
        "actions.cuda": [
            "Move layers from the slow stage to the fast ones (the split points of torch.distributed.pipelining, "
            "Megatron's layers per pipeline stage), or split the slow stage's work further (interleaved / "
            "virtual pipeline stages).",
        ],
        "actions.ascend": [
            "Move layers from the slow stage to the fast ones (case 003: allocate resources per stage so "
            "that stages take equal time), or interleave virtual pipeline stages.",
        ],
        "reason.needs_pipeline_ranks": "needs ranks that pass activations point to point (send/recv)",
        "reason.stages_balanced": "mean stage / slowest stage = {balance} (fires below 90 %)",
        "ev.slowest_stage": "slowest stage per step",
        "ev.mean_stage": "mean stage per step",
        "ev.stage_balance": "mean / slowest",
        "method.stage_balance": "throughput = 1 / slowest stage; with equal stages 1 / the mean stage",
        "assume.movable_layers": "work can move between stages in small enough pieces",
    },
    "zh": {
        "title": "在 rank 之间平衡流水线阶段",
        "summary": "rank {rank} 上的阶段每步 {slowest}，阶段平均 {mean}：流水线的速度是 1 / 最慢阶段，"
        "当前每秒 {throughput:.1f} 步，阶段均衡时每秒 {balanced:.1f} 步。",
        "actions.cuda": [
            "把慢阶段的层移到快阶段（torch.distributed.pipelining 的切分点、Megatron 每个流水线阶段的层数），"
            "或进一步切分慢阶段的工作（交错 / 虚拟流水线阶段）。",
        ],
        "actions.ascend": [
            "把慢阶段的层移到快阶段（案例 003：按阶段分配资源使各阶段耗时相等），或使用交错的虚拟流水线阶段。",
        ],
        "reason.needs_pipeline_ranks": "需要以点对点（send/recv）传递激活的 rank",
        "reason.stages_balanced": "平均阶段 / 最慢阶段 = {balance}（低于 90 % 触发）",
        "ev.slowest_stage": "每步最慢阶段",
        "ev.mean_stage": "每步平均阶段",
        "ev.stage_balance": "平均 / 最慢",
        "method.stage_balance": "吞吐 = 1 / 最慢阶段；阶段均衡时为 1 / 平均阶段",
        "assume.movable_layers": "工作可以以足够小的粒度在阶段之间移动",
    },
}

RULE = ClusterRule(id="stage-balance", case_study="003", check=check, group=THROUGHPUT, texts=TEXTS)
