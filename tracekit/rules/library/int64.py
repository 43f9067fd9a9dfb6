"""int64: Ascend operators with int64 inputs; int32 is far cheaper on the vector units."""

from __future__ import annotations

from tracekit.rules.common import ascend_operator_rule
from tracekit.rules.model import Context, Outcome, Rule

INT64_TO_INT32 = 30 / 230  # case 001: an int64 Equal took 230 us, its int32 form ~30 us


def check(ctx: Context) -> Outcome:
    """Ascend operators with int64 inputs: shortened to case 001's int32 / int64 ratio."""
    return ascend_operator_rule(ctx, "int64", INT64_TO_INT32, "method.int64", "assume.int64_ratio")


TEXTS = {
    "en": {
        "title": "Use int32 instead of int64 operands",
        "summary": "{count:,} operators take int64 inputs ({time}); the vector units handle int32 far "
        "faster.",
        "actions.ascend": [
            "Cast ids and indices to int32 before the model (case 001: an int64 Equal took 230 us, ~30 us "
            "in int32).",
        ],
        "method.int64": "int64 operators shortened to 30/230 of their time (case 001's measurement)",
        "assume.int64_ratio": "int32 forms run as case 001 measured (230 us -> 30 us)",
    },
    "zh": {
        "title": "用 int32 代替 int64 操作数",
        "summary": "{count:,} 个算子使用 int64 输入（{time}）；向量单元处理 int32 快得多。",
        "actions.ascend": [
            "在模型之前把 ID 和索引转换为 int32（案例 001：int64 的 Equal 耗时 230 us，int32 约 30 us）。",
        ],
        "method.int64": "int64 算子时间缩短为 30/230（案例 001 的实测）",
        "assume.int64_ratio": "int32 形式的耗时如案例 001 实测（230 us -> 30 us）",
    },
}

RULE = Rule(id="int64", case_study="001", check=check, texts=TEXTS)
