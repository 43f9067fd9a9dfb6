"""The report's opening words ("Do this first", the no-steps hint, unknown values) and the case
studies' titles, in English and Simplified Chinese; merged into the report's STRINGS (i18n.py)."""

from __future__ import annotations

from tracekit.report.html.cases import case_strings

SUMMARY_EN: dict[str, str] = {
    "sec.do_first": "Do this first",
    "first.gain.step": "{speedup} step time",
    "first.gain.throughput": "{speedup} throughput",
    "first.gain.none": "gain not estimated",
    "first.none": "Nothing to change first: none of the {checked} rules found something on this trace.",
    "first.more": "{count} more finding(s) in Recommendations below.",
    "first.plan": "The {count} step-time changes together, in plan order: {baseline} -> {predicted} per "
    "step ({speedup}).",
    "steps.none_hint": "No ProfilerStep#N annotations, so no steps: per-step numbers and gains are missing. "
    "To make each repetition of a range one step, run tracekit analyze with {option}; the most frequent "
    "ranges in this trace: {ranges}.",
    "steps.none_no_ranges": "No ProfilerStep#N annotations, so no steps, and no NVTX range or annotation "
    "to make steps of (--steps nvtx:NAME).",
    "value.unknown": "unknown",
    "blk.sync_calls.ascend": "aclrtSynchronizeDevice / aclrtSynchronizeStream calls (host)",
    "rec.case_found": "What the case found",
}

SUMMARY_ZH: dict[str, str] = {
    "sec.do_first": "优先处理",
    "first.gain.step": "步骤时间 {speedup}",
    "first.gain.throughput": "吞吐量 {speedup}",
    "first.gain.none": "收益未估算",
    "first.none": "没有需要优先处理的事项：{checked} 条规则都未在此 trace 上发现问题。",
    "first.more": "下方“优化建议”中还有 {count} 条发现。",
    "first.plan": "按计划顺序同时做这 {count} 项步骤时间改动：每步 {baseline} -> {predicted}（{speedup}）。",
    "steps.none_hint": "没有 ProfilerStep#N 标注，因此没有步骤：缺少按步骤的数值和收益。若要把某个区间的每次"
    "重复作为一个步骤，请用 {option} 运行 tracekit analyze；此 trace 中最常见的区间：{ranges}。",
    "steps.none_no_ranges": "没有 ProfilerStep#N 标注，因此没有步骤；也没有可用于 --steps nvtx:NAME 的 NVTX "
    "区间或标注。",
    "value.unknown": "未知",
    "blk.sync_calls.ascend": "aclrtSynchronizeDevice / aclrtSynchronizeStream 调用（主机）",
    "rec.case_found": "案例的发现",
}

SUMMARY_STRINGS = {"en": SUMMARY_EN | case_strings("en"), "zh": SUMMARY_ZH | case_strings("zh")}
