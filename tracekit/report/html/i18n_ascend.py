"""The Ascend findings' and time breakdown's texts (tracekit/report/html/ascend.py), English and
Chinese; merged into the report's STRINGS (i18n.py)."""

from __future__ import annotations

ASCEND_STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "asc.finding": "finding",
        "asc.status": "status",
        "asc.evidence": "evidence",
        "asc.found": "found",
        "asc.not_found": "not found",
        "asc.not_evaluated": "not evaluated",
        "asc.h2d": "{count} H2D copies, {total}, up to {max_per_step} per step",
        "asc.ai_cpu": "{count} AI CPU operators, {total}",
        "asc.dynamic_shape": "{count} dynamic-shape operators, task wait {wait}",
        "asc.int64": "{count} operators with int64 inputs, {total}",
        "asc.block_dim": "core counts {cores}",
        "asc.breakdown": "Time per step: tracekit beside the profiler's own figures",
        "asc.step": "step",
        "asc.e2e": "step time",
        "asc.compute": "compute",
        "asc.communication": "communication",
        "asc.not_overlapped": "uncovered communication",
        "asc.free": "free",
        "asc.profiler": "profiler",
    },
    "zh": {
        "asc.finding": "诊断项",
        "asc.status": "状态",
        "asc.evidence": "证据",
        "asc.found": "发现",
        "asc.not_found": "未发现",
        "asc.not_evaluated": "未评估",
        "asc.h2d": "{count} 次 H2D 拷贝，{total}，每步最多 {max_per_step} 次",
        "asc.ai_cpu": "{count} 个 AI CPU 算子，{total}",
        "asc.dynamic_shape": "{count} 个动态 shape 算子，任务等待 {wait}",
        "asc.int64": "{count} 个带 int64 输入的算子，{total}",
        "asc.block_dim": "核数 {cores}",
        "asc.breakdown": "每步时间：tracekit 与 profiler 自身数据对照",
        "asc.step": "步骤",
        "asc.e2e": "步骤时间",
        "asc.compute": "计算",
        "asc.communication": "通信",
        "asc.not_overlapped": "未被掩盖的通信",
        "asc.free": "空闲",
        "asc.profiler": "profiler",
    },
}
