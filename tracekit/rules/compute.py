"""Rules on how the device computes: instances, core limits, batch size, launches, precision and
slow operator types."""

from __future__ import annotations

import re

from tracekit.formatting import fmt_ns, fmt_share
from tracekit.rules.model import (
    FIRED,
    Context,
    Evidence,
    Gain,
    Outcome,
    amdahl,
    not_applicable,
    not_fired,
)

LOW_UTILIZATION = 0.5
INSTANCES_MIN_GAIN = 1.3
SERIALIZED_OVERLAP_MAX = 0.05
BUSY_FOR_CONTENTION = 0.3
FP32_GEMM = re.compile(r"sgemm|f32f32|gemm_f32|scudnn|_fp32_|cutlass.*_f32", re.IGNORECASE)
TENSOR_FAMILIES = ("matmul", "convolution", "attention")
INT64_TO_INT32 = 30 / 230  # case 001: an int64 Equal took 230 us, its int32 form ~30 us


def _kernel_utilization(ctx: Context) -> float:
    return ctx.device["kernel_utilization"] or 0.0


def training(ctx: Context) -> bool:
    """Training steps (backward passes, optimizer updates) get no inference-serving advice."""
    return ctx.document["trace"].get("workload", {}).get("kind") == "training"


def more_instances(ctx: Context) -> Outcome:
    """One stream leaves the device idle between short operators: run several instances."""
    if ctx.device is None or not ctx.whatif.get("more_instances", {}).get("applicable"):
        return not_applicable("needs_steps_and_device")
    if training(ctx):
        return not_applicable("training")
    estimate, kernels = ctx.whatif["more_instances"], ctx.whatif["kernels"]
    bubbles_per_step = ctx.device["bubbles"]["count"] / max(ctx.steps, 1)
    if kernels["streams"] > 1:
        return not_fired("already_parallel", streams=kernels["streams"])
    if _kernel_utilization(ctx) >= LOW_UTILIZATION:
        return not_fired("device_busy", utilization=_kernel_utilization(ctx))
    if bubbles_per_step < 1 or estimate["throughput_bound"] < INSTANCES_MIN_GAIN:
        return not_fired("no_room", bound=estimate["throughput_bound"])
    instances = estimate["suggested_instances"]
    speedup = min(instances, estimate["throughput_bound"])
    return Outcome(
        FIRED,
        params={"instances": instances, "utilization": fmt_share(_kernel_utilization(ctx))},
        evidence=(
            Evidence("ev.kernel_utilization", fmt_share(_kernel_utilization(ctx)), "kernel_utilization"),
            Evidence("ev.bubbles_per_step", f"{bubbles_per_step:.1f}", "bubbles"),
            Evidence("ev.compute_share", fmt_share(estimate["compute_share"]), "whatif.engine_share"),
            Evidence("ev.copy_share", fmt_share(estimate["copy_share"]), "whatif.engine_share"),
            Evidence("ev.host_busy_share", fmt_share(estimate["host_share"]), "whatif.engine_share"),
        ),
        gain=Gain(
            metric="throughput",
            speedup=speedup,
            method="method.more_instances",
            assumptions=("assume.engines", "assume.host_parallel", "assume.latency_grows"),
            amdahl_bound=estimate["throughput_bound"],
            removable_share=1 - 1 / estimate["throughput_bound"],
        ),
    )


