"""The Ascend section: one row per Ascend finding (evaluated, found, its evidence) and the per-step
time breakdown against the profiler's own; only on Ascend traces."""

from __future__ import annotations

from tracekit.analysis.document.ascend import (
    AiCpuFinding,
    AscendFindings,
    BlockDimFinding,
    Breakdown,
    DynamicShapeFinding,
    H2dFinding,
    Int64Finding,
    StepBreakdown,
)
from tracekit.formatting import fmt_ns
from tracekit.report.formulas import ascend_formula
from tracekit.report.html.cells import capped_rows_note, ns_cell
from tracekit.report.html.context import Context, Translate
from tracekit.report.html.markup import Cell, Column, element, table, text

MAX_ASCEND_STEPS = 50
Finding = H2dFinding | AiCpuFinding | DynamicShapeFinding | Int64Finding | BlockDimFinding


def ascend_section(ctx: Context) -> str:
    """The Ascend findings block: one row per finding, then the per-step time breakdown."""
    ascend = ctx.document.ascend
    if ascend is None:
        return ""
    t = ctx.t
    columns = [Column(t("asc.finding")), Column(t("asc.status")), Column(t("asc.evidence"))]
    rows = []
    for key, finding in _findings(ascend):
        hint = f"{t('hint.formula')}: {ascend_formula(key, ctx.lang, ascend.definitions.get(key, key))}"
        rows.append(
            [
                Cell(key, hint=hint),
                Cell(_ascend_status(t, finding)),
                Cell(_ascend_evidence(t, key, finding) if finding.evaluated else "-", hint=hint),
            ]
        )
    return table(columns, rows) + _ascend_breakdown(ctx, ascend)


def _findings(ascend: AscendFindings) -> list[tuple[str, Finding]]:
    """The findings by name, in the report's order."""
    return [
        ("h2d", ascend.h2d),
        ("ai_cpu", ascend.ai_cpu),
        ("dynamic_shape", ascend.dynamic_shape),
        ("int64", ascend.int64),
        ("block_dim", ascend.block_dim),
    ]


def _ascend_status(t: Translate, finding: Finding) -> str:
    if not finding.evaluated:
        return t("asc.not_evaluated")
    return t("asc.found") if finding.detected else t("asc.not_found")


def _ascend_evidence(t: Translate, key: str, f: Finding) -> str:
    """The finding's numbers in one line; `-` for a block_dim finding without both core counts."""
    if key == "h2d":
        return t("asc.h2d", count=f"{f.count:,}", total=fmt_ns(f.total_ns), max_per_step=f.max_per_step)
    if key in ("ai_cpu", "int64"):
        return t(f"asc.{key}", count=f"{f.count:,}", total=fmt_ns(f.total_ns))
    if key == "dynamic_shape":
        return t("asc.dynamic_shape", count=f"{f.count:,}", wait=fmt_ns(f.task_wait_ns))
    cores = f.core_counts or {}
    if "ai_core" not in cores or "vector_core" not in cores:
        return "-"
    return t("asc.block_dim", cores=f"AI Core {cores['ai_core']} / Vector Core {cores['vector_core']}")


def _ascend_breakdown(ctx: Context, ascend: AscendFindings) -> str:
    breakdown = ascend.time_breakdown
    if not breakdown:
        return ""
    t = ctx.t
    english = ascend.definitions.get("time_breakdown", "")
    hint = f"{t('hint.formula')}: {ascend_formula('time_breakdown', ctx.lang, english)}"
    columns = (
        [Column(t("asc.step"))]
        + [
            Column(t(label), hint, numeric=True)
            for label in ("asc.e2e", "asc.compute", "asc.communication", "asc.not_overlapped", "asc.free")
        ]
        + [Column(t("asc.profiler"), hint)]
    )
    rows = [_breakdown_row(step) for step in breakdown[:MAX_ASCEND_STEPS]]
    return (
        element("h3", text(t("asc.breakdown")))
        + table(columns, rows)
        + capped_rows_note(ctx, len(breakdown), min(len(breakdown), MAX_ASCEND_STEPS))
    )


def _breakdown_row(step: StepBreakdown) -> list[Cell]:
    """Our parts of the step, then the profiler's (step_trace_time, else overlap_analysis)."""
    number, theirs = step.step, step.step_trace_time or step.overlap_analysis
    profiler = ", ".join(fmt_ns(value) for value in _parts(theirs)) if theirs is not None else "-"
    return (
        [Cell("-" if number is None else str(number), number)]
        + [ns_cell(value) for value in _parts(step.tracekit)]
        + [Cell(profiler)]
    )


def _parts(b: Breakdown) -> list[int]:
    """e2e, compute, communication, communication not overlapped and free time, in that order."""
    return [b.e2e_ns, b.compute_ns, b.communication_ns, b.communication_not_overlapped_ns, b.free_ns]
