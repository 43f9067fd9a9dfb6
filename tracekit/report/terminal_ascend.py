"""The terminal table of the Ascend findings: whether each fired, its headline numbers, and the
per-step time breakdown beside the profiler's own."""

from __future__ import annotations

from rich.table import Table

from tracekit.analysis.document.ascend import AscendFindings, BlockDimFinding, H2dFinding
from tracekit.formatting import fmt_ns


def ascend_table(ascend: AscendFindings) -> Table:
    """One line per Ascend finding (details in the JSON), then one per step's time breakdown."""
    table = Table(title="Ascend findings (details: JSON 'ascend' block)", title_justify="left", box=None)
    table.add_column("finding", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("evidence")
    for key, evidence in _EVIDENCE.items():
        finding = getattr(ascend, key)
        status = "not evaluated" if not finding.evaluated else "FOUND" if finding.detected else "no"
        table.add_row(key, status, evidence(finding) if finding.evaluated else _NOT_EVALUATED[key])
    for step in ascend.time_breakdown:
        ours, theirs = step.tracekit, step.step_trace_time or step.overlap_analysis
        profiler = f" (profiler: {fmt_ns(theirs.compute_ns)})" if theirs is not None else ""
        table.add_row(
            "time (no steps)" if step.step is None else f"step {step.step} time",
            "",
            f"compute {fmt_ns(ours.compute_ns)}{profiler}, uncovered communication "
            f"{fmt_ns(ours.communication_not_overlapped_ns)}, free {fmt_ns(ours.free_ns)} "
            f"of {fmt_ns(ours.e2e_ns)}",
        )
    return table


def _h2d(f: H2dFinding) -> str:
    return f"{f.count:,} copies, {fmt_ns(f.total_ns)}, up to {f.max_per_step:,} per step"


def _block_dim(f: BlockDimFinding) -> str:
    cores = f.core_counts or {}  # evaluated only with the core counts
    return (
        f"{f.count:,} operators below or not a multiple of the core count (AI Core {cores['ai_core']}, "
        f"vector {cores['vector_core']}), {fmt_ns(f.total_ns)}"
    )


_EVIDENCE = {
    "h2d": _h2d,
    "ai_cpu": lambda f: f"{f.count:,} AI CPU operators, {fmt_ns(f.total_ns)}",
    "dynamic_shape": lambda f: f"{f.count:,} dynamic operators, task wait {fmt_ns(f.task_wait_ns)}",
    "int64": lambda f: f"{f.count:,} operators with int64 inputs, {fmt_ns(f.total_ns)}",
    "block_dim": _block_dim,
}
_NOT_EVALUATED = {
    "h2d": "-",
    "ai_cpu": "needs the operators' core types (kernel_details / op_summary)",
    "dynamic_shape": "needs the operators' OP State (op_summary)",
    "int64": "needs the operators' input data types (kernel_details / op_summary)",
    "block_dim": "the trace gives no core count (info.json ai_core_num)",
}
