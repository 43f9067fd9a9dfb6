"""pipeline-balance: a host stage much longer than the device stage needs more workers."""

from __future__ import annotations

import math

from tracekit.formatting import fmt_ns
from tracekit.rules.common import stages
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

STAGE_SHARE_MIN = 0.1
UNBALANCED_RATIO = 2.0
MAX_WORKERS = 8


def check(ctx: Context) -> Outcome:
    """A host stage (pre/post-processing) much longer than the device stage: throughput is 1 / the
    slowest stage, so the host stage needs more workers. (A slow device stage is more-instances.)"""
    found = stages(ctx)
    if ctx.device is None or found is None:
        return not_applicable("needs_steps_and_device")
    host, device, base = found["host_stage_ns"], found["device_stage_ns"], found["baseline_step_ns"]
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


TEXTS = {
    "en": {
        "title": "Balance the pipeline stages",
        "summary": "The host stage (pre/post-processing) is {ratio:.1f}x longer than the device stage; "
        "throughput is 1 / the slowest stage, so give it about {workers} workers.",
        "actions.cuda": [
            "Run {workers} workers for the slow stage (e.g. DataLoader num_workers) and connect stages with "
            "queues so they overlap.",
        ],
        "actions.ascend": [
            "Allocate resources per stage statically (case 003): {workers} pre-processing workers feeding "
            "one inference stage through a queue.",
        ],
        "reason.one_stage": "one stage dominates (host {host}, device {device})",
        "reason.host_not_slowest": "host stage / device stage = {ratio:.1f} (fires at 2)",
        "ev.stage_ratio": "slow / fast stage",
        "method.pipeline_balance": "step = max(slow stage / workers, fast stage) with the stages pipelined",
        "assume.stage_workers": "the slow stage scales with its workers",
    },
    "zh": {
        "title": "平衡流水线各阶段",
        "summary": "主机阶段（前后处理）比设备阶段长 {ratio:.1f} 倍；吞吐量 = 1 / 最慢阶段，应为其分配约 {workers} 个工作者。",
        "actions.cuda": [
            "慢阶段运行 {workers} 个工作者（如 DataLoader num_workers），阶段之间用队列连接以便重叠。",
        ],
        "actions.ascend": [
            "按阶段静态分配资源（案例 003）：{workers} 个前处理工作者通过队列为一个推理阶段供数。",
        ],
        "reason.one_stage": "单一阶段占主导（主机 {host}，设备 {device}）",
        "reason.host_not_slowest": "主机阶段 / 设备阶段 = {ratio:.1f}（达到 2 时触发）",
        "ev.stage_ratio": "慢 / 快阶段",
        "method.pipeline_balance": "流水线化后 一步 = max(慢阶段 / 工作者数, 快阶段)",
        "assume.stage_workers": "慢阶段可随工作者数扩展",
    },
}

RULE = Rule(id="pipeline-balance", case_study="003", check=check, group=THROUGHPUT, texts=TEXTS)
