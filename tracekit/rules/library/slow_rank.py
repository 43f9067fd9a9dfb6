"""slow-rank: one rank computes longer than the others, and every rank waits for it (a straggler)."""

from __future__ import annotations

from tracekit.formatting import fmt_ns, fmt_share
from tracekit.rules.model import FIRED, ClusterRule, Evidence, Gain, Outcome, not_applicable, not_fired


def check(cluster: dict) -> Outcome:
    """The cluster's slow rank (analysis/cluster.py): its excess per step is the others' wait."""
    slow = cluster.get("slow_rank")
    if slow is None or slow.get("speedup") is None:
        return not_applicable("needs_ranks_with_steps")
    if (cluster.get("pipeline") or {}).get("applicable"):
        return not_fired("pipeline_stages")  # ranks that differ by stage: stage-balance says it
    if not slow["slow"]:
        return not_fired("no_straggler", rank=slow["rank"], share=fmt_share(slow["excess_share"]))
    z = slow["z_compute"] if slow["metric"] == "compute" else slow["z_step"]
    return Outcome(
        FIRED,
        params={
            "rank": slow["rank"],
            "excess": fmt_ns(slow["excess_ns"]),
            "share": fmt_share(slow["excess_share"]),
            "metric": slow["metric"],
        },
        evidence=(
            Evidence("ev.slow_rank_time", fmt_ns(slow["value_ns"]), "cluster.slow_rank"),
            Evidence("ev.others_median", fmt_ns(slow["others_median_ns"]), "cluster.slow_rank"),
            Evidence("ev.excess_share", fmt_share(slow["excess_share"]), "cluster.slow_rank"),
            Evidence("ev.z_score", "-" if z is None else f"{z:+.2f}", "cluster.slow_rank"),
        ),
        gain=Gain(
            metric="step_time",
            speedup=slow["speedup"],
            method="method.slow_rank",
            assumptions=("assume.ranks_wait",),
            baseline_step_ns=slow["baseline_step_ns"],
            predicted_step_ns=slow["predicted_step_ns"],
        ),
        planned=False,
    )


TEXTS = {
    "en": {
        "title": "Fix the slow rank (straggler)",
        "summary": "Rank {rank} spends {excess} more in {metric} than the median of the other ranks ({share} "
        "more); every rank waits for it at each collective.",
        "actions.cuda": [
            "Compare the slow rank with another one: tracekit diff reports/<run>.rank<M>.analysis.json "
            "reports/<run>.rank{rank}.analysis.json shows which operators take longer there.",
            "Balance the work: samples of uneven length (sort or bucket by length), uneven expert load in "
            "MoE, an uneven pipeline or tensor split.",
            "Check the device and its host: clocks and throttling (nvidia-smi -q -d PERFORMANCE), other "
            "processes on the GPU or CPU, CPU affinity of the rank's process.",
        ],
        "actions.ascend": [
            "Compare the slow rank with another one (tracekit diff of their analyses) and check its operators, "
            "its input sizes and the NPU's frequency (AI Core Freq) and temperature.",
            "Balance the work across ranks (uneven sequence lengths, expert load, pipeline split).",
        ],
        "reason.needs_ranks_with_steps": "needs two or more ranks with steps",
        "reason.no_straggler": "the slowest rank, {rank}, exceeds the others' median by {share} (fires at 5 %)",
        "reason.pipeline_stages": "the ranks are pipeline stages, which differ by design (stage-balance)",
        "ev.slow_rank_time": "slow rank",
        "ev.others_median": "median of the other ranks",
        "ev.excess_share": "excess over the median",
        "ev.z_score": "z-score (from 3 ranks on)",
        "method.slow_rank": "every rank waits for the slow one at the collectives: step = slowest step - its "
        "excess per step",
        "assume.ranks_wait": "the ranks synchronize at every collective (data or tensor parallelism)",
    },
    "zh": {
        "title": "解决慢 rank（拖后腿的 rank）",
        "summary": "rank {rank} 的 {metric} 时间比其他 rank 的中位数多 {excess}（多 {share}）；每次集合通信时所有 rank "
        "都在等它。",
        "actions.cuda": [
            "把慢 rank 与其他 rank 比较：tracekit diff reports/<run>.rank<M>.analysis.json "
            "reports/<run>.rank{rank}.analysis.json 会显示哪些算子在它上面更慢。",
            "均衡工作量：样本长度不一（按长度排序或分桶）、MoE 专家负载不均、流水线或张量切分不均。",
            "检查设备与主机：时钟与降频（nvidia-smi -q -d PERFORMANCE）、GPU 或 CPU 上的其他进程、该 rank 进程的 CPU 亲和性。",
        ],
        "actions.ascend": [
            "把慢 rank 与其他 rank 比较（对两者的分析做 tracekit diff），检查其算子、输入大小以及 NPU 频率（AI Core Freq）与温度。",
            "在 rank 之间均衡工作量（序列长度不一、专家负载、流水线切分）。",
        ],
        "reason.needs_ranks_with_steps": "需要两个或更多带步骤的 rank",
        "reason.no_straggler": "最慢的 rank {rank} 比其他 rank 的中位数多 {share}（5 % 起触发）",
        "reason.pipeline_stages": "各 rank 是流水线阶段，本就不同（见 stage-balance）",
        "ev.slow_rank_time": "慢 rank",
        "ev.others_median": "其他 rank 的中位数",
        "ev.excess_share": "超出中位数",
        "ev.z_score": "z 分数（3 个 rank 起）",
        "method.slow_rank": "每次集合通信所有 rank 都等慢 rank：一步 = 最慢的一步 - 它每步多出的时间",
        "assume.ranks_wait": "各 rank 在每次集合通信时同步（数据并行或张量并行）",
    },
}

RULE = ClusterRule(id="slow-rank", case_study=None, check=check, texts=TEXTS)
