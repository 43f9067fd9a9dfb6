"""graph-launch: kernels launched one by one; capture the step as a graph (or fuse its kernels)."""

from __future__ import annotations

import numpy as np

from tracekit.analysis.changes import (
    Change,
    ChangeInputs,
    Edit,
    Edited,
    flagged_ops,
    merge_adjacent,
    rebuild,
    synchronizing,
    units,
)
from tracekit.analysis.columns import Columns
from tracekit.analysis.replay import Entry, StepModel
from tracekit.formatting import fmt_ns, fmt_share
from tracekit.rules.model import FIRED, Context, Evidence, Gain, Outcome, Rule, not_applicable

GRAPH_LAUNCH_PER_KERNEL_NS = 950  # cudaGraphLaunch of 48 kernels took 45.5 us (H200, tests/data/gpu)
GRAPH_KERNEL_GAP_NS = 112  # median gap between a graph's kernels, same recording


def check(ctx: Context) -> Outcome:
    """Kernels launched one by one: capture the step as a graph (or fuse its kernels); the plan
    replays it, after the changes its precondition needs (no synchronization inside the step)."""
    if ctx.device is None or not ctx.device.launch or not ctx.device.launch.kernels_with_launch:
        return not_applicable("needs_launch_links")
    launch = ctx.device.launch
    host_wait = ctx.device.bubbles.by_cause.host_wait.total_ns / max(ctx.device.window_ns, 1)
    short = fmt_share(launch.short_kernel_share or 0)
    return Outcome(
        FIRED,
        params={"short": short, "wait": fmt_share(host_wait)},
        evidence=(
            Evidence("ev.short_kernel_share", short, "launch.short_kernel_share"),
            Evidence("ev.host_wait_share", fmt_share(host_wait), "bubbles.cause"),
            Evidence("ev.launch_call", fmt_ns(launch.call_p50_ns), "launch.delay"),
        ),
        gain=Gain("step_time", None, "method.graph_launch", ("assume.graph_capturable",)),
    )


def graph_launch(model: StepModel, cols: Columns) -> Edited | None:
    """Each run of consecutive host work that only launches single kernels becomes one graph launch:
    the host issues one call costing GRAPH_LAUNCH_PER_KERNEL_NS per kernel, and the kernels run back
    to back, GRAPH_KERNEL_GAP_NS apart (or the step's smallest gap, if smaller).

    Precondition: no synchronizing call before the step's last one (a graph cannot be captured
    across `.item()`, a data-dependent shape or a pageable copy); the plan removes those first."""
    if len(synchronizing(model)) > 1:
        return None
    sizes, kernels = flagged_ops(model, cols.kernel_like)
    launchers = np.flatnonzero((sizes == 1) & (kernels == 1)).tolist()
    returns = np.fromiter((e.ret is not None for e in model.entries), dtype=bool, count=len(model.entries))
    allowed = set(np.flatnonzero(~returns & (kernels == sizes)).tolist())
    runs = _runs(units(model, launchers, allowed), model)
    if not runs:
        return None
    single_call = int(np.median([model.entries[i].dur for i in launchers]))
    gap = min(model.min_gap, GRAPH_KERNEL_GAP_NS)

    def make(a: int, b: int, inside: list[int]) -> Entry:
        ops = [op for i in inside for op in model.entries[i].ops]
        chained = [op.changed(host_bound=(k == 0), lag=model.min_lag, gap=gap) for k, op in enumerate(ops)]
        call = max(single_call, GRAPH_LAUNCH_PER_KERNEL_NS * len(ops))
        return Entry(a=a, b=b, dur=call, ops=tuple(chained))

    entries, detached = rebuild(model, runs, make)
    return Edited(entries, detached, [(a, b) for a, b, _ in runs])


def _runs(found: list[tuple[int, int, list[int]]], model: StepModel) -> list[tuple[int, int, list[int]]]:
    """Adjacent units merged (merge_adjacent), keeping runs of 2+ launches."""
    runs = merge_adjacent(found)
    return [run for run in runs if sum(1 for i in run[2] if model.entries[i].ops) >= 2]


def edit(inputs: ChangeInputs) -> Edit:
    return graph_launch


CHANGE = Change(
    "graph_launch", edit, enabled_by=("remove_host_syncs", "static_shapes", "pin_memory", "batch_h2d")
)
"""Graph capture needs a step without synchronizations (.item(), data-dependent shapes, pageable
copies): the plan may first apply the change that removes them."""

TEXTS = {
    "en": {
        "title": "Launch the step as a graph (or fuse kernels)",
        "summary": "{short} of kernels are shorter than their launch call and the device waits for the host "
        "{wait} of the time: the step is launch-bound.",
        "actions.cuda": [
            "Capture the step in a CUDA graph (torch.cuda.CUDAGraph / "
            "torch.compile(mode='reduce-overhead')) and replay it with static input buffers.",
            "Fuse small element-wise kernels (torch.compile, TensorRT) to cut the number of launches.",
        ],
        "actions.ascend": [
            "Run in graph mode (torchair / ACL graph, or an offline OM model) instead of single-operator "
            "mode, and fuse small operators.",
        ],
        "reason.needs_launch_links": "needs kernels linked to their launch calls",
        "ev.short_kernel_share": "kernels shorter than their launch call",
        "ev.host_wait_share": "device waiting for launches",
        "ev.launch_call": "launch call p50",
        "method.graph_launch": "replay with each run of launch-only host work replaced by one launch call "
        "(median launch call) and its kernels chained with the step's smallest gap",
        "assume.graph_capturable": "the launch-only segments have static shapes and no host decisions",
    },
    "zh": {
        "title": "以图方式下发（或融合核函数）",
        "summary": "{short} 的核函数比其下发调用还短，设备有 {wait} 的时间在等待主机：该步受下发开销限制。",
        "actions.cuda": [
            "把一步捕获为 CUDA Graph（torch.cuda.CUDAGraph / torch.compile(mode='reduce-overhead')），用静态输入缓冲区重放。",
            "融合小的逐元素核函数（torch.compile、TensorRT）以减少下发次数。",
        ],
        "actions.ascend": [
            "使用图模式（torchair / ACL graph，或离线 OM 模型）代替单算子模式，并融合小算子。",
        ],
        "reason.needs_launch_links": "需要核函数与其下发调用的关联",
        "ev.short_kernel_share": "比下发调用还短的核函数",
        "ev.host_wait_share": "设备等待下发",
        "ev.launch_call": "下发调用 p50",
        "method.graph_launch": "重放：每段只做下发的主机工作替换为一次下发调用（下发调用中位数），其核函数以本步最小间隔首尾相接",
        "assume.graph_capturable": "只做下发的片段形状静态，且没有主机决策",
    },
}

RULE = Rule(id="graph-launch", case_study="002", check=check, change=CHANGE, texts=TEXTS)
