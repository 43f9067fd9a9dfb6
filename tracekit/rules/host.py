"""Rules on the host side of a step: synchronizations, CPU-bound work, pipeline stages, memory."""

from __future__ import annotations

import math

from tracekit.formatting import fmt_bytes, fmt_ns, fmt_share
from tracekit.rules.model import (
    FIRED,
    Context,
    Evidence,
    Gain,
    Outcome,
    amdahl,
    not_applicable,
    not_fired,
    replayed_gain,
)

CPU_BOUND_SHARE = 0.3
LOW_UTILIZATION = 0.5
STAGE_SHARE_MIN = 0.1
UNBALANCED_RATIO = 2.0
MAX_WORKERS = 8
LEAK_GROWING_SHARE = 0.8
LEAK_MIN_GROWTH = 1 << 20


def static_shapes(ctx: Context) -> Outcome:
    """Operators with data-dependent output shapes (nonzero, boolean masks, unique): the host waits
    for the device to learn each size. CUDA: the plan replays them static; Ascend: from the
    dynamic-shape finding, bounded by the idle time before those operators."""
    dynamic = ctx.document.get("ascend", {}).get("dynamic_shape")
    if dynamic is not None and dynamic.get("evaluated"):
        return _ascend_dynamic_shapes(ctx, dynamic)
    if ctx.device is None or not ctx.steps:
        return not_applicable("needs_steps_and_device")
    return _synchronizing(
        ctx, "static_shapes", "no_dynamic_shapes", "method.static_shapes", "assume.static_equivalent"
    )


def host_syncs(ctx: Context) -> Outcome:
    """The host reads device values inside the step (`.item()`, `.cpu()`, `if tensor:`) and waits
    for the device each time; the plan replays the step with only its last synchronization."""
    if ctx.device is None or not ctx.steps or ctx.platform == "ascend":
        return not_applicable("needs_steps_and_device")
    return _synchronizing(
        ctx, "remove_host_syncs", "no_mid_step_syncs", "method.remove_host_syncs", "assume.no_host_decision"
    )


def _synchronizing(ctx: Context, change: str, absent: str, method: str, assumption: str) -> Outcome:
    """A lever on the step's synchronizations: present when its change applies (else `absent`),
    with the synchronizations per step and the share of the step their change claims."""
    estimate = ctx.whatif.get(change, {})
    if not estimate.get("applicable"):
        return not_fired(absent)
    return Outcome(
        FIRED,
        params={"per_step": _syncs_per_step(ctx)},
        evidence=(
            Evidence("ev.syncs_per_step", f"{_syncs_per_step(ctx):.1f}", "host.sync_calls"),
            Evidence("ev.sync_wait_share", fmt_share(estimate["removable_share"]), "whatif.removable_share"),
        ),
        gain=Gain("step_time", None, method, (assumption,)),
    )


def _syncs_per_step(ctx: Context) -> float:
    return ctx.document["host"]["sync_calls"]["count"] / max(ctx.steps, 1)


def _ascend_dynamic_shapes(ctx: Context, dynamic: dict) -> Outcome:
    if not dynamic["detected"] or ctx.device is None:
        return not_fired("none_found")
    share = dynamic["idle_before_ns"] / max(ctx.device["window_ns"], 1)
    return Outcome(
        FIRED,
        planned=False,
        params={"per_step": dynamic["count"] / max(dynamic["steps"], 1)},
        evidence=(
            Evidence("ev.dynamic_ops", f"{dynamic['count']:,}", "ascend.dynamic_shape"),
            Evidence("ev.idle_before", fmt_ns(dynamic["idle_before_ns"]), "ascend.dynamic_shape"),
            Evidence("ev.targeted_share", fmt_share(share), "whatif.removable_share"),
        ),
        gain=Gain(
            metric="step_time",
            speedup=amdahl(share),
            method="method.dynamic_idle",
            assumptions=("assume.idle_removed",),
            amdahl_bound=amdahl(share),
            removable_share=share,
        ),
    )


def _stages(ctx: Context) -> dict | None:
    stages = ctx.whatif.get("pipeline")
    return stages if stages and stages.get("applicable") else None


