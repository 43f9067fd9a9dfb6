"""The report's words for the step-time attribution and the plan, in English and Simplified Chinese.

Merged into i18n.STRINGS; both languages have exactly the same keys and fields (checked by
tests/unit/test_html_report.py). Category meanings follow tracekit/analysis/attribution.py.
"""

# Chinese texts use full-width punctuation, and a CJK character is two columns wide (as i18n.py).

from __future__ import annotations

CATEGORY_LABELS_EN = {
    "compute": "compute",
    "communication": "communication",
    "copy_h2d_pageable": "H2D copy (pageable)",
    "copy_h2d_pinned": "H2D copy (pinned)",
    "copy_h2d": "H2D copy (pinning unknown)",
    "copy_d2h": "D2H copy",
    "copy_d2d": "D2D copy",
    "copy_other": "other copy",
    "launch_overhead": "launch overhead",
    "sync": "synchronization",
    "host_cpu": "host CPU work",
    "other": "other",
}
CATEGORY_LABELS_ZH = {
    "compute": "计算",
    "communication": "通信",
    "copy_h2d_pageable": "H2D 拷贝（可分页）",
    "copy_h2d_pinned": "H2D 拷贝（锁页）",
    "copy_h2d": "H2D 拷贝（是否锁页未知）",
    "copy_d2h": "D2H 拷贝",
    "copy_d2d": "D2D 拷贝",
    "copy_other": "其他拷贝",
    "launch_overhead": "启动开销",
    "sync": "同步",
    "host_cpu": "主机 CPU 工作",
    "other": "其他",
}
CATEGORY_MEANINGS_EN = {
    "compute": "kernels and memsets on the critical path",
    "communication": "collective communication kernels",
    "copy_h2d_pageable": "host-to-device copies from pageable memory",
    "copy_h2d_pinned": "host-to-device copies from pinned memory",
    "copy_h2d": "host-to-device copies whose host memory kind is unknown",
    "copy_d2h": "device-to-host copies",
    "copy_d2d": "device-to-device copies",
    "copy_other": "copies of any other direction",
    "launch_overhead": "launch calls and their lag, gaps between back-to-back operations, dispatch inside "
    "launching CPU operators, and the framework's glue before a launch (up to the step's median)",
    "sync": "synchronizing calls returning after the awaited work (the wait itself is the awaited work's)",
    "host_cpu": "host work that launches nothing, and glue beyond the step's median",
    "other": "work of the previous step still running",
}
CATEGORY_MEANINGS_ZH = {
    "compute": "关键路径上的内核与内存置位",
    "communication": "集合通信内核",
    "copy_h2d_pageable": "从可分页内存到设备的拷贝",
    "copy_h2d_pinned": "从锁页内存到设备的拷贝",
    "copy_h2d": "主机内存类型未知的主机到设备拷贝",
    "copy_d2h": "设备到主机的拷贝",
    "copy_d2d": "设备到设备的拷贝",
    "copy_other": "其他方向的拷贝",
    "launch_overhead": "启动调用及其延迟、前后紧接的操作之间的间隙、发起设备工作的 CPU 算子内的分发，"
    "以及启动前框架的衔接时间（不超过该步的中位数）",
    "sync": "同步调用在所等待的工作完成后的返回（等待本身计入所等待的工作）",
    "host_cpu": "不发起设备工作的主机工作，以及超过该步中位数的衔接时间",
    "other": "上一步仍在运行的工作",
}

