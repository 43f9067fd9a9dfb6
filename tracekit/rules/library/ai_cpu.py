"""ai-cpu: Ascend operators on the AI CPU are slow and serial; replace them with AI Core operators."""

from __future__ import annotations

from tracekit.rules.common import ascend_operator_rule
from tracekit.rules.model import Context, Outcome, Rule


def check(ctx: Context) -> Outcome:
    """Ascend operators on the AI CPU: their time removed (a bound)."""
    return ascend_operator_rule(ctx, "ai_cpu", 0.0, "method.ai_cpu", "assume.ai_core_negligible")


TEXTS = {
    "en": {
        "title": "Move AI CPU operators to the AI Core",
        "summary": "{count:,} operators ran on the AI CPU ({time}): slow, serial, and they add host-device "
        "handoffs.",
        "actions.ascend": [
            "Rewrite them with AI Core operators (e.g. Unique via sort + compare, Where via a mask) or cast "
            "inputs to a dtype the AI Core kernel supports.",
        ],
        "method.ai_cpu": "AI CPU operator time removed (bound)",
        "assume.ai_core_negligible": "the AI Core replacement takes negligible time",
    },
    "zh": {
        "title": "把 AI CPU 算子迁移到 AI Core",
        "summary": "{count:,} 个算子在 AI CPU 上执行（{time}）：慢、串行，还增加主机与设备之间的交接。",
        "actions.ascend": [
            "用 AI Core 算子改写（如 Unique 用排序加比较，Where 用掩码），或把输入转换为 AI Core 核函数支持的数据类型。",
        ],
        "method.ai_cpu": "去掉 AI CPU 算子时间（上限）",
        "assume.ai_core_negligible": "AI Core 替代算子耗时可忽略",
    },
}

RULE = Rule(id="ai-cpu", case_study="001", check=check, texts=TEXTS)
