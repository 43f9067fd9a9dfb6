"""static-shapes: operators with data-dependent output shapes make the host wait for the device."""

from __future__ import annotations

from tracekit.analysis.changes import Change, ChangeInputs, Edit, Edited, device_intervals, entries_in
from tracekit.analysis.columns import Columns
from tracekit.analysis.document.ascend import DynamicShapeFinding
from tracekit.analysis.replay import Op, StepModel
from tracekit.formatting import fmt_ns, fmt_share
from tracekit.model.schema import CopyDirection, Kind
from tracekit.rules.common import synchronizing_lever
from tracekit.rules.model import (
    FIRED,
    Context,
    Evidence,
    Gain,
    Outcome,
    Rule,
    amdahl,
    not_applicable,
    not_fired,
)


def check(ctx: Context) -> Outcome:
    """Operators with data-dependent output shapes (nonzero, boolean masks, unique): the host waits
    for the device to learn each size. CUDA: the plan replays them static; Ascend: from the
    dynamic-shape finding, bounded by the idle time before those operators."""
    dynamic = ctx.document.ascend.dynamic_shape if ctx.document.ascend else None
    if dynamic is not None and dynamic.evaluated:
        return _ascend_dynamic_shapes(ctx, dynamic)
    if ctx.device is None or not ctx.steps:
        return not_applicable("needs_steps_and_device")
    return synchronizing_lever(
        ctx, CHANGE.name, "no_dynamic_shapes", "method.static_shapes", "assume.static_equivalent"
    )


def _ascend_dynamic_shapes(ctx: Context, dynamic: DynamicShapeFinding) -> Outcome:
    if not dynamic.detected or ctx.device is None:
        return not_fired("none_found")
    share = dynamic.idle_before_ns / max(ctx.device.window_ns, 1)
    return Outcome(
        FIRED,
        planned=False,
        params={"per_step": dynamic.count / max(dynamic.steps, 1)},
        evidence=(
            Evidence("ev.dynamic_ops", f"{dynamic.count:,}", "ascend.dynamic_shape"),
            Evidence("ev.idle_before", fmt_ns(dynamic.idle_before_ns), "ascend.dynamic_shape"),
            Evidence("ev.targeted_share", fmt_share(share), "whatif.removable_share"),
        ),
        gain=Gain(
            metric="step_time",
            speedup=amdahl(share),
            method="method.dynamic_idle",
            assumptions=("assume.idle_removed",),
            amdahl_bound=amdahl(share),
            removable_share=share,
        ),
    )


def static_shapes(model: StepModel, cols: Columns) -> Edited | None:
    """Operators with a data-dependent output shape (nonzero, masked_select, unique, boolean-mask
    indexing) become static ones (torch.where, a multiply by the mask): the host no longer waits
    for the device to learn the size, and the size computation (its kernels and the copy of the
    count to the host) goes; the work on the data stays."""
    inside = entries_in(model, model.dynamic_ops)
    if not inside:
        return None
    entries = [
        e.changed(dur=e.ret or 0, ret=None, waits_own=False, ops=()) if i in inside and e.ret is not None
        else e.with_ops(tuple(op for op in e.ops if not _sizes_only(cols, op))) if i in inside
        else e
        for i, e in enumerate(model.entries)
    ]  # fmt: skip
    removed = [op for i in inside for op in model.entries[i].ops]
    targeted = [(model.entries[i].a, model.entries[i].b) for i in inside] + device_intervals(removed)
    return Edited(entries, model.detached, targeted)


def _sizes_only(cols: Columns, op: Op) -> bool:
    """Work of a dynamic operator that only finds the output size: its kernels and D2H copies."""
    return bool(cols.kind[op.row] != Kind.MEMCPY or cols.copy_direction[op.row] == CopyDirection.D2H)


def edit(inputs: ChangeInputs) -> Edit:
    return static_shapes


CHANGE = Change("static_shapes", edit)

TEXTS = {
    "en": {
        "title": "Remove dynamic shapes and host synchronizations",
        "summary": "The host waits for device results inside the step ({per_step:.1f} per step), so the "
        "device idles until the host launches the rest.",
        "actions.cuda": [
            "Avoid .item(), .cpu(), nonzero() and boolean-mask indexing inside the step; use fixed-size "
            "outputs (torch.where with padding, topk with a fixed k).",
            "Keep shapes static so the step can also be captured as a graph.",
        ],
        "actions.ascend": [
            "Replace dynamic-shape operators (Where/nonzero, Unique) with static forms (padding plus a "
            "mask, fixed-size gather) and fix input shapes (case 001: 51 ms -> 4.6 ms).",
        ],
        "ev.dynamic_ops": "dynamic-shape operators",
        "ev.idle_before": "device idle before them",
        "method.dynamic_idle": "device idle before dynamic-shape operators removed",
        "assume.idle_removed": "the idle time before dynamic-shape operators disappears with static shapes",
        "reason.no_dynamic_shapes": "no operator with a data-dependent output shape waits for the device",
        "method.static_shapes": "replay with the data-dependent-shape operators static: their "
        "synchronizations do not wait and their size computation (kernels, count copy) goes",
        "assume.static_equivalent": "a static form exists (torch.where, a multiply by the mask)",
    },
    "zh": {
        "title": "消除动态形状与主机同步",
        "summary": "主机在一步之内等待设备结果（每步 {per_step:.1f} 次），设备空闲直到主机下发剩余工作。",
        "actions.cuda": [
            "避免在步内使用 .item()、.cpu()、nonzero() 和布尔掩码索引；使用固定大小的输出（带填充的 torch.where、固定 k 的 topk）。",
            "保持形状静态，这样整步也可以捕获为图。",
        ],
        "actions.ascend": [
            "用静态形式替换动态形状算子（Where/nonzero、Unique 改为填充加掩码、固定大小的 gather），并固定输入形状（案例 001：51 ms -> 4.6 ms）。",
        ],
        "ev.dynamic_ops": "动态形状算子",
        "ev.idle_before": "其之前的设备空闲",
        "method.dynamic_idle": "去掉动态形状算子之前的设备空闲",
        "assume.idle_removed": "改为静态形状后，动态形状算子之前的空闲消失",
        "reason.no_dynamic_shapes": "没有输出形状依赖数据的算子等待设备",
        "method.static_shapes": "重放：输出形状依赖数据的算子改为静态形式：其同步不再等待，求尺寸的工作（核函数、计数拷贝）去掉",
        "assume.static_equivalent": "存在静态写法（torch.where、乘以掩码）",
    },
}

RULE = Rule(id="static-shapes", case_study="001", check=check, change=CHANGE, texts=TEXTS)