def core_limit(ctx: Context) -> Outcome:
    """Several streams whose operators never overlap: each takes every core; limit cores per operator."""
    if ctx.device is None or "kernels" not in ctx.whatif:
        return not_applicable("needs_device")
    if training(ctx):
        return not_applicable("training")
    kernels = ctx.whatif["kernels"]
    if kernels.get("instances", 1) < 2 or kernels["streams"] < 2:
        return not_fired("one_instance", streams=kernels["streams"])
    overlap = 1 - kernels["union_ns"] / kernels["sum_ns"] if kernels["sum_ns"] else 0.0
    if overlap > SERIALIZED_OVERLAP_MAX or _kernel_utilization(ctx) < BUSY_FOR_CONTENTION:
        return not_fired("streams_overlap", overlap=overlap)
    share = (1 - 1 / kernels["streams"]) * _kernel_utilization(ctx)
    return Outcome(
        FIRED,
        params={"streams": kernels["streams"], "overlap": fmt_share(overlap)},
        evidence=(
            Evidence("ev.kernel_streams", str(kernels["streams"]), "whatif.kernels"),
            Evidence("ev.kernel_overlap", fmt_share(overlap), "whatif.kernel_overlap"),
            Evidence("ev.kernel_utilization", fmt_share(_kernel_utilization(ctx)), "kernel_utilization"),
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


def bigger_batch(ctx: Context) -> Outcome:
    """Operators of a few microseconds dominated by fixed costs: a bigger batch amortizes them."""
    if ctx.device is None or not ctx.whatif.get("bigger_batch", {}).get("applicable"):
        return not_applicable("needs_steps_and_device")
    if training(ctx):
        return not_applicable("training")
    kernels, estimate = ctx.whatif["kernels"], ctx.whatif["bigger_batch"]
    if estimate["throughput_gain"] is None:
        return not_fired("nothing_to_change")
    return Outcome(
        FIRED,
        params={"median": fmt_ns(kernels["median_ns"]), "factor": estimate["factor"]},
        evidence=(
            Evidence("ev.kernel_median", fmt_ns(kernels["median_ns"]), "whatif.kernels"),
            Evidence("ev.short_kernels", fmt_share(kernels["short_share"]), "whatif.kernels"),
            Evidence("ev.kernel_utilization", fmt_share(_kernel_utilization(ctx)), "kernel_utilization"),
        ),
        gain=Gain(
            metric="throughput",
            speedup=estimate["throughput_gain"],
            method="method.bigger_batch",
            assumptions=("assume.linear_work", "assume.memory_fits"),
            baseline_step_ns=estimate["baseline_step_ns"],
            predicted_step_ns=estimate["predicted_step_ns"],
            amdahl_bound=estimate["amdahl_bound"],
            latency_cost=estimate["predicted_step_ns"] / max(estimate["baseline_step_ns"], 1),
        ),
    )


def graph_launch(ctx: Context) -> Outcome:
    """Kernels launched one by one: capture the step as a graph (or fuse its kernels); the plan
    replays it, after the changes its precondition needs (no synchronization inside the step)."""
    if ctx.device is None or not ctx.device["launch"]["kernels_with_launch"]:
        return not_applicable("needs_launch_links")
    launch, bubbles = ctx.device["launch"], ctx.device["bubbles"]
    host_wait = bubbles["by_cause"]["host_wait"]["total_ns"] / max(ctx.device["window_ns"], 1)
    return Outcome(
        FIRED,
        params={"short": fmt_share(launch["short_kernel_share"] or 0), "wait": fmt_share(host_wait)},
        evidence=(
            Evidence(
                "ev.short_kernel_share",
                fmt_share(launch["short_kernel_share"] or 0),
                "launch.short_kernel_share",
            ),
            Evidence("ev.host_wait_share", fmt_share(host_wait), "bubbles.cause"),
            Evidence("ev.launch_call", fmt_ns(launch["call_p50_ns"]), "launch.delay"),
        ),
        gain=Gain("step_time", None, "method.graph_launch", ("assume.graph_capturable",)),
    )


def mixed_precision(ctx: Context) -> Outcome:
    """fp32 GEMMs, convolutions and the work around them on a GPU with faster bf16: each kernel's
    bf16 time from its operator's roofline and the GPU's peaks (tracekit/analysis/precision.py)."""
    if ctx.platform != "cuda" or ctx.device is None:
        return not_applicable("needs_cuda_kernel_names")
    groups = ctx.device.get("operators", [])
    if any(g.get("family") in TENSOR_FAMILIES and g.get("dtype") in ("bf16", "fp16") for g in groups):
        return not_fired("already_mixed")
    estimate = ctx.whatif.get("mixed_precision", {})
    if not estimate.get("applicable"):
        return _mixed_precision_without_model(ctx)
    fp32 = [g for g in groups if g.get("dtype") == "fp32"]
    share = sum(g["device_ns"] for g in fp32) / max(ctx.device["busy_ns"], 1)
    return Outcome(
        FIRED,
        params={"share": fmt_share(share)},
        evidence=(
            Evidence("ev.fp32_gemm_share", fmt_share(share), "operators"),
            Evidence("ev.kernel_utilization", fmt_share(_kernel_utilization(ctx)), "kernel_utilization"),
        ),
        gain=Gain(
            "step_time", None, "method.mixed_precision_roofline", ("assume.roofline_share", "assume.accuracy")
        ),
        offenders=_operator_rows(fp32[:10]),
    )


def _mixed_precision_without_model(ctx: Context) -> Outcome:
    """No dtypes recorded or no GPU row: say what is missing when fp32 GEMM kernels are present."""
    fp32 = [h for h in ctx.device["hotspots"] if FP32_GEMM.search(h["name"])]
    if not fp32:
        return not_fired("fp32_small", share=0.0)
    return not_applicable("needs_shapes_and_gpu")


def _operator_rows(groups: list[dict]) -> dict[str, list]:
    return {
        "columns": ["col.operator", "col.count", "col.total"],
        "rows": [[g["name"], g["count"], fmt_ns(g["device_ns"])] for g in groups],
    }


def _hotspot_rows(hotspots: list[dict]) -> dict[str, list]:
    return {
        "columns": ["col.kernel", "col.count", "col.total", "col.share"],
        "rows": [[h["name"], h["count"], fmt_ns(h["total_ns"]), fmt_share(h["share"])] for h in hotspots],
    }


def int64_operators(ctx: Context) -> Outcome:
    """Ascend operators with int64 inputs: int32 is far cheaper on the vector units."""
    return _ascend_operator_rule(ctx, "int64", INT64_TO_INT32, "method.int64", "assume.int64_ratio")


def ai_cpu_operators(ctx: Context) -> Outcome:
    """Ascend operators on the AI CPU: slow and serial; replace them with AI Core operators."""
    return _ascend_operator_rule(ctx, "ai_cpu", 0.0, "method.ai_cpu", "assume.ai_core_negligible")


def _ascend_operator_rule(ctx: Context, key: str, remaining: float, method: str, assumption: str) -> Outcome:
    """Fire on an Ascend finding; the gain shortens its operators to `remaining` of their time."""
    finding = ctx.document.get("ascend", {}).get(key)
    if finding is None or not finding.get("evaluated") or ctx.device is None:
        return not_applicable("needs_ascend_operator_data")
    if not finding["detected"]:
        return not_fired("none_found")
    share = finding["total_ns"] / max(ctx.device["window_ns"], 1)
    groups = finding["by_op_type"][:10]
    return Outcome(
        FIRED,
        params={"count": finding["count"], "time": fmt_ns(finding["total_ns"])},
        evidence=(
            Evidence("ev.operators", f"{finding['count']:,}", f"ascend.{key}"),
            Evidence("ev.operator_time", fmt_ns(finding["total_ns"]), f"ascend.{key}"),
            Evidence("ev.targeted_share", fmt_share(share), "whatif.removable_share"),
        ),
        gain=Gain(
            metric="step_time",
            speedup=amdahl(share * (1 - remaining)),
            method=method,
            assumptions=(assumption, "assume.serial_device"),
            amdahl_bound=amdahl(share),
            removable_share=share,
        ),
        offenders={"columns": ["col.op_type", "col.count", "col.total"], "rows": _group_rows(groups)},
    )


def _group_rows(groups: list[dict]) -> list[list]:
    return [[g.get("op_type") or g.get("name"), g.get("count"), fmt_ns(g.get("total_ns"))] for g in groups]
