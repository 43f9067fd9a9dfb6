"""memory-growth: device memory allocated at the end of each step keeps growing (a leak)."""

from __future__ import annotations

from tracekit.formatting import fmt_bytes, fmt_share
from tracekit.rules.model import (
    FIRED,
    MEMORY,
    Context,
    Evidence,
    Gain,
    Outcome,
    Rule,
    not_applicable,
    not_fired,
)

LEAK_GROWING_SHARE = 0.8
LEAK_MIN_GROWTH = 1 << 20


def check(ctx: Context) -> Outcome:
    """Device memory allocated at the end of each step keeps growing: a leak."""
    memory = ctx.device.memory if ctx.device else None
    if not memory:
        return not_applicable("needs_memory_samples")
    growth = memory.growth_per_step_bytes or 0
    total = memory.end_bytes - memory.start_bytes
    if (memory.growing_steps_share or 0) < LEAK_GROWING_SHARE or growth <= 0 or total < LEAK_MIN_GROWTH:
        return not_fired("memory_flat", growth=fmt_bytes(max(int(growth), 0)))
    return Outcome(
        FIRED,
        params={"growth": fmt_bytes(int(growth)), "share": fmt_share(memory.growing_steps_share)},
        evidence=(
            Evidence("ev.growth_per_step", fmt_bytes(int(growth)), "memory.growth_per_step_bytes"),
            Evidence("ev.growing_steps", fmt_share(memory.growing_steps_share), "memory.growing_steps_share"),
            Evidence("ev.peak_memory", fmt_bytes(int(memory.peak_bytes)), "memory.peak_bytes"),
        ),
        gain=Gain(
            metric="memory", speedup=None, method="method.memory", assumptions=("assume.memory_trend",)
        ),
    )


TEXTS = {
    "en": {
        "title": "Find the device memory leak",
        "summary": "Allocated device memory grows by {growth} per step (in {share} of the steps): the "
        "process will run out of memory.",
        "actions.cuda": [
            "Look for tensors kept across steps (appended to lists, stored for logging without .detach() / "
            ".cpu(), caches without a bound); torch.cuda.memory._record_memory_history shows who allocates.",
        ],
        "reason.needs_memory_samples": "the trace has no device memory samples (record with "
        "profile_memory=True)",
        "reason.memory_flat": "allocated memory does not grow ({growth} per step)",
        "ev.growth_per_step": "growth per step",
        "ev.growing_steps": "steps that grew",
        "ev.peak_memory": "peak allocated",
        "method.memory": "no speed gain: the leak bounds how long the process can run",
        "assume.memory_trend": "the growth continues at the same rate",
    },
    "zh": {
        "title": "排查设备内存泄漏",
        "summary": "已分配的设备内存每步增长 {growth}（{share} 的步骤在增长）：进程终将耗尽内存。",
        "actions.cuda": [
            "查找跨步保留的张量（追加到列表、记录日志时未 .detach() / .cpu()、没有上限的缓存）；torch.cuda.memory._record_memory_history 可显示分配来源。",
        ],
        "reason.needs_memory_samples": "迹中没有设备内存采样（用 profile_memory=True 采集）",
        "reason.memory_flat": "已分配内存没有增长（每步 {growth}）",
        "ev.growth_per_step": "每步增长",
        "ev.growing_steps": "增长的步骤",
        "ev.peak_memory": "分配峰值",
        "method.memory": "没有速度收益：泄漏限制了进程能运行多久",
        "assume.memory_trend": "增长按相同速率持续",
    },
}

RULE = Rule(id="memory-growth", case_study="002", check=check, group=MEMORY, texts=TEXTS)
