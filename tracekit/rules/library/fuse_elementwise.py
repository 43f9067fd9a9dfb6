"""fuse-elementwise: chains of element-wise operators, each its own dispatch, launch and kernel,
become one fused kernel (torch.compile / Inductor, TensorRT, a hand-written fused kernel)."""

from __future__ import annotations

import numpy as np

from tracekit.analysis.changes import (
    Change,
    ChangeInputs,
    Edit,
    Edited,
    device_intervals,
    merge_adjacent,
    rebuild,
    unit_cost,
    units,
)
from tracekit.analysis.columns import Columns
from tracekit.analysis.operator_links import operator_rows
from tracekit.analysis.replay import Entry, StepModel
from tracekit.analysis.row_values import rows_among
from tracekit.formatting import fmt_ns, fmt_share
from tracekit.model.schema import NONE, Kind
from tracekit.perfmodel.elementwise import MODELS as ELEMENTWISE
from tracekit.rules.model import (
    FIRED,
    Context,
    Evidence,
    Outcome,
    Rule,
    not_applicable,
    older_analysis,
    replay_verdict,
    replayed_gain,
)

MIN_CHAIN = 2  # two element-wise kernels in a row or more can become one


def check(ctx: Context) -> Outcome:
    """Element-wise operators launched one after another: fusing each chain into one kernel saves
    all but one dispatch and launch per chain and the intermediate tensors' memory traffic."""
    if ctx.device is None or not ctx.device.launch or not ctx.device.launch.kernels_with_launch:
        return not_applicable("needs_launch_links")
    estimate = ctx.estimate(CHANGE.name)
    if ctx.estimate("graph_launch") is not None and estimate is None:  # the other levers estimated
        return older_analysis(f"whatif.{CHANGE.name}")

    def fired() -> Outcome:
        return Outcome(
            FIRED,
            params={
                "share": fmt_share(estimate.removable_share),
                "predicted": fmt_ns(estimate.predicted_step_ns),
            },
            evidence=(
                Evidence("ev.targeted_share", fmt_share(estimate.removable_share), "whatif.removable_share"),
            ),
            gain=replayed_gain(estimate, "method.fuse_elementwise", "assume.fusable"),
        )

    return replay_verdict(estimate, fired)


def pointwise_rows(inputs: ChangeInputs) -> np.ndarray:
    """The device's kernels issued by an element-wise operator (tracekit/perfmodel/elementwise.py),
    the operator found as the operators view finds it (tracekit/analysis/operator_links.py)."""
    cols = inputs.cols
    kernels = cols.kernels(cols.device_ops(inputs.device))
    owners = operator_rows(inputs.table, cols, kernels, lambda name: name in ELEMENTWISE)
    linked = owners != NONE
    elementwise = np.array([name in ELEMENTWISE for name in cols.names] or [False], dtype=bool)
    return np.sort(kernels[linked][elementwise[cols.name_code[owners[linked]]]])


def fuse_elementwise(model: StepModel, cols: Columns, pointwise_kernels: np.ndarray) -> Edited | None:
    """Each run of consecutive host work that only launches element-wise kernels becomes one unit:
    the host cost of the step's median element-wise unit (one dispatch and one launch) launching
    one kernel as long as the run's longest (a fused element-wise kernel reads the chain's inputs and
    writes its output once: at most the traffic of its largest member). `pointwise_kernels`: the
    device's (`pointwise_rows`)."""
    pointwise = rows_among(pointwise_kernels, model.rows)
    compute = rows_among(pointwise_kernels, model.rows[cols.kind[model.rows] == Kind.KERNEL])  # no NCCL
    launchers = [i for i, e in enumerate(model.entries) if len(e.ops) == 1 and e.ops[0].row in compute]
    allowed = {
        i for i, e in enumerate(model.entries) if e.ret is None and all(o.row in pointwise for o in e.ops)
    }
    found = units(model, launchers, allowed)
    runs = [
        run for run in merge_adjacent(found) if sum(1 for i in run[2] if model.entries[i].ops) >= MIN_CHAIN
    ]
    if not runs:
        return None
    single = int(np.median([unit_cost(model, unit) for unit in found]))

    def make(a: int, b: int, inside: list[int]) -> Entry:
        ops = [op for i in inside for op in model.entries[i].ops]
        fused = ops[0].with_dur(max(op.dur for op in ops))
        return Entry(a=a, b=b, dur=single, ops=(fused,))

    entries, detached = rebuild(model, runs, make)
    fused_ops = [op for _, _, inside in runs for i in inside for op in model.entries[i].ops]
    return Edited(entries, detached, [(a, b) for a, b, _ in runs] + device_intervals(fused_ops))


def edit(inputs: ChangeInputs) -> Edit:
    pointwise = pointwise_rows(inputs)
    return lambda model, cols: fuse_elementwise(model, cols, pointwise)


CHANGE = Change("fuse_elementwise", edit)

TEXTS = {
    "en": {
        "title": "Fuse the element-wise operators",
        "summary": "Chains of element-wise operators take {share} of the step's critical path, each with "
        "its own dispatch, launch and kernel; fused, the step would take about {predicted}.",
        "actions.cuda": [
            "Compile the model (torch.compile(model), Inductor fuses element-wise chains and GEMM "
            "epilogues), or export it to TensorRT.",
            "For a hand-written chain, write it as one kernel (a Triton kernel, or torch.jit.script / "
            "a custom CUDA kernel).",
        ],
        "actions.ascend": [
            "Enable operator fusion (graph mode with torchair, or ATC's fusion passes for an offline "
            "model), or use the fused operators of torch_npu (e.g. npu_fast_gelu, npu_rms_norm).",
        ],
        "method.fuse_elementwise": "replay with each run of element-wise launches replaced by one launch "
        "(the step's median element-wise unit) of one kernel as long as the run's longest",
        "assume.fusable": "the chain's operators feed each other and have static shapes (what a compiler "
        "fuses)",
    },
    "zh": {
        "title": "融合逐元素算子",
        "summary": "逐元素算子链占本步关键路径的 {share}，每个算子都有自己的分发、下发和核函数；融合后本步约为 {predicted}。",
        "actions.cuda": [
            "编译模型（torch.compile(model)，Inductor 会融合逐元素算子链和 GEMM 尾处理），或导出到 TensorRT。",
            "手写的算子链写成一个核函数（Triton 核函数，或 torch.jit.script / 自定义 CUDA 核函数）。",
        ],
        "actions.ascend": [
            "开启算子融合（torchair 图模式，或离线模型 ATC 的融合规则），或使用 torch_npu 的融合算子（如 npu_fast_gelu、npu_rms_norm）。",
        ],
        "method.fuse_elementwise": "重放：每段逐元素下发替换为一次下发（本步逐元素单元中位数），其核函数时长取该段最长者",
        "assume.fusable": "算子链前后相连且形状静态（编译器可融合）",
    },
}

RULE = Rule(id="fuse-elementwise", case_study="002", check=check, change=CHANGE, texts=TEXTS)