def cpu_bound(ctx: Context) -> Outcome:
    """The device idles while the host does CPU work that launches nothing (pre/post-processing)."""
    stages = _stages(ctx)
    if ctx.device is None or stages is None:
        return not_applicable("needs_steps_and_device")
    host_share = stages["host_stage_ns"] / max(stages["baseline_step_ns"], 1)
    if host_share < CPU_BOUND_SHARE or (ctx.device["kernel_utilization"] or 0) >= LOW_UTILIZATION:
        return not_fired("host_not_dominant", share=host_share)
    return Outcome(
        FIRED,
        params={"share": fmt_share(host_share), "host": fmt_ns(stages["host_stage_ns"])},
        evidence=(
            Evidence("ev.host_stage", fmt_ns(stages["host_stage_ns"]), "whatif.pipeline"),
            Evidence("ev.device_stage", fmt_ns(stages["device_stage_ns"]), "whatif.pipeline"),
            Evidence("ev.host_share", fmt_share(host_share), "whatif.pipeline"),
        ),
        gain=replayed_gain(stages, "method.cpu_bound", "assume.overlap_host"),
    )


def pipeline_balance(ctx: Context) -> Outcome:
    """A host stage (pre/post-processing) much longer than the device stage: throughput is 1 / the
    slowest stage, so the host stage needs more workers. (A slow device stage is more-instances.)"""
    stages = _stages(ctx)
    if ctx.device is None or stages is None:
        return not_applicable("needs_steps_and_device")
    host, device, base = stages["host_stage_ns"], stages["device_stage_ns"], stages["baseline_step_ns"]
    if min(host, device) < STAGE_SHARE_MIN * base or device <= 0:
        return not_fired("one_stage", host=fmt_ns(host), device=fmt_ns(device))
    ratio = host / device
    if ratio < UNBALANCED_RATIO:
        return not_fired("host_not_slowest", ratio=ratio)
    workers = min(math.ceil(ratio), MAX_WORKERS)
    predicted = max(host / workers, device)
    return Outcome(
        FIRED,
        params={"ratio": ratio, "workers": workers},
        evidence=(
            Evidence("ev.host_stage", fmt_ns(host), "whatif.pipeline"),
            Evidence("ev.device_stage", fmt_ns(device), "whatif.pipeline"),
            Evidence("ev.stage_ratio", f"{ratio:.1f}x", "whatif.pipeline"),
        ),
        gain=Gain(
            metric="throughput",
            speedup=base / predicted,
            method="method.pipeline_balance",
            assumptions=("assume.stage_workers", "assume.overlap_host"),
            baseline_step_ns=base,
            predicted_step_ns=round(predicted),
            amdahl_bound=base / device,
        ),
    )


def memory_growth(ctx: Context) -> Outcome:
    """Device memory allocated at the end of each step keeps growing: a leak."""
    memory = (ctx.device or {}).get("memory")
    if not memory:
        return not_applicable("needs_memory_samples")
    growth = memory.get("growth_per_step_bytes") or 0
    total = (memory.get("end_bytes") or 0) - (memory.get("start_bytes") or 0)
    if (
        (memory.get("growing_steps_share") or 0) < LEAK_GROWING_SHARE
        or growth <= 0
        or total < LEAK_MIN_GROWTH
    ):
        return not_fired("memory_flat", growth=fmt_bytes(max(int(growth), 0)))
    return Outcome(
        FIRED,
        params={"growth": fmt_bytes(int(growth)), "share": fmt_share(memory["growing_steps_share"])},
        evidence=(
            Evidence("ev.growth_per_step", fmt_bytes(int(growth)), "memory.growth_per_step_bytes"),
            Evidence(
                "ev.growing_steps", fmt_share(memory["growing_steps_share"]), "memory.growing_steps_share"
            ),
            Evidence("ev.peak_memory", fmt_bytes(int(memory.get("peak_bytes") or 0)), "memory.peak_bytes"),
        ),
        gain=Gain(
            metric="memory", speedup=None, method="method.memory", assumptions=("assume.memory_trend",)
        ),
    )