PLAN_EN: dict[str, str] = {
    # attribution
    "sec.attribution": "Where the step time goes",
    "attr.reading": "Median step #{step} ({total}): {parts}.",
    "attr.part": "{category} {share}",
    "attr.join": ", then ",
    "attr.chart": "Critical-path time of each replayed step, by category",
    "attr.axis_step": "step",
    "attr.axis_time": "time on the critical path (ms)",
    "attr.hover": "{category}<br>step {step}: {time} ({ns} ns), {share} of {total}",
    "attr.window": "device {device}, replayed steps #{first}..#{last} ({count} steps)",
    "attr.median_window": "device {device}, the median replayed step by length (#{step})",
    "attr.none": "No step of this device was replayed, so its time has no attribution.",
    "attr.col.category": "category",
    "attr.col.time": "time (median step)",
    "attr.col.share": "share",
    "attr.col.meaning": "what it holds",
    "attr.total": "step time",
    # plan and groups
    "rec.group.latency": "Step time, in plan order",
    "rec.group.throughput": "Throughput levers (latency cost {cost})",
    "rec.group.throughput_free": "Throughput levers",
    "rec.group.memory": "Memory",
    "plan.line": "Predicted step time after the plan: {baseline} → {predicted} ({speedup})",
    "plan.line_upper": "Predicted step time after the plan: {baseline} → {predicted} ({speedup}, upper bound)",
    "plan.upper_note": "The step is host-bound under the profiler, which inflates host time: the predictions "
    "are upper bounds (--unprofiled-step calibrates them).",
    "plan.baseline": "as measured",
    "plan.col.step": "step",
    "plan.col.change": "change",
    "plan.col.gain": "its gain",
    "plan.col.after": "step time after",
    "plan.col.cumulative": "cumulative",
    "thr.note": "These raise throughput (work per second) and lengthen each step; they are not ranked "
    "against the step-time changes above.",
    "thr.cost": "{title}: step time {cost} ({baseline} → {predicted})",
    # findings
    "rec.upper_bound": "upper bound",
    "rec.plan_step": "Place in the plan",
    "rec.plan_step_value": "{step} of {count}",
    "rec.cumulative": "Cumulative speedup (plan up to here)",
    "rec.latency_cost": "Latency cost (new step time / old)",
    "rec.alternatives": "Alternatives for the same cause",
}

PLAN_ZH: dict[str, str] = {
    "sec.attribution": "步骤时间的去向",
    "attr.reading": "中位步骤 #{step}（{total}）：{parts}。",
    "attr.part": "{category} {share}",
    "attr.join": "，其次是",
    "attr.chart": "各重放步骤关键路径上的时间，按类别",
    "attr.axis_step": "步骤",
    "attr.axis_time": "关键路径上的时间（毫秒）",
    "attr.hover": "{category}<br>步骤 {step}：{time}（{ns} ns），占 {total} 的 {share}",
    "attr.window": "设备 {device}，重放步骤 #{first}..#{last}（共 {count} 步）",
    "attr.median_window": "设备 {device}，按时长取中位的重放步骤（#{step}）",
    "attr.none": "此设备没有重放任何步骤，因此没有时间归因。",
    "attr.col.category": "类别",
    "attr.col.time": "时间（中位步骤）",
    "attr.col.share": "占比",
    "attr.col.meaning": "包含的内容",
    "attr.total": "步骤时间",
    "rec.group.latency": "步骤时间（按计划顺序）",
    "rec.group.throughput": "吞吐量手段（时延代价 {cost}）",
    "rec.group.throughput_free": "吞吐量手段",
    "rec.group.memory": "内存",
    "plan.line": "执行计划后的预测步骤时间：{baseline} → {predicted}（{speedup}）",
    "plan.line_upper": "执行计划后的预测步骤时间：{baseline} → {predicted}（{speedup}，上限）",
    "plan.upper_note": "在性能分析器下该步骤受主机限制，而分析器会拉长主机时间：这些预测是上限"
    "（用 --unprofiled-step 校准）。",
    "plan.baseline": "实测",
    "plan.col.step": "步",
    "plan.col.change": "改动",
    "plan.col.gain": "本项收益",
    "plan.col.after": "之后的步骤时间",
    "plan.col.cumulative": "累计",
    "thr.note": "这些手段提高吞吐量（每秒完成的工作），但每个步骤会变长；它们不与上面缩短步骤时间的改动一起排序。",
    "thr.cost": "{title}：步骤时间 {cost}（{baseline} → {predicted}）",
    "rec.upper_bound": "上限",
    "rec.plan_step": "在计划中的位置",
    "rec.plan_step_value": "第 {step} 步，共 {count} 步",
    "rec.cumulative": "累计加速比（计划到此为止）",
    "rec.latency_cost": "时延代价（新步骤时间 / 原步骤时间）",
    "rec.alternatives": "针对同一原因的其他做法",
}
PLAN_EN |= {f"attr.cat.{name}": label for name, label in CATEGORY_LABELS_EN.items()}
PLAN_EN |= {f"attr.def.{name}": meaning for name, meaning in CATEGORY_MEANINGS_EN.items()}
PLAN_ZH |= {f"attr.cat.{name}": label for name, label in CATEGORY_LABELS_ZH.items()}
PLAN_ZH |= {f"attr.def.{name}": meaning for name, meaning in CATEGORY_MEANINGS_ZH.items()}
