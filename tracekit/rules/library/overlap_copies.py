"""overlap-copies: copies serialized with compute move to their own stream, one step ahead."""

from __future__ import annotations

from tracekit.analysis.changes import (
    Change,
    ChangeInputs,
    Edit,
    Edited,
    copy_targets,
    device_intervals,
    interval_arrays,
    rebuild,
    unit_cost,
    units,
)
from tracekit.analysis.columns import Columns
from tracekit.analysis.replay import Entry, StepModel
from tracekit.formatting import fmt_ns, fmt_share
from tracekit.model.intervals import total_length, union
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


def check(ctx: Context) -> Outcome:
    """Copies serialized with compute: issue them on another stream, ahead of the compute."""
    copies = h2d(ctx)
    if copies is None or not ctx.steps:
        return not_applicable("needs_steps_and_device")
    if not copies.exposed_share:
        return not_fired("copies_hidden", share=0.0, minimum=0.0)
    estimate = ctx.estimate(CHANGE.name)

    def fired() -> Outcome:
        return Outcome(
            FIRED,
            params={"share": fmt_share(copies.exposed_share)},
            evidence=(
                Evidence("ev.exposed_share", fmt_share(copies.exposed_share), "copies.exposed_share"),
                Evidence("ev.copy_time", fmt_ns(copies.busy_ns), "copies.busy_ns"),
            ),
            gain=replayed_gain(estimate, "method.overlap_copies", "assume.prefetch"),
        )

    return replay_verdict(estimate, fired)


def overlap_copies(model: StepModel, cols: Columns) -> Edited | None:
    """H2D copies move to their own stream and run ahead (prefetch during the previous step): the
    step keeps issuing them, without waiting, but no longer waits for them; it still takes at least
    the copies' own time (the copy engine's share)."""
    targets, allowed = copy_targets(model, cols, lambda op: True)
    if not targets:
        return None
    found = units(model, targets, allowed)
    copies = [op for i in targets for op in model.entries[i].ops]

    def make(a: int, b: int, inside: list[int]) -> Entry:
        return Entry(a=a, b=b, dur=unit_cost(model, (a, b, inside)))

    entries, detached = rebuild(model, found, make)
    copy_time = total_length(union(*interval_arrays(device_intervals(copies))))
    return Edited(entries, detached, device_intervals(copies), floor_ns=copy_time)


def edit(inputs: ChangeInputs) -> Edit:
    return overlap_copies


CHANGE = Change("overlap_copies", edit)

TEXTS = {
    "en": {
        "title": "Overlap the copies with compute",
        "summary": "Copies run while the device computes nothing ({share} of the device window); issuing "
        "them on their own stream, one step ahead, hides them.",
        "actions.cuda": [
            "Copy the next step's inputs on a separate torch.cuda.Stream with non_blocking=True from pinned "
            "memory, and make the compute stream wait on an event (stream.wait_event).",
            "Or prefetch in the data pipeline (a prefetcher that keeps one batch on the device).",
        ],
        "actions.ascend": [
            "Issue the next inference's aclrtMemcpyAsync on a second stream and synchronize the compute "
            "stream with an event (aclrtStreamWaitEvent).",
        ],
        "reason.copies_hidden": "no copy time is exposed (every copy runs under kernels)",
        "ev.exposed_share": "copy time not under compute",
        "ev.copy_time": "copy busy time",
        "method.overlap_copies": "replay with the H2D copies off the step's critical path (prefetched on "
        "another stream); the step is at least as long as the copies",
        "assume.prefetch": "the next step's inputs are known one step ahead",
    },
    "zh": {
        "title": "让拷贝与计算重叠",
        "summary": "拷贝执行时设备没有计算（占设备时间窗的 {share}）；在独立的流上提前一步发起拷贝即可隐藏。",
        "actions.cuda": [
            "在单独的 torch.cuda.Stream 上从锁页内存以 non_blocking=True 拷贝下一步的输入，计算流通过事件等待（stream.wait_event）。",
            "或在数据管线中预取（始终在设备上保留一个批次）。",
        ],
        "actions.ascend": [
            "在第二条流上发起下一次推理的 aclrtMemcpyAsync，计算流用事件同步（aclrtStreamWaitEvent）。",
        ],
        "reason.copies_hidden": "没有暴露的拷贝时间（每次拷贝都在核函数之下运行）",
        "ev.exposed_share": "未被计算掩盖的拷贝时间",
        "ev.copy_time": "拷贝忙碌时间",
        "method.overlap_copies": "重放：H2D 拷贝移出关键路径（在另一条流上预取）；一步不短于拷贝本身",
        "assume.prefetch": "下一步的输入可提前一步得知",
    },
}

RULE = Rule(id="overlap-copies", case_study="002", check=check, change=CHANGE, texts=TEXTS)
