"""h2d-batch: several separate H2D copies per step become one copy from one pinned buffer."""

from __future__ import annotations

from tracekit.analysis.changes import (
    Change,
    ChangeInputs,
    CopyCost,
    Edit,
    Edited,
    copy_targets,
    device_intervals,
    merge_adjacent,
    rebuild,
    unit_cost,
    units,
)
from tracekit.analysis.columns import Columns
from tracekit.analysis.replay import Entry, StepModel
from tracekit.formatting import fmt_bytes, fmt_ns, fmt_share
from tracekit.rules.common import h2d
from tracekit.rules.model import (
    FIRED,
    Context,
    Evidence,
    Outcome,
    Rule,
    not_applicable,
    not_fired,
    replay_verdict,
    replayed_gain,
)

BATCHABLE_COPIES_PER_STEP = 2  # two copies or more in a step can become one


def _known_bytes(value: float | None) -> str:
    """A byte count, or `unknown` when the trace gives none (not 0 B)."""
    return fmt_bytes(None if value is None else int(value))


def check(ctx: Context) -> Outcome:
    """Several separate H2D copies per step: one copy from one pinned buffer instead (the plan
    decides whether it pays)."""
    copies = h2d(ctx)
    if copies is None or not ctx.steps:
        return not_applicable("needs_steps_and_device")
    if (copies.per_step or 0) < BATCHABLE_COPIES_PER_STEP:
        return not_fired("few_copies", per_step=copies.per_step or 0, minimum=BATCHABLE_COPIES_PER_STEP)
    estimate = ctx.estimate(CHANGE.name)

    def fired() -> Outcome:
        return Outcome(
            FIRED,
            params={"per_step": copies.per_step, "predicted": fmt_ns(estimate.predicted_step_ns)},
            evidence=(
                Evidence("ev.copies_per_step", f"{copies.per_step:.1f}", "copies.per_step"),
                Evidence("ev.median_copy", _known_bytes(copies.sizes.median), "copies.sizes"),
                Evidence("ev.copy_fixed_cost", fmt_ns(ctx.whatif.copy_cost.fixed_ns), "whatif.copy_cost"),
                Evidence("ev.targeted_share", fmt_share(estimate.removable_share), "whatif.removable_share"),
            ),
            gain=replayed_gain(
                estimate, "method.batch_h2d", "assume.inputs_in_one_buffer", "assume.copy_fit"
            ),
        )

    return replay_verdict(estimate, fired)


def batch_h2d(model: StepModel, cols: Columns, cost: CopyCost) -> Edited | None:
    """All H2D copies of the step become one copy from one pinned buffer, issued where the first was,
    for the host cost of the cheapest one; host time between consecutive copies goes with them."""
    targets, allowed = copy_targets(model, cols, lambda op: True)
    if len(targets) < 2:
        return None
    found = units(model, targets, allowed)
    cheapest = min(unit_cost(model, unit) for unit in found)
    found = merge_adjacent(found)
    copies = [op for i in targets for op in model.entries[i].ops]
    total_bytes = int(sum(max(int(cols.bytes[op.row]), 0) for op in copies))
    merged = copies[0].changed(dur=cost.of(total_bytes), lag=model.min_lag, host_bound=True)
    first = found[0]

    def make(a: int, b: int, inside: list[int]) -> Entry:
        if (a, b, inside) == first:
            return Entry(a=a, b=b, dur=cheapest, ops=(merged,))
        return Entry(a=a, b=b, dur=0)

    entries, detached = rebuild(model, found, make)
    targeted = [(a, b) for a, b, _ in found] + device_intervals(copies)
    return Edited(entries, detached, targeted)


def edit(inputs: ChangeInputs) -> Edit:
    """Batching at the copy cost fitted on the device's copies."""
    cost = inputs.copy_cost
    return lambda model, cols: batch_h2d(model, cols, cost)


CHANGE = Change("batch_h2d", edit)

TEXTS = {
    "en": {
        "title": "Batch the host-to-device copies",
        "summary": "{per_step:.1f} separate H2D copies per step each pay a fixed cost; one copy of one "
        "buffer would bring the step to about {predicted}.",
        "actions.cuda": [
            "Pack the step's inputs into one pinned host buffer (torch.empty(..., pin_memory=True)) and "
            "copy it with a single non_blocking .to('cuda') / cudaMemcpyAsync; split it on the device with "
            "views.",
            "If inputs come from a DataLoader, collate them into one tensor per batch (pin_memory=True).",
        ],
        "actions.ascend": [
            "Copy the inputs with one aclrtMemcpyBatch call (or one aclrtMemcpyAsync from one contiguous "
            "host buffer) instead of one aclrtMemcpy per input.",
            "Group inputs of the same kind (e.g. all sparse ids) into one buffer per group.",
        ],
        "reason.few_copies": "{per_step:.1f} H2D copies per step (fires at {minimum} or more)",
        "ev.copies_per_step": "H2D copies per step",
        "ev.median_copy": "median copy size",
        "ev.copy_fixed_cost": "fixed cost per copy (fit)",
        "method.batch_h2d": "replay of the measured steps with the step's H2D copies merged into one copy "
        "(fixed cost + bytes / bandwidth, fitted on the trace's copies), issued at the first copy's place "
        "with the host cost of the cheapest copy",
        "assume.inputs_in_one_buffer": "inputs are already in one pinned host buffer (packing them costs "
        "host time not counted here)",
        "assume.copy_fit": "copy time is linear in bytes, as fitted on this trace's copies",
    },
    "zh": {
        "title": "合并主机到设备（H2D）拷贝",
        "summary": "每步 {per_step:.1f} 次独立 H2D 拷贝，每次都有固定开销；合并为一个缓冲区的一次拷贝后，单步约为 {predicted}。",
        "actions.cuda": [
            "把一步的输入放进一个锁页主机缓冲区（torch.empty(..., pin_memory=True)），用一次 non_blocking 的 .to('cuda') / cudaMemcpyAsync 拷贝，再在设备上用视图切分。",
            "若输入来自 DataLoader，按批整理成一个张量（pin_memory=True）。",
        ],
        "actions.ascend": [
            "用一次 aclrtMemcpyBatch（或从一块连续主机内存的一次 aclrtMemcpyAsync）代替每个输入一次 aclrtMemcpy。",
            "同类输入（如全部稀疏 ID）合并到同一缓冲区。",
        ],
        "reason.few_copies": "每步 {per_step:.1f} 次 H2D 拷贝（不少于 {minimum} 次时触发）",
        "ev.copies_per_step": "每步 H2D 拷贝次数",
        "ev.median_copy": "拷贝大小中位数",
        "ev.copy_fixed_cost": "每次拷贝的固定开销（拟合）",
        "method.batch_h2d": "重放实测步骤：把一步的 H2D 拷贝合并为一次（固定开销 + 字节数 / 带宽，按本迹的拷贝拟合），在第一次拷贝的位置以最便宜一次拷贝的主机开销发起",
        "assume.inputs_in_one_buffer": "输入已经在一个锁页主机缓冲区中（打包的主机时间未计入）",
        "assume.copy_fit": "拷贝时间与字节数成线性关系（按本迹拷贝拟合）",
    },
}

RULE = Rule(id="h2d-batch", case_study="000", check=check, change=CHANGE, texts=TEXTS)
