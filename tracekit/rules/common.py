"""What several rules read the same way: copies, kernel utilization, the workload, the step's
synchronizations, pipeline stages and the Ascend operator findings."""

from __future__ import annotations

from tracekit.analysis.document.ascend import OpTypeGroup
from tracekit.analysis.document.device import CopySummary
from tracekit.analysis.document.whatif import Pipeline
from tracekit.formatting import fmt_ns, fmt_share
from tracekit.rules.model import (
    FIRED,
    Context,
    Evidence,
    Gain,
    Outcome,
    amdahl,
    not_applicable,
    not_fired,
)


def h2d(ctx: Context) -> CopySummary | None:
    """The busiest device's H2D copy summary."""
    return ctx.device.copies("h2d") if ctx.device else None


def kernel_utilization(ctx: Context) -> float:
    return ctx.device.kernel_utilization or 0.0


def training(ctx: Context) -> bool:
    """Training steps (backward passes, optimizer updates) get no inference-serving advice."""
    workload = ctx.document.trace.workload
    return workload is not None and workload.kind == "training"


def stages(ctx: Context) -> Pipeline | None:
    """The host stage of a step and its k-worker model (`whatif.pipeline`), when the replay found
    them (a document written before the k-worker model has no `workers`: none)."""
    found = ctx.whatif.pipeline if ctx.whatif else None
    return found if found and found.applicable and found.workers_speedup is not None else None


def synchronizing_lever(ctx: Context, change: str, absent: str, method: str, assumption: str) -> Outcome:
    """A lever on the step's synchronizations: present when its change applies (else `absent`),
    with the synchronizations per step and the share of the step their change claims."""
    estimate = ctx.estimate(change)
    if estimate is None or not estimate.applicable:
        return not_fired(absent)
    return Outcome(
        FIRED,
        params={"per_step": _syncs_per_step(ctx)},
        evidence=(
            Evidence("ev.syncs_per_step", f"{_syncs_per_step(ctx):.1f}", "host.sync_calls"),
            Evidence("ev.sync_wait_share", fmt_share(estimate.removable_share), "whatif.removable_share"),
        ),
        gain=Gain("step_time", None, method, (assumption,)),
    )


def _syncs_per_step(ctx: Context) -> float:
    return ctx.document.host.sync_calls.count / max(ctx.steps, 1)


def ascend_operator_rule(ctx: Context, key: str, remaining: float, method: str, assumption: str) -> Outcome:
    """Fire on an Ascend finding; the gain shortens its operators to `remaining` of their time."""
    finding = getattr(ctx.document.ascend, key) if ctx.document.ascend else None
    if finding is None or not finding.evaluated or ctx.device is None:
        return not_applicable("needs_ascend_operator_data")
    if not finding.detected:
        return not_fired("none_found")
    share = finding.total_ns / max(ctx.device.window_ns, 1)
    groups = finding.by_op_type[:10]
    return Outcome(
        FIRED,
        params={"count": finding.count, "time": fmt_ns(finding.total_ns)},
        evidence=(
            Evidence("ev.operators", f"{finding.count:,}", f"ascend.{key}"),
            Evidence("ev.operator_time", fmt_ns(finding.total_ns), f"ascend.{key}"),
            Evidence("ev.targeted_share", fmt_share(share), "whatif.removable_share"),
        ),
        gain=Gain(
            metric="step_time",
            speedup=amdahl(share * (1 - remaining)),
            method=method,
            assumptions=(assumption, "assume.serial_device"),
            amdahl_bound=amdahl(share),
            removable_share=share,
        ),
        offenders={"columns": ["col.op_type", "col.count", "col.total"], "rows": _group_rows(groups)},
    )


def _group_rows(groups: list[OpTypeGroup]) -> list[list]:
    return [[g.op_type, g.count, fmt_ns(g.total_ns)] for g in groups]
