"""The cluster report's texts (tracekit/report/html/cluster.py), English and Chinese."""

from __future__ import annotations

TEXTS = {
    "en": {
        "cl.title": "Cluster report: {ranks} ranks",
        "cl.generated": "tracekit {version}; rank ids from {source}",
        "cl.sec.ranks": "Ranks",
        "cl.sec.slow": "Slow rank",
        "cl.sec.skew": "Collective arrival skew",
        "cl.sec.pipeline": "Pipeline stages",
        "cl.sec.recommendations": "Recommendations",
        "cl.chart": "Each rank's device window: compute, exposed communication, copies, idle (ms)",
        "cl.rank": "rank", "cl.step": "step p50", "cl.compute": "compute", "cl.communication": "communication",
        "cl.exposed": "exposed communication", "cl.copies": "copies", "cl.idle": "idle", "cl.overlap": "overlap",
        "cl.source": "trace", "cl.profiler_free": "profiler Free", "cl.profiler_comm": "profiler Communication",
        "cl.slow": "Rank {rank} is slow: its {metric} time {value} exceeds the other ranks' median {median} by "
        "{share} (threshold {threshold}). The others wait for it at every collective.",
        "cl.not_slow": "No slow rank: the slowest, rank {rank}, exceeds the other ranks' median {metric} time by "
        "{share} (threshold {threshold}).",
        "cl.z": "z-scores: step {z_step}, compute {z_compute} (from 3 ranks on).",
        "cl.type": "type", "cl.matched": "matched", "cl.skew_p50": "skew p50", "cl.skew_max": "skew max",
        "cl.skew_total": "skew total", "cl.last": "last to arrive most often",
        "cl.no_skew": "No collective is present in every rank (same step, type and sequence number).",
        "cl.stage": "stage per step", "cl.pipeline": "Slowest stage: rank {rank}, {slowest} per step; balance "
        "{balance} (mean / slowest); throughput {throughput}/s, {balanced}/s if balanced.",
        "cl.no_recommendations": "No cross-rank finding.",
    },
    "zh": {
        "cl.title": "集群报告：{ranks} 个 rank",
        "cl.generated": "tracekit {version}；rank 编号来自 {source}",
        "cl.sec.ranks": "各 rank",
        "cl.sec.slow": "慢 rank",
        "cl.sec.skew": "集合通信到达偏差",
        "cl.sec.pipeline": "流水线阶段",
        "cl.sec.recommendations": "建议",
        "cl.chart": "各 rank 设备窗口：计算、未掩盖通信、拷贝、空闲（毫秒）",
        "cl.rank": "rank", "cl.step": "步骤 p50", "cl.compute": "计算", "cl.communication": "通信",
        "cl.exposed": "未掩盖通信", "cl.copies": "拷贝", "cl.idle": "空闲", "cl.overlap": "重叠",
        "cl.source": "trace", "cl.profiler_free": "profiler Free", "cl.profiler_comm": "profiler Communication",
        "cl.slow": "rank {rank} 是慢 rank：其{metric}时间 {value} 比其他 rank 的中位数 {median} 多 {share}"
        "（阈值 {threshold}）。其他 rank 在每次集合通信时都在等它。",
        "cl.not_slow": "没有慢 rank：最慢的 rank {rank} 的{metric}时间比其他 rank 的中位数多 {share}（阈值 {threshold}）。",
        "cl.z": "z 分数：步骤 {z_step}，计算 {z_compute}（3 个 rank 起给出）。",
        "cl.type": "类型", "cl.matched": "匹配数", "cl.skew_p50": "偏差 p50", "cl.skew_max": "偏差最大",
        "cl.skew_total": "偏差合计", "cl.last": "最常最后到达",
        "cl.no_skew": "没有在每个 rank 中都出现的集合通信（同一步骤、类型和序号）。",
        "cl.stage": "每步阶段时间", "cl.pipeline": "最慢阶段：rank {rank}，每步 {slowest}；均衡度 {balance}"
        "（平均 / 最慢）；吞吐 {throughput}/秒，均衡时 {balanced}/秒。",
        "cl.no_recommendations": "没有跨 rank 的发现。",
    },
}  # fmt: skip
