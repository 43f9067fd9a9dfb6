"""cpu-bound: the device idles while the host does CPU work that launches nothing."""

from __future__ import annotations

from tracekit.formatting import fmt_ns, fmt_share
from tracekit.rules.common import stages
from tracekit.rules.model import (
    FIRED,
    THROUGHPUT,
    Context,
    Evidence,
    Outcome,
    Rule,
    not_applicable,
    not_fired,
    replayed_gain,
)

CPU_BOUND_SHARE = 0.3
LOW_UTILIZATION = 0.5


def check(ctx: Context) -> Outcome:
    """The device idles while the host does CPU work that launches nothing (pre/post-processing)."""
    found = stages(ctx)
    if ctx.device is None or found is None:
        return not_applicable("needs_steps_and_device")
    host_share = found["host_stage_ns"] / max(found["baseline_step_ns"], 1)
    if host_share < CPU_BOUND_SHARE or (ctx.device["kernel_utilization"] or 0) >= LOW_UTILIZATION:
        return not_fired("host_not_dominant", share=host_share)
    return Outcome(
        FIRED,
        params={"share": fmt_share(host_share), "host": fmt_ns(found["host_stage_ns"])},
        evidence=(
            Evidence("ev.host_stage", fmt_ns(found["host_stage_ns"]), "whatif.pipeline"),
            Evidence("ev.device_stage", fmt_ns(found["device_stage_ns"]), "whatif.pipeline"),
            Evidence("ev.host_share", fmt_share(host_share), "whatif.pipeline"),
        ),
        gain=replayed_gain(found, "method.cpu_bound", "assume.overlap_host"),
    )


TEXTS = {
    "en": {
        "title": "Take CPU work off the critical path",
        "summary": "The device idles while the host does CPU work that launches nothing ({share} of the "
        "step, {host}): the pipeline is CPU-bound.",
        "actions.cuda": [
            "Move pre/post-processing to DataLoader workers or separate processes and overlap it with the "
            "GPU step; or do it on the GPU (e.g. DALI, torchvision.transforms.v2 on tensors).",
        ],
        "actions.ascend": [
            "Run pre/post-processing in separate threads or processes (or DVPP) and pipeline them with "
            "inference.",
        ],
        "reason.host_not_dominant": "host-only CPU work is {share:.1%} of the step",
        "ev.host_share": "host stage share of the step",
        "method.cpu_bound": "host-only CPU work overlapped with the device (pipelined): the step shrinks by "
        "the shorter of the two stages",
    },
    "zh": {
        "title": "把 CPU 工作移出关键路径",
        "summary": "主机执行不下发任何工作的 CPU 计算时设备空闲（占一步的 {share}，{host}）：流水线受 CPU 限制。",
        "actions.cuda": [
            "把前后处理放到 DataLoader 工作进程或独立进程中，与 GPU 步骤重叠；或在 GPU 上完成（如 DALI、对张量使用 torchvision.transforms.v2）。",
        ],
        "actions.ascend": [
            "在独立线程或进程（或 DVPP）中执行前后处理，并与推理组成流水线。",
        ],
        "reason.host_not_dominant": "仅主机的 CPU 工作占一步的 {share:.1%}",
        "ev.host_share": "主机阶段占比",
        "method.cpu_bound": "仅主机的 CPU 工作与设备重叠（流水线）：一步缩短两阶段中较短的一个",
    },
}

RULE = Rule(id="cpu-bound", case_study="002", check=check, group=THROUGHPUT, texts=TEXTS)
