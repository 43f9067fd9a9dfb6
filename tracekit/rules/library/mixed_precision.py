"""mixed-precision: fp32 GEMMs, convolutions and the work around them on a GPU with faster bf16."""

from __future__ import annotations

import re
from itertools import accumulate

import numpy as np

from tracekit.analysis.changes import Change, ChangeInputs, Edit, Edited, device_intervals, launch_host_ns
from tracekit.analysis.columns import Columns
from tracekit.analysis.document.operators import Operator
from tracekit.analysis.precision import Bf16
from tracekit.analysis.replay import Entry, Op, StepModel
from tracekit.formatting import fmt_ns, fmt_share
from tracekit.rules.common import kernel_utilization
from tracekit.rules.model import FIRED, Context, Evidence, Gain, Outcome, Rule, not_applicable, not_fired

FP32_GEMM = re.compile(r"sgemm|f32f32|gemm_f32|scudnn|_fp32_|cutlass.*_f32", re.IGNORECASE)
TENSOR_FAMILIES = ("matmul", "convolution", "attention")


def check(ctx: Context) -> Outcome:
    """fp32 GEMMs, convolutions and the work around them on a GPU with faster bf16: each kernel's
    bf16 time from its operator's roofline and the GPU's peaks (tracekit/analysis/precision.py)."""
    if ctx.platform != "cuda" or ctx.device is None:
        return not_applicable("needs_cuda_kernel_names")
    groups = ctx.device.operators or []
    if any(g.family in TENSOR_FAMILIES and g.dtype in ("bf16", "fp16") for g in groups):
        return not_fired("already_mixed")
    estimate = ctx.estimate(CHANGE.name)
    if estimate is None or not estimate.applicable:
        return _without_model(ctx)
    fp32 = [g for g in groups if g.dtype == "fp32"]
    share = sum(g.device_ns for g in fp32) / max(ctx.device.busy_ns, 1)
    return Outcome(
        FIRED,
        params={"share": fmt_share(share)},
        evidence=(
            Evidence("ev.fp32_gemm_share", fmt_share(share), "operators"),
            Evidence("ev.kernel_utilization", fmt_share(kernel_utilization(ctx)), "kernel_utilization"),
        ),
        gain=Gain(
            "step_time", None, "method.mixed_precision_roofline", ("assume.roofline_share", "assume.accuracy")
        ),
        offenders=_operator_rows(fp32[:10]),
    )


def _without_model(ctx: Context) -> Outcome:
    """No dtypes recorded or no GPU row: say what is missing when fp32 GEMM kernels are present."""
    fp32 = [h for h in ctx.device.hotspots if FP32_GEMM.search(h.name)]
    if not fp32:
        return not_fired("fp32_small", share=0.0)
    return not_applicable("needs_shapes_and_gpu")


def _operator_rows(groups: list[Operator]) -> dict[str, list]:
    return {
        "columns": ["col.operator", "col.count", "col.total"],
        "rows": [[g.name, g.count, fmt_ns(g.device_ns)] for g in groups],
    }


def mixed_precision(model: StepModel, cols: Columns, bf16: Bf16) -> Edited | None:
    """fp32 work runs under bf16 autocast: each operation bf16 would shorten takes its factor of the
    time, and each autocast operator first launches its casts, each for the step's host cost of one
    launch (tracekit/analysis/precision.py)."""
    factors, casts = bf16.among(_op_rows(model))
    shortened = [op for e in model.entries for op in e.ops if op.row in factors]
    shortened += [op for _, op in model.detached if op.row in factors]
    if not shortened:
        return None

    def scaled(op: Op) -> Op:
        return op.with_dur(round(op.dur * factors[op.row])) if op.row in factors else op

    host = launch_host_ns(model)
    entries: list[Entry] = []
    for entry in model.entries:
        for op in entry.ops:
            for dur in casts.get(op.row, ()):
                cast = op.changed(dur=dur, lag=model.min_lag, host_bound=True, after=-1)
                entries.append(Entry(a=entry.a, b=entry.a, dur=host, ops=(cast,)))
        shortens = any(op.row in factors for op in entry.ops)  # else the entry stays as it is
        entries.append(entry.with_ops(tuple(scaled(op) for op in entry.ops)) if shortens else entry)
    added = _casts_up_to(model, casts)
    detached = [(i + added[min(i + 1, len(added) - 1)], scaled(op)) for i, op in model.detached]
    return Edited(entries, detached, device_intervals(shortened))


