"""pin-memory: pageable H2D copies that block the host come from pinned memory instead."""

from __future__ import annotations

import numpy as np

from tracekit.analysis.changes import (
    Change,
    ChangeInputs,
    CopyCost,
    Edit,
    Edited,
    copy_targets,
    device_intervals,
    rebuild,
    unit_cost,
    units,
    waiting_ns,
)
from tracekit.analysis.columns import Columns
from tracekit.analysis.copies import host_memory
from tracekit.analysis.replay import Entry, Op, StepModel
from tracekit.formatting import fmt_bytes, fmt_share
from tracekit.model.schema import MemoryKind
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
    """Pageable copies that block the host: pinned buffers make them asynchronous."""
    copies = h2d(ctx)
    if copies is None:
        return not_applicable("needs_device")
    if ctx.platform == "ascend":
        return not_applicable("no_pinned_info")
    if not copies.pageable_count:
        return not_fired("no_pageable")
    estimate = ctx.estimate(CHANGE.name)
    if estimate is None or not estimate.applicable:
        return not_applicable("needs_pinned_rate")

    def fired() -> Outcome:
        return Outcome(
            FIRED,
            params={"count": copies.pageable_count, "bytes": fmt_bytes(copies.pageable_bytes)},
            evidence=(
                Evidence("ev.pageable_copies", f"{copies.pageable_count:,}", "copies.pageable_pinned"),
                Evidence("ev.pageable_bytes", fmt_bytes(copies.pageable_bytes), "copies.pageable_pinned"),
                Evidence("ev.targeted_share", fmt_share(estimate.removable_share), "whatif.removable_share"),
            ),
            gain=replayed_gain(estimate, "method.pin_memory", "assume.pinned_cost"),
        )

    return replay_verdict(estimate, fired)


def pin_memory(model: StepModel, cols: Columns, cost: CopyCost) -> Edited | None:
    """H2D copies from pageable memory come from pinned memory: each copy runs at the pinned rate
    (`cost`: fitted on the trace's pinned copies, else the GPU's host link), and its call, which
    staged the data through a driver buffer or waited for the copy, costs the step's cheapest other
    launch call (_async_call_ns)."""

    def pageable(op: Op) -> bool:
        return host_memory(cols, np.array([op.row]))[0] == MemoryKind.PAGEABLE

    targets, allowed = copy_targets(model, cols, pageable)
    if not targets:
        return None
    found = units(model, targets, allowed)
    async_call = _async_call_ns(model, set(targets))

    def make(a: int, b: int, inside: list[int]) -> Entry:
        copies = [i for i in inside if i in targets]
        ops = tuple(
            op.with_dur(cost.of(int(cols.bytes[op.row]))) for i in inside for op in model.entries[i].ops
        )
        staged = sum(model.entries[i].dur for i in copies) - waiting_ns([model.entries[i] for i in copies])
        host = unit_cost(model, (a, b, inside)) - staged + async_call * len(copies)
        return Entry(a=a, b=b, dur=max(host, 0), ops=ops)

    entries, detached = rebuild(model, found, make)
    copies = [op for i in targets for op in model.entries[i].ops]
    targeted = [(model.entries[i].a, model.entries[i].b) for i in targets] + device_intervals(copies)
    return Edited(entries, detached, targeted)


def _async_call_ns(model: StepModel, excluded: set[int]) -> int:
    """What an asynchronous enqueue costs the host: the step's cheapest other launch call (one that
    enqueues device work and returns without waiting), 0 without any. An asynchronous copy call does
    less than a kernel launch (no kernel arguments), so the cheapest launch is the closer estimate."""
    calls = [e.dur for i, e in enumerate(model.entries) if e.ops and e.ret is None and i not in excluded]
    return min(calls) if calls else 0


def edit(inputs: ChangeInputs) -> Edit | None:
    """Pinning at the pinned copies' rate; None when neither the trace nor the GPU gives it."""
    cost = inputs.pinned_cost
    return (lambda model, cols: pin_memory(model, cols, cost)) if cost else None


CHANGE = Change("pin_memory", edit)

TEXTS = {
    "en": {
        "title": "Copy from pinned (page-locked) host memory",
        "summary": "{count:,} H2D copies from pageable memory ({bytes}) made the host wait for the copy; "
        "from pinned memory they run asynchronously.",
        "actions.cuda": [
            "Allocate the host tensors once with pin_memory=True (or DataLoader(pin_memory=True)) and copy "
            "with .to('cuda', non_blocking=True).",
            "In CUDA code, use cudaHostAlloc / cudaHostRegister for the buffers passed to cudaMemcpyAsync.",
        ],
        "reason.no_pinned_info": "msprof does not record whether host memory is pinned",
        "reason.no_pageable": "no copies from pageable memory",
        "reason.needs_pinned_rate": "no pinned copies of two sizes in the trace and no host link rate for "
        "this GPU (give --device) to predict pinned copies",
        "ev.pageable_copies": "pageable H2D copies",
        "ev.pageable_bytes": "pageable bytes",
        "method.pin_memory": "replay with each blocking pageable copy issued asynchronously, its host wait "
        "removed, and its duration from the pinned copies' fit",
        "assume.pinned_cost": "an asynchronous copy costs the host what the same copy cost without waiting",
    },
    "zh": {
        "title": "从锁页（pinned）主机内存拷贝",
        "summary": "{count:,} 次来自可分页内存的 H2D 拷贝（{bytes}）让主机等待拷贝完成；改用锁页内存后可异步执行。",
        "actions.cuda": [
            "主机张量一次性用 pin_memory=True 分配（或 DataLoader(pin_memory=True)），并以 .to('cuda', non_blocking=True) 拷贝。",
            "CUDA 代码中，传给 cudaMemcpyAsync 的缓冲区用 cudaHostAlloc / cudaHostRegister 分配。",
        ],
        "reason.no_pinned_info": "msprof 不记录主机内存是否锁页",
        "reason.no_pageable": "没有来自可分页内存的拷贝",
        "reason.needs_pinned_rate": "迹中没有两种大小以上的锁页拷贝，也不知道该 GPU 的主机链路速率（可给出 --device），无法预测锁页拷贝",
        "ev.pageable_copies": "可分页 H2D 拷贝",
        "ev.pageable_bytes": "可分页字节数",
        "method.pin_memory": "重放：每次阻塞的可分页拷贝改为异步发起，去掉主机等待，时长按锁页拷贝的拟合",
        "assume.pinned_cost": "异步拷贝的主机开销等于同一拷贝不含等待的开销",
    },
}

RULE = Rule(id="pin-memory", case_study="002", check=check, change=CHANGE, texts=TEXTS)
