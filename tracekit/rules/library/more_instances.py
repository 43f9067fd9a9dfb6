"""more-instances: one stream leaves the device idle between short operators; run several."""

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
    not_applicable,
    not_fired,
)

LOW_UTILIZATION = 0.5
INSTANCES_MIN_GAIN = 1.3


def check(ctx: Context) -> Outcome:
    """One stream leaves the device idle between short operators: run several instances, up to the
    throughput bound of the busiest resource (`whatif.more_instances`)."""
    if ctx.device is None or ctx.whatif is None or not ctx.whatif.more_instances.applicable:
        return not_applicable("needs_steps_and_device")
    if training(ctx):
        return not_applicable("training")
    estimate, kernels = ctx.whatif.more_instances, ctx.whatif.kernels
    bubbles_per_step = ctx.device.bubbles.count / max(ctx.steps, 1)
    if kernels.streams > 1:
        return not_fired("already_parallel", streams=kernels.streams)
    if kernel_utilization(ctx) >= LOW_UTILIZATION:
        return not_fired("device_busy", utilization=kernel_utilization(ctx))
    if bubbles_per_step < 1 or estimate.throughput_bound < INSTANCES_MIN_GAIN:
        return not_fired("no_room", bound=estimate.throughput_bound)
    instances = estimate.suggested_instances
    speedup = min(instances, estimate.throughput_bound)
    return Outcome(
        FIRED,
        params={"instances": instances, "utilization": fmt_share(kernel_utilization(ctx))},
        evidence=(
            Evidence("ev.kernel_utilization", fmt_share(kernel_utilization(ctx)), "kernel_utilization"),
            Evidence("ev.bubbles_per_step", f"{bubbles_per_step:.1f}", "bubbles"),
            Evidence("ev.compute_share", fmt_share(estimate.compute_share), "whatif.engine_share"),
            Evidence("ev.copy_share", fmt_share(estimate.copy_share), "whatif.engine_share"),
            Evidence("ev.host_busy_share", fmt_share(estimate.host_share), "whatif.engine_share"),
        ),
        gain=Gain(
            metric="throughput",
            speedup=speedup,
            method="method.more_instances",
            assumptions=("assume.engines", "assume.host_parallel", "assume.latency_grows"),
            amdahl_bound=estimate.throughput_bound,
            removable_share=1 - 1 / estimate.throughput_bound,
        ),
    )


TEXTS = {
    "en": {
        "title": "Run several inference instances",
        "summary": "One stream keeps the device computing only {utilization} of the time; about {instances} "
        "instances would fill the gaps between operators.",
        "actions.cuda": [
            "Serve with {instances} model instances (processes, or threads with one CUDA stream each; e.g. "
            "Triton instance_group count: {instances}).",
            "Prefer processes over threads when host work holds the Python GIL.",
        ],
        "actions.ascend": [
            "Run {instances} inference instances in parallel threads, each with its own context/stream "
            "(case 000: 4 instances gave 2.08x the throughput).",
            "Watch latency: it grows with contention; limit cores per operator if instances collide.",
        ],
        "reason.already_parallel": "{streams} streams already run kernels",
        "reason.device_busy": "kernel utilization {utilization:.1%} is not low",
        "reason.no_room": "instances could gain at most {bound:.2f}x",
        "ev.bubbles_per_step": "bubbles per step",
        "ev.compute_share": "compute busy share of a step",
        "ev.copy_share": "copy engine busy share of a step",
        "ev.host_busy_share": "driving host thread busy share of a step",
        "method.more_instances": "throughput bound of identical instances: step time / busy time of the "
        "busiest resource in a step (compute engine, copy engines, driving host thread), capped at the "
        "suggested instance count",
        "assume.engines": "copies and kernels use separate engines; the busiest engine saturates",
        "assume.host_parallel": "host work of the instances runs in parallel (processes, or threads without "
        "a shared lock; a shared lock lowers the gain, as in case 000)",
        "assume.latency_grows": "per-request latency grows",
    },
    "zh": {
        "title": "运行多个推理实例",
        "summary": "单条流只让设备 {utilization} 的时间在计算；约 {instances} 个实例可以填满算子之间的空隙。",
        "actions.cuda": [
            "用 {instances} 个模型实例提供服务（多进程，或每个线程一条 CUDA 流；如 Triton instance_group count: {instances}）。",
            "主机侧工作持有 Python GIL 时，优先用多进程而不是多线程。",
        ],
        "actions.ascend": [
            "用 {instances} 个线程并行运行推理实例，每个实例有自己的 context/stream（案例 000：4 实例吞吐提升到 2.08 倍）。",
            "注意时延会随资源竞争上升；实例互相争抢时限制每个算子的核数。",
        ],
        "reason.already_parallel": "已有 {streams} 条流在执行核函数",
        "reason.device_busy": "核函数利用率 {utilization:.1%}，并不低",
        "reason.no_room": "多实例最多只能提升 {bound:.2f} 倍",
        "ev.bubbles_per_step": "每步空泡数",
        "ev.compute_share": "每步计算忙碌占比",
        "ev.copy_share": "每步拷贝引擎忙碌占比",
        "ev.host_busy_share": "每步驱动线程忙碌占比",
        "method.more_instances": "相同实例的吞吐上限：步长 / 一步内最忙资源（计算引擎、拷贝引擎、驱动线程）的忙碌时间，不超过建议的实例数",
        "assume.engines": "拷贝与核函数使用不同引擎；最忙的引擎达到饱和",
        "assume.host_parallel": "各实例的主机工作并行（多进程，或没有共享锁的线程；共享锁会降低收益，如案例 000）",
        "assume.latency_grows": "单请求时延会上升",
    },
}

RULE = Rule(id="more-instances", case_study="000", check=check, group=THROUGHPUT, texts=TEXTS)
