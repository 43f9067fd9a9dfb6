"""The whole analysis of one trace: the `tracekit.analysis/1` document (docs/json.md)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from tracekit import resident
from tracekit.analysis.ascend import ascend_findings
from tracekit.analysis.blocking import blocking_copies, sync_calls
from tracekit.analysis.bubbles import bubble_summary
from tracekit.analysis.changes import Change
from tracekit.analysis.columns import Columns
from tracekit.analysis.communication import communication_block, profiler_communication
from tracekit.analysis.copies import REPORTED_DIRECTIONS, copy_rows, copy_summary, memset_summary
from tracekit.analysis.definitions import DEFINITIONS
from tracekit.analysis.document import SCHEMA, Document, to_document
from tracekit.analysis.gaps import long_gaps
from tracekit.analysis.hotspots import cpu_op_hotspots, kernel_hotspots
from tracekit.analysis.launch import launch_summary
from tracekit.analysis.memory import memory_summary
from tracekit.analysis.operators import choose_hardware, operator_block
from tracekit.analysis.options import Options
from tracekit.analysis.steps import step_summary
from tracekit.analysis.timeline import step_timeline
from tracekit.analysis.utilization import busy_set, utilization
from tracekit.analysis.whatif import whatif_block
from tracekit.analysis.workload import workload
from tracekit.errors import TraceError
from tracekit.model.arrays import arrow, numeric
from tracekit.model.steps import marker_names, steps_from_markers
from tracekit.model.trace import Trace
from tracekit.parallel import beside

MARKER_NAMES = 5  # annotation names offered as step markers when the trace has no steps


def analyze(trace: Trace, options: Options = Options(), changes: Sequence[Change] = ()) -> Document:
    """Every metric of the trace, per device (the typed `tracekit.analysis/1` document); the what-if
    block estimates `changes` (the rules' replay changes: `tracekit.rules.CHANGES`; none: no
    per-change estimate, an empty plan). The what-if is computed here while a helper on a spare core
    computes the rest (tracekit/parallel.py, `beside`); a table spilled under a memory budget is
    analysed in this process alone, which gives its pages back between phases (tracekit/resident.py)."""
    table = trace.events
    if options.step_marker is not None:
        table = marker_steps(trace, options.step_marker)
    if options.steps is not None:
        table = select_steps(trace, options.steps, table)
    cols = Columns.from_table(table)
    devices = cols.devices()

    def whatifs() -> list[dict[str, object] | None]:
        return [_whatif(table, cols, d, options, trace.metadata, changes) for d in devices]

    def measured() -> dict[str, object]:
        return _measured(trace, table, cols, devices, options)

    if options.measures_only or table.num_rows < HELPED_MIN_ROWS or resident.holding():
        plain, per_device = measured(), whatifs()
    else:
        plain, per_device = beside(measured, whatifs)
    for block, whatif in zip(plain["devices"], per_device, strict=True):
        if whatif is not None:
            block["whatif"] = whatif
    return to_document(plain)


HELPED_MIN_ROWS = 1 << 16
"""Smaller tables are analysed in this process alone: a helper would cost about what it saves."""


def _measured(
    trace: Trace, table: pa.Table, cols: Columns, devices: list[int], options: Options
) -> dict[str, object]:
    """The document without its what-if blocks."""
    resident.give_back()  # the read's pages and freed heap
    steps = step_summary(table)
    return {
        "schema": SCHEMA,
        "trace": _trace_block(trace, table, cols, steps["count"]),
        "options": {
            "top": options.top,
            "bubble_threshold_ns": options.bubble_threshold_ns,
            "gap_threshold_ns": options.gap_threshold_ns,
            "steps": list(options.steps) if options.steps else None,
            "step_marker": options.step_marker,
            "kernel_names": "full" if options.full_kernel_names else "short",
            "device": options.device,
            "unprofiled_step_ns": options.unprofiled_step_ns,
        },
        "steps": steps,
        "devices": [_device_block(table, cols, d, options, steps["count"], trace.metadata) for d in devices],
        "host": {
            "cpu_op_hotspots": resident.after(cpu_op_hotspots(cols, options.top)),
            "sync_calls": None if options.measures_only else sync_calls(cols, options.top),
        },
        "timeline": None if options.measures_only else resident.after(step_timeline(table)),
        "definitions": DEFINITIONS,
        **({} if options.measures_only else _ascend_block(trace, table, cols)),
    }


def marker_steps(trace: Trace, name: str) -> pa.Table:
    """The events with steps redefined by the annotation `name`; an unknown name is an input error."""
    table = steps_from_markers(trace.events, name)
    if table is None:
        known = ", ".join(marker_names(trace.events)[:8]) or "none"
        raise TraceError(trace.source, f"no annotation or NVTX range named {name!r} (most frequent: {known})")
    return table


def select_steps(trace: Trace, steps: tuple[int, int], table: pa.Table | None = None) -> pa.Table:
    """The events of steps first..last (inclusive); an empty selection is an input error."""
    table = trace.events if table is None else table
    first, last = steps
    column = numeric(table.column("step"))
    selected = table.filter(arrow((column >= first) & (column <= last)))
    if selected.num_rows == 0:
        present = np.unique(column)
        present = present[present >= 0]
        known = f"{present.min()}:{present.max()}" if len(present) else "none"
        raise TraceError(trace.source, f"no events in steps {first}:{last} (steps in trace: {known})")
    return selected


def _trace_block(trace: Trace, table: pa.Table, cols: Columns, step_count: int) -> dict[str, object]:
    span = (int(cols.start.min()), int(cols.end.max())) if len(cols.start) else (None, None)
    return {
        "source": trace.source,
        "format": trace.format,
        "events": table.num_rows,
        "workload": workload(cols),
        "capture_span": {
            "start_ns": span[0],
            "end_ns": span[1],
            "duration_ns": span[1] - span[0] if span[0] is not None else None,
        },
        "metadata": trace.metadata,
        # without steps, the annotations that could make them (--steps nvtx:NAME), most frequent first
        "marker_names": [] if step_count else marker_names(table)[:MARKER_NAMES],
    }


def _device_block(
    table: pa.Table, cols: Columns, device: int, options: Options, step_count: int, metadata: dict
) -> dict[str, object]:
    """The device's block without its what-if."""
    ops = cols.device_ops(device)
    kernels = cols.kernels(ops)
    block: dict[str, object] = {"id": device, "operations": len(ops)}
    block.update(utilization(cols, ops))
    lo, hi = block["window"]["start_ns"], block["window"]["end_ns"]
    block["bubbles"] = bubble_summary(cols, ops, lo, hi, options.bubble_threshold_ns, device)
    block["long_gaps"] = resident.after(long_gaps(cols, ops, lo, hi, options.gap_threshold_ns))
    kernel_busy = busy_set(cols, kernels)
    for key, direction in REPORTED_DIRECTIONS.items():
        rows = copy_rows(cols, ops, direction)
        block[key] = copy_summary(cols, rows, block["busy_ns"], kernel_busy, hi - lo, step_count)
    block["memset"] = memset_summary(cols, ops)
    hotspots = resident.after(kernel_hotspots(cols, kernels, options.top, options.full_kernel_names))
    if options.measures_only:  # all that tracekit/compare reads (metrics.py, diff.py)
        return {**block, "hotspots": hotspots}
    hardware = choose_hardware(metadata, device, options.device)
    return (
        block
        | resident.after(_communication_and_blocking(table, cols, ops, (lo, hi), metadata, options.top))
        | {
            "hotspots": hotspots,
            "launch": launch_summary(cols, kernels),
            **resident.after(operator_block(table, cols, device, hardware)),
            "memory": resident.after(memory_summary(cols, device)),
        }
    )


