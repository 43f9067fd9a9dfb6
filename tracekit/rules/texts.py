"""The recommendations' texts, in English and Simplified Chinese: the ones several rules or the
engine use, here; each rule's own texts in its module (tracekit/rules/library/), merged in.

Keys: `<rule id>.title`, `.summary` (filled with the outcome's params), `.actions.<platform>`;
`reason.*` (why a rule did not fire), `ev.*` (evidence labels), `method.*`, `assume.*`, `col.*`,
`case.*` (the title of the case study a rule comes from; the report tells what the case found).
"""

from __future__ import annotations

from collections.abc import Iterable

from tracekit.rules.catalogue import RULES
from tracekit.rules.model import Rule

SHARED_PREFIXES = ("reason", "ev", "method", "assume", "col")
"""A rule's text key with one of these prefixes is stored as is; its other keys get its id first."""

EN: dict[str, object] = {
    "reason.needs_steps_and_device": "needs steps and device operations",
    "reason.needs_device": "needs device operations",
    "reason.nothing_to_change": "the replay found nothing to change",
    "reason.older_analysis": "the analysis has no {field} (written by an older tracekit): run `tracekit "
    "analyze` on the trace again",
    "reason.gain_too_small": "predicted gain {speedup:.2f}x is below {minimum:.2f}x",
    "reason.needs_ascend_operator_data": "needs Ascend operator details (kernel_details / op_summary)",
    "reason.none_found": "none found",
    "ev.targeted_share": "share of the step the change targets",
    "ev.kernel_utilization": "kernel utilization",
    "ev.operators": "operators",
    "ev.operator_time": "their device time",
    "ev.syncs_per_step": "synchronize calls per step",
    "ev.sync_wait_share": "host waiting inside the step",
    "ev.host_stage": "host stage per step",
    "ev.device_stage": "device stage per step",
    "assume.serial_device": "the operators are on the step's critical path",
    "assume.overlap_host": "host and device stages can run concurrently on different steps",
    "col.kernel": "kernel",
    "col.count": "count",
    "col.total": "total",
    "col.share": "share",
    "col.op_type": "operator type",
    "reason.same_cause": "acts on the same time as {other}: listed there as an alternative",
    "reason.absorbed": "alone it would gain {speedup:.2f}x, but after the plan's changes it saves too little",
    "reason.precondition": "needs the synchronizations inside the step removed first, and then saves "
    "too little",
    "reason.training": "a training trace (backward passes, optimizer steps): inference-serving advice "
    "does not apply",
    "assume.profiler_host": "host time was measured under the profiler, which inflates it: a host-bound "
    "gain is an upper bound (--unprofiled-step calibrates it)",
    "case.000": "Case 000: batch H2D, multi-instance, AI Core control, batch size (Atlas A3)",
    "case.001": "Case 001: dynamic shapes, AI CPU and int64 operators (coarse ranking, TP99 < 5 ms)",
    "case.002": "Case 002: CPU-bound, I/O-bound, memory leaks, fp16, fusion and graphs",
    "case.003": "Case 003: pipeline stages, throughput = 1 / slowest stage",
    "case.004": "Case 004: batching, pipelining and feeding the accelerator",
}

ZH: dict[str, object] = {
    "reason.needs_steps_and_device": "需要步骤信息和设备操作",
    "reason.needs_device": "需要设备操作",
    "reason.nothing_to_change": "重放没有找到可改变的部分",
    "reason.older_analysis": "分析文档中没有 {field}（由较早版本的 tracekit 写出）：请对该 trace 重新运行 "
    "`tracekit analyze`",
    "reason.gain_too_small": "预测收益 {speedup:.2f} 倍，低于 {minimum:.2f} 倍",
    "reason.needs_ascend_operator_data": "需要昇腾算子详情（kernel_details / op_summary）",
    "reason.none_found": "未发现",
    "ev.targeted_share": "该改动针对的时间占比",
    "ev.kernel_utilization": "核函数利用率",
    "ev.operators": "算子数",
    "ev.operator_time": "其设备时间",
    "ev.syncs_per_step": "每步同步调用次数",
    "ev.sync_wait_share": "步内主机等待",
    "ev.host_stage": "每步主机阶段",
    "ev.device_stage": "每步设备阶段",
    "assume.serial_device": "这些算子位于一步的关键路径上",
    "assume.overlap_host": "主机与设备阶段可以在不同步骤上并发执行",
    "col.kernel": "核函数",
    "col.count": "次数",
    "col.total": "总计",
    "col.share": "占比",
    "col.op_type": "算子类型",
    "reason.same_cause": "与 {other} 作用于同一段时间：在那里列为备选做法",
    "reason.absorbed": "单独可提升 {speedup:.2f} 倍，但在计划中的改动之后收益太小",
    "reason.precondition": "需要先去掉步内的同步，之后收益仍太小",
    "reason.training": "训练迹（反向传播、优化器更新）：推理服务类建议不适用",
    "assume.profiler_host": "主机时间是在性能分析器下测得的，分析器会拉长主机时间：受主机限制的收益是上限（用 --unprofiled-step 校准）",
    "case.000": "案例 000：批量 H2D、多实例、AI Core 控制、批大小（Atlas A3）",
    "case.001": "案例 001：动态形状、AI CPU 与 int64 算子（粗排，TP99 < 5 ms）",
    "case.002": "案例 002：CPU 瓶颈、I/O 瓶颈、内存泄漏、fp16、融合与图优化",
    "case.003": "案例 003：流水线阶段，吞吐量 = 1 / 最慢阶段",
    "case.004": "案例 004：批处理、流水线与为加速器供数",
}


def merged(shared: dict[str, object], rules: Iterable[Rule], lang: str) -> dict[str, object]:
    """The shared texts of one language with every rule's own; a key defined twice is an error."""
    table = dict(shared)
    for rule in rules:
        for key, text in rule.texts.get(lang, {}).items():
            full = key if key.split(".")[0] in SHARED_PREFIXES else f"{rule.id}.{key}"
            if full in table:
                raise ValueError(f"text {full!r} of rule {rule.id} is defined twice")
            table[full] = text
    return table


TEXTS = {"en": merged(EN, RULES, "en"), "zh": merged(ZH, RULES, "zh")}
LANGUAGES = tuple(TEXTS)
