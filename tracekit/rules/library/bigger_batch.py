"""bigger-batch: operators of a few microseconds dominated by fixed costs; a bigger batch amortizes
them. Its change is replayed alone (a throughput lever: it costs latency), and its hook turns the
replayed step into a throughput gain."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tracekit.analysis.changes import Change, ChangeInputs, CopyCost, Edit, Edited, busy_ns
from tracekit.analysis.columns import Columns
from tracekit.analysis.replay import Op, StepModel
from tracekit.analysis.row_values import RowValues
from tracekit.formatting import fmt_ns, fmt_share
from tracekit.model.schema import Kind
from tracekit.rules.common import kernel_utilization, training
from tracekit.rules.model import (
    FIRED,
    THROUGHPUT,
    Context,
    Evidence,
    Gain,
    Outcome,
    Rule,
    not_applicable,
    not_fired,
)

BATCH_FACTOR = 2


def check(ctx: Context) -> Outcome:
    """Operators of a few microseconds dominated by fixed costs: a bigger batch amortizes them. It
    is a finding while it gives more than it costs: throughput gain > latency cost (new step / old
    step), i.e. while the doubled batch's step grows by less than sqrt(2); past that knee of the
    throughput-latency curve each sample waits longer than throughput grows."""
    estimate = ctx.whatif.bigger_batch if ctx.whatif else None
    if ctx.device is None or estimate is None or not estimate.applicable:
        return not_applicable("needs_steps_and_device")
    if training(ctx):
        return not_applicable("training")
    kernels = ctx.whatif.kernels
    if estimate.throughput_gain is None:
        return not_fired("nothing_to_change")
    cost = estimate.predicted_step_ns / max(estimate.baseline_step_ns, 1)
    if estimate.throughput_gain <= cost:
        return not_fired("costs_more_latency", gain=estimate.throughput_gain, cost=cost)
    return Outcome(
        FIRED,
        params={"median": fmt_ns(kernels.median_ns), "factor": estimate.factor},
        evidence=(
            Evidence("ev.kernel_median", fmt_ns(kernels.median_ns), "whatif.kernels"),
            Evidence("ev.short_kernels", fmt_share(kernels.short_share), "whatif.kernels"),
            Evidence("ev.kernel_utilization", fmt_share(kernel_utilization(ctx)), "kernel_utilization"),
        ),
        gain=Gain(
            metric="throughput",
            speedup=estimate.throughput_gain,
            method="method.bigger_batch",
            assumptions=("assume.linear_work", "assume.memory_fits"),
            baseline_step_ns=estimate.baseline_step_ns,
            predicted_step_ns=estimate.predicted_step_ns,
            amdahl_bound=estimate.amdahl_bound,
            latency_cost=cost,
        ),
    )


@dataclass(frozen=True)
class Growth:
    """How each device operation's time grows with a BATCH_FACTOR times larger batch: a copy by its
    per-byte part; a kernel whose operator has a roofline share u by 1 + u
    (tracekit/analysis/batch_growth.py); any other kernel doubles beyond the device's shortest
    kernel `floor_ns` (its fixed cost). Launches, dispatch and host time stay."""

    cost: CopyCost
    floor_ns: int
    factors: RowValues

    def durations(self, cols: Columns, ops: list[Op]) -> np.ndarray:
        """The operations' grown times: a copy by its bytes at the per-byte cost, a kernel with a
        roofline share by its factor, any other beyond the floor by BATCH_FACTOR (rounded half to even,
        as `round`)."""
        rows = np.fromiter((op.row for op in ops), dtype=np.int64, count=len(ops))
        dur = np.fromiter((op.dur for op in ops), dtype=np.int64, count=len(ops))
        factor, known = self.factors.at(rows)
        scaled = np.rint(dur * factor).astype(np.int64)
        grown = np.where(known, scaled, dur + (BATCH_FACTOR - 1) * np.maximum(dur - self.floor_ns, 0))
        per_byte = np.rint(self.cost.ns_per_byte * np.maximum(cols.bytes[rows], 0)).astype(np.int64)
        return np.where(cols.kind[rows] == Kind.MEMCPY, dur + per_byte, grown)


def bigger_batch(model: StepModel, cols: Columns, growth: Growth) -> Edited:
    """Every device operation of the step grown as `growth` says; launch-bound kernels and kernels far
    from the roofline therefore barely grow."""
    ops = [op for e in model.entries for op in e.ops] + [op for _, op in model.detached]
    grown = iter(growth.durations(cols, ops).tolist())
    entries = [
        e.with_ops(tuple(op.with_dur(next(grown)) for op in e.ops)) if e.ops else e for e in model.entries
    ]
    detached = [(i, op.with_dur(next(grown))) for i, op in model.detached]
    return Edited(entries, detached, [])


def _growth(inputs: ChangeInputs) -> Growth:
    return Growth(inputs.copy_cost, inputs.kernel_floor_ns, inputs.doubled_work)


def edit(inputs: ChangeInputs) -> Edit:
    """A doubled batch at the device's copy cost, kernel floor and operators' roofline shares."""
    growth = _growth(inputs)
    return lambda model, cols: bigger_batch(model, cols, growth)


def throughput(estimate: dict, models: list[StepModel], inputs: ChangeInputs) -> dict:
    """The replayed estimate with the device's capacity floor and the throughput gain."""
    estimate.update(device_capacity(models, inputs.cols, _growth(inputs)))
    estimate.update(_throughput_gain(estimate))
    return estimate