def _whatif(
    table: pa.Table, cols: Columns, device: int, options: Options, metadata: dict, changes: Sequence[Change]
) -> dict[str, object] | None:
    """The device's what-if block; None where only measures are asked for."""
    if options.measures_only:
        return None
    hardware = choose_hardware(metadata, device, options.device)
    resident.give_back()
    return whatif_block(table, cols, device, hardware.row, options.unprofiled_step_ns, changes)


def _communication_and_blocking(
    table: pa.Table,
    cols: Columns,
    ops: np.ndarray,
    window: tuple[int, int],
    metadata: dict,
    top: int,
) -> dict[str, object]:
    """The communication block (with the profiler's own numbers, Ascend) and the blocking copies."""
    communication = communication_block(table, cols, ops, *window)
    profiler = profiler_communication((metadata.get("ascend") or {}).get("communication_json"))
    if profiler and communication["collectives"]:
        communication["profiler"] = profiler
    return {"communication": communication, "blocking": blocking_copies(cols, ops, top)}


def _ascend_block(trace: Trace, table: pa.Table, cols: Columns) -> dict[str, object]:
    """The Ascend-only findings (tracekit/analysis/ascend.py), for Ascend traces only."""
    if trace.format != "ascend":
        return {}
    return {"ascend": ascend_findings(table, cols, trace.metadata.get("ascend", {}))}