def _op_rows(model: StepModel) -> np.ndarray:
    """The table rows of the step's operations, launched and detached."""
    rows = [op.row for e in model.entries for op in e.ops] + [op.row for _, op in model.detached]
    return np.array(rows, dtype=np.int64)


def _casts_up_to(model: StepModel, casts: dict[int, tuple[int, ...]]) -> list[int]:
    """[k]: how many cast entries go before the first k entries' own (k = 0..count), so entry index
    i moves to i + [i + 1]: one running total, not a sum per index."""
    return [0, *accumulate(sum(len(casts.get(op.row, ())) for op in e.ops) for e in model.entries)]


def edit(inputs: ChangeInputs) -> Edit:
    """bf16 autocast with the device's bf16 effects (tracekit/analysis/precision.py)."""
    bf16 = inputs.bf16
    return lambda model, cols: mixed_precision(model, cols, bf16)


CHANGE = Change("mixed_precision", edit)

TEXTS = {
    "en": {
        "title": "Use mixed precision (fp16/bf16)",
        "summary": "fp32 GEMM/convolution kernels take {share} of kernel time on hardware with fast "
        "fp16/bf16 units.",
        "actions.cuda": [
            "Run inference under torch.autocast('cuda', dtype=torch.bfloat16) or convert the model with "
            ".half(); with TensorRT build with fp16/int8 enabled.",
            "At least allow TF32 (torch.backends.cuda.matmul.allow_tf32 = True).",
        ],
        "reason.needs_cuda_kernel_names": "needs CUDA kernel names",
        "reason.fp32_small": "fp32 GEMM/convolution kernels are {share:.1%} of kernel time",
        "ev.fp32_gemm_share": "fp32 GEMM/conv share of kernel time",
        "assume.accuracy": "the model keeps its accuracy in reduced precision",
        "reason.already_mixed": "GEMMs or convolutions already run in bf16/fp16: the step uses mixed "
        "precision",
        "reason.needs_shapes_and_gpu": "fp32 GEMM kernels found; record with record_shapes=True, on a GPU "
        "of the hardware table (or give --device), to predict the gain",
        "method.mixed_precision_roofline": "replay with each fp32 kernel at its bf16 time: its operator's "
        "roofline in bf16 over its roofline as it ran (TF32 or fp32 SIMT peak), layout and elementwise work "
        "at half the bytes",
        "assume.roofline_share": "each operator keeps its achieved share of the roofline in bf16",
        "col.operator": "operator",
    },
    "zh": {
        "title": "使用混合精度（fp16/bf16）",
        "summary": "在具备快速 fp16/bf16 单元的硬件上，fp32 GEMM/卷积核函数占核函数时间的 {share}。",
        "actions.cuda": [
            "在 torch.autocast('cuda', dtype=torch.bfloat16) 下推理，或用 .half() 转换模型；TensorRT 构建时启用 fp16/int8。",
            "至少允许 TF32（torch.backends.cuda.matmul.allow_tf32 = True）。",
        ],
        "reason.needs_cuda_kernel_names": "需要 CUDA 核函数名称",
        "reason.fp32_small": "fp32 GEMM/卷积核函数占核函数时间的 {share:.1%}",
        "ev.fp32_gemm_share": "fp32 GEMM/卷积占核函数时间",
        "assume.accuracy": "模型在低精度下保持精度",
        "reason.already_mixed": "GEMM 或卷积已经以 bf16/fp16 运行：这一步已使用混合精度",
        "reason.needs_shapes_and_gpu": "发现 fp32 GEMM 核函数；用 record_shapes=True 在硬件表中的 GPU 上采集（或给出 --device）才能预测收益",
        "method.mixed_precision_roofline": "重放：每个 fp32 核函数取其 bf16 时间：算子在 bf16 下的屋顶线时间除以实际运行时的屋顶线时间（TF32 或 fp32 SIMT 峰值），布局与逐元素工作的字节数减半",
        "assume.roofline_share": "每个算子在 bf16 下保持其达到的屋顶线占比",
        "col.operator": "算子",
    },
}

RULE = Rule(id="mixed-precision", case_study="002", check=check, change=CHANGE, texts=TEXTS)