def device_capacity(models: list[StepModel], cols: Columns, growth: Growth) -> dict[str, object]:
    """The device time a BATCH_FACTOR times larger batch needs: the step's busy device time (every
    stream's work, other instances' too) times the growth of its operations' summed time
    (_grown_share); the replayed step cannot be shorter (the replay does not model streams
    contending for the device)."""
    if not models:
        return {}
    busy = float(np.median([busy_ns(cols, m.rows, m.start, m.end) for m in models]))
    ratio = float(np.median([_grown_share(cols, m.rows, growth) for m in models]))
    return {"device_busy_ns": round(busy), "capacity_floor_ns": round(ratio * busy)}


def _grown_share(cols: Columns, rows: np.ndarray, growth: Growth) -> float:
    """Summed device time after / before: kernels with a roofline share grow by their factor, every
    other operation by BATCH_FACTOR (its growth is not known: the bound stays conservative)."""
    before = int(cols.dur[rows].sum())
    factors = growth.factors.among(rows)
    after = sum(int(cols.dur[r]) * factors.get(r, BATCH_FACTOR) for r in rows.tolist())
    return after / before if before else float(BATCH_FACTOR)


def _throughput_gain(estimate: dict[str, object]) -> dict[str, object]:
    """Samples per second gained by a BATCH_FACTOR times larger batch: factor x old / new step time,
    the new step no shorter than the device capacity floor."""
    if not estimate["applicable"] or not estimate["predicted_step_ns"]:  # a step of 0 ns gains nothing
        return {"factor": BATCH_FACTOR, "throughput_gain": None}
    estimate["predicted_step_ns"] = max(estimate["predicted_step_ns"], estimate.get("capacity_floor_ns", 0))
    gain = BATCH_FACTOR * estimate["baseline_step_ns"] / estimate["predicted_step_ns"]
    return {"factor": BATCH_FACTOR, "throughput_gain": gain, "amdahl_bound": float(BATCH_FACTOR)}


CHANGE = Change("bigger_batch", edit, throughput=throughput)

TEXTS = {
    "en": {
        "title": "Increase the batch size",
        "summary": "Kernels take {median} (median): fixed launch and dispatch costs dominate; a {factor}x "
        "batch amortizes them.",
        "actions.cuda": [
            "Raise the batch size (or enable dynamic batching in the server, e.g. Triton dynamic_batching) "
            "until kernels run well above 10 us or latency reaches its budget.",
        ],
        "actions.ascend": [
            "Raise BatchSize (case 000: 128 -> 256 gave +95.7 % throughput for +7.9 % latency) and rebuild "
            "the model for the new shape.",
        ],
        "reason.costs_more_latency": "a twice larger batch gains x{gain:.2f} throughput for x{cost:.2f} "
        "step time: it costs more than it gives",
        "ev.kernel_median": "median kernel duration",
        "ev.short_kernels": "kernels shorter than 10 us",
        "method.bigger_batch": "replay with kernel time and copy bytes doubled (launch, dispatch and host "
        "time unchanged); throughput gain = 2 x measured / predicted step time",
        "assume.linear_work": "kernel time grows linearly with the batch (pessimistic for short kernels)",
        "assume.memory_fits": "the larger batch fits in device memory",
    },
    "zh": {
        "title": "增大批大小（BatchSize）",
        "summary": "核函数中位耗时 {median}：固定的下发与调度开销占主导；{factor} 倍的批大小可以摊薄这些开销。",
        "actions.cuda": [
            "提高批大小（或在服务端启用动态批处理，如 Triton dynamic_batching），直到核函数明显超过 10 us 或时延达到预算。",
        ],
        "actions.ascend": [
            "提高 BatchSize（案例 000：128 -> 256 吞吐 +95.7 %，时延 +7.9 %），并按新形状重新构建模型。",
        ],
        "reason.costs_more_latency": "两倍批大小带来 x{gain:.2f} 吞吐量，但一步时间变为 x{cost:.2f}：得不偿失",
        "ev.kernel_median": "核函数耗时中位数",
        "ev.short_kernels": "短于 10 us 的核函数",
        "method.bigger_batch": "重放：核函数时间与拷贝字节数加倍（下发、调度和主机时间不变）；吞吐收益 = 2 × 实测 / 预测步长",
        "assume.linear_work": "核函数时间随批大小线性增长（对短核函数偏保守）",
        "assume.memory_fits": "更大的批次能放进设备内存",
    },
}

RULE = Rule(id="bigger-batch", case_study="000", check=check, group=THROUGHPUT, change=CHANGE, texts=TEXTS)
