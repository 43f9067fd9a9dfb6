"""host-syncs: the host reads device values inside the step and waits for the device each time."""

from __future__ import annotations

from dataclasses import replace

from tracekit.analysis.changes import (
    Change,
    ChangeInputs,
    Edit,
    Edited,
    entries_in,
    interval_arrays,
    rebuild,
    synchronizing,
    units,
)
from tracekit.analysis.columns import Columns
from tracekit.analysis.replay import Entry, StepModel
from tracekit.model.intervals import Intervals, held_by_any
from tracekit.rules.common import synchronizing_lever
from tracekit.rules.model import Context, Outcome, Rule, not_applicable


def check(ctx: Context) -> Outcome:
    """The host reads device values inside the step (`.item()`, `.cpu()`, `if tensor:`) and waits
    for the device each time; the plan replays the step with only its last synchronization."""
    if ctx.device is None or not ctx.steps or ctx.platform == "ascend":
        return not_applicable("needs_steps_and_device")
    return synchronizing_lever(
        ctx, CHANGE.name, "no_mid_step_syncs", "method.remove_host_syncs", "assume.no_host_decision"
    )


def remove_host_syncs(model: StepModel, cols: Columns) -> Edited | None:
    """Synchronizing calls before the step's last one no longer wait; those that read one device
    value (`.item()`, `if tensor:`) go with the host work of their read (the value stays on the
    device as a flag tensor, read once at the end)."""
    waiting = synchronizing(model)
    if len(waiting) < 2:
        return None
    middle = set(waiting[:-1])
    inside_reads = entries_in(model, model.scalar_reads)
    reads = _reads(model, units(model, sorted(middle & inside_reads), inside_reads))
    in_reads = {i for _, _, inside in reads for i in inside}
    entries = [
        e.changed(dur=e.ret, ret=None, waits_own=False) if i in middle and i not in in_reads else e
        for i, e in enumerate(model.entries)
    ]
    trimmed = replace(model, entries=entries)
    entries, detached = rebuild(trimmed, reads, lambda a, b, inside: Entry(a=a, b=b, dur=0))
    targeted = [(model.entries[i].a, model.entries[i].b) for i in middle] + [(a, b) for a, b, _ in reads]
    return Edited(entries, detached, targeted)


def _reads(model: StepModel, found: list[tuple[int, int, list[int]]]) -> list[tuple[int, int, list[int]]]:
    """The units that lie inside a scalar read (`.item()` and kin)."""
    spans = Intervals(*interval_arrays([(a, b) for a, b, _ in found]))
    inside = held_by_any(spans, model.scalar_reads)
    return [unit for unit, read in zip(found, inside.tolist(), strict=True) if read]


def edit(inputs: ChangeInputs) -> Edit:
    return remove_host_syncs


CHANGE = Change("remove_host_syncs", edit)

TEXTS = {
    "en": {
        "title": "Keep device values on the device inside the step",
        "summary": "The host reads device values {per_step:.1f} times per step (.item(), .cpu(), a tensor "
        "in an if) and waits for the device each time; with one read at the end the step would take about "
        "{predicted}.",
        "actions.cuda": [
            "Keep flags and counters as device tensors (torch.where, masked updates) and read them once, at "
            "the end of the step.",
            "Replace `if x.item():` by computing both branches on the device or deciding every N steps.",
            "torch.cuda.set_sync_debug_mode('warn') lists every synchronizing call.",
        ],
        "reason.no_mid_step_syncs": "the host does not wait for the device inside a step",
        "method.remove_host_syncs": "replay with the synchronizations before the step's last one not waiting",
        "assume.no_host_decision": "the host does not need the values it waited for to continue",
    },
    "zh": {
        "title": "步内把设备数值留在设备上",
        "summary": "主机每步读取设备数值 {per_step:.1f} 次（.item()、.cpu()、if 中的张量），每次都等待设备；只在步末读取一次时，一步约为 {predicted}。",
        "actions.cuda": [
            "把标志和计数器保留为设备张量（torch.where、掩码更新），在步末只读取一次。",
            "用在设备上同时计算两个分支、或每 N 步判断一次，替代 `if x.item():`。",
            "torch.cuda.set_sync_debug_mode('warn') 会列出每个同步调用。",
        ],
        "reason.no_mid_step_syncs": "主机在步内不等待设备",
        "method.remove_host_syncs": "重放：一步中最后一次之前的同步不再等待",
        "assume.no_host_decision": "主机继续执行不需要所等待的值",
    },
}

RULE = Rule(id="host-syncs", case_study="002", check=check, change=CHANGE, texts=TEXTS)
