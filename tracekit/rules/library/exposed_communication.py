"""exposed-communication: collectives that no compute hides take a large share of the device window."""

from __future__ import annotations

from tracekit.analysis.document.communication import Collective
from tracekit.formatting import fmt_ns, fmt_share
from tracekit.rules.model import (
    FIRED,
    Context,
    Evidence,
    Gain,
    Outcome,
    Rule,
    amdahl,
    not_applicable,
    not_fired,
    older_analysis,
)

EXPOSED_SHARE_MIN = 0.1
"""Fires when exposed communication is at least this share of the device window (msprof-analyze's
advisor flags communication above 10 % of the step)."""


def check(ctx: Context) -> Outcome:
    """Communication not under compute: overlap it, make it cheaper; its removal is the bound."""
    if ctx.device is None:
        return not_applicable("needs_device")
    communication = ctx.device.communication
    if communication is None:  # written before the block, or under measures_only
        return older_analysis("devices[].communication")
    if not communication.communication_ns:
        return not_fired("no_communication")
    share = communication.exposed_share or 0.0
    if share < EXPOSED_SHARE_MIN:
        return not_fired("communication_hidden", share=fmt_share(share), minimum=fmt_share(EXPOSED_SHARE_MIN))
    hideable = min(communication.exposed_ns, communication.split.compute_ns - communication.overlap_ns)
    return Outcome(
        FIRED,
        params={"share": fmt_share(share), "time": fmt_ns(communication.exposed_ns)},
        evidence=(
            Evidence(
                "ev.exposed_communication", fmt_ns(communication.exposed_ns), "communication.exposed_ns"
            ),
            Evidence("ev.exposed_communication_share", fmt_share(share), "communication.exposed_ns"),
            Evidence(
                "ev.overlap_ratio", fmt_share(communication.overlap_ratio), "communication.overlap_ratio"
            ),
            Evidence("ev.hideable_under_compute", fmt_ns(max(hideable, 0)), "communication.split"),
        ),
        gain=Gain(
            metric="step_time",
            speedup=amdahl(share),
            method="method.exposed_communication",
            assumptions=("assume.communication_removable", "assume.communication_on_path"),
            amdahl_bound=amdahl(share),
            removable_share=share,
        ),
        offenders=_collective_rows(communication.collectives),
        planned=False,
    )


def _collective_rows(collectives: list[Collective]) -> dict[str, list] | None:
    if not collectives:
        return None
    ordered = sorted(collectives, key=lambda row: -row.total_ns)
    rows = [
        [row.type, row.count, fmt_ns(row.total_ns), _gbps(row.algbw_gbps), _gbps(row.busbw_gbps)]
        for row in ordered
    ]
    return {"columns": ["col.collective", "col.count", "col.total", "col.algbw", "col.busbw"], "rows": rows}


def _gbps(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} GB/s"


TEXTS = {
    "en": {
        "title": "Hide or shrink the exposed communication",
        "summary": "Collectives run with no compute under them for {time} ({share} of the device window): "
        "the device waits on communication.",
        "actions.cuda": [
            "Overlap the collectives with compute: DDP all-reduces gradient buckets during backward (keep "
            "find_unused_parameters off, tune bucket_cap_mb: larger buckets mean fewer, faster all-reduces, "
            "smaller ones start earlier); FSDP: forward_prefetch and backward_prefetch.",
            "Keep communication kernels from queueing behind compute: a high-priority NCCL stream "
            "(ProcessGroupNCCL.Options is_high_priority_stream=True) and no synchronize right after a collective.",
            "Send fewer bytes: bf16 gradients (DDP comm hook bf16_compress_hook), gradient accumulation "
            "with no_sync(); compare busbw with the link's bandwidth (nccl-tests) to spot a slow link.",
        ],
        "actions.ascend": [
            "Overlap HCCL with compute: all-reduce gradient buckets during backward (DDP bucket_cap_mb; "
            "Megatron overlap_grad_reduce / overlap_param_gather), no stream synchronize right after a "
            "collective.",
            "Send fewer, larger messages (fuse gradients into bigger buckets, bf16 gradients) and compare "
            "the achieved bandwidth with HCCS / RoCE; msprof-analyze cluster (slow_link) finds slow links.",
        ],
        "reason.no_communication": "no communication on the device",
        "reason.communication_hidden": "exposed communication is {share} of the device window (fires at "
        "{minimum})",
        "ev.exposed_communication": "exposed communication",
        "ev.exposed_communication_share": "share of the device window",
        "ev.overlap_ratio": "communication under compute",
        "ev.hideable_under_compute": "compute left to hide it under",
        "method.exposed_communication": "bound: the exposed communication removed from the device window "
        "(1 / (1 - f)); overlapping alone hides at most the compute left to hide it under",
        "assume.communication_removable": "overlap and cheaper collectives remove the exposed time",
        "assume.communication_on_path": "the exposed communication is on the step's critical path",
        "col.collective": "collective",
        "col.algbw": "algbw",
        "col.busbw": "busbw",
    },
    "zh": {
        "title": "掩盖或缩短未被掩盖的通信",
        "summary": "集合通信执行时设备上没有计算，共 {time}（占设备时间窗的 {share}）：设备在等通信。",
        "actions.cuda": [
            "让集合通信与计算重叠：DDP 在反向传播中按桶做梯度 all-reduce（关闭 find_unused_parameters，调整 "
            "bucket_cap_mb：桶大则次数少、效率高，桶小则开始得早）；FSDP 打开 forward_prefetch 与 backward_prefetch。",
            "避免通信核函数排在计算之后：使用高优先级 NCCL 流（ProcessGroupNCCL.Options is_high_priority_stream=True），"
            "集合通信后不要立即同步。",
            "减少通信字节：bf16 梯度（DDP 通信钩子 bf16_compress_hook）、用 no_sync() 做梯度累积；把 busbw 与链路带宽"
            "（nccl-tests）比较，找出慢链路。",
        ],
        "actions.ascend": [
            "让 HCCL 与计算重叠：在反向传播中按桶做梯度 all-reduce（DDP bucket_cap_mb；Megatron overlap_grad_reduce / "
            "overlap_param_gather），集合通信后不要立即同步流。",
            "发送更少、更大的消息（把梯度合并为更大的桶、bf16 梯度），并把实测带宽与 HCCS / RoCE 比较；msprof-analyze "
            "cluster（slow_link）可找出慢链路。",
        ],
        "reason.no_communication": "设备上没有通信",
        "reason.communication_hidden": "未被掩盖的通信占设备时间窗的 {share}（{minimum} 起触发）",
        "ev.exposed_communication": "未被掩盖的通信",
        "ev.exposed_communication_share": "占设备时间窗",
        "ev.overlap_ratio": "被计算掩盖的通信",
        "ev.hideable_under_compute": "可用于掩盖的剩余计算",
        "method.exposed_communication": "上限：从设备时间窗中去掉未被掩盖的通信（1 / (1 - f)）；仅靠重叠最多只能掩盖剩余的计算时间",
        "assume.communication_removable": "重叠与更高效的集合通信可去掉未被掩盖的时间",
        "assume.communication_on_path": "未被掩盖的通信位于一步的关键路径上",
        "col.collective": "集合通信",
        "col.algbw": "算法带宽",
        "col.busbw": "总线带宽",
    },
}

RULE = Rule(id="exposed-communication", case_study=None, check=check, texts=TEXTS)
