"""The Operators section: the busiest device's top operators against the roofline of its hardware.

Built from the device block's `operators`, `operators_summary` and `hardware` (docs/json.md): the
hardware row used, a roofline scatter (charts.roofline_chart), a sortable table and the analysis'
own notes. When there are no operators, no input shapes or no hardware row, one sentence says so.
"""

from __future__ import annotations

from tracekit.analysis.document.device import Device
from tracekit.analysis.document.operators import Hardware, Operator, OperatorsSummary
from tracekit.formatting import fmt_ns
from tracekit.report.html import charts
from tracekit.report.html.cells import MAX_TABLE_ROWS, capped_rows_note, count_cell, ns_cell, share_cell
from tracekit.report.html.context import Context
from tracekit.report.html.markup import Cell, Column, element, paragraph, table, text

BOUNDS = ("compute", "memory")
HARDWARE_SOURCES = ("trace", "option")  # how the hardware row was chosen: the trace's name, --device


def operators_section(ctx: Context, device: Device) -> str:
    """Hardware row, roofline and operator table; "" for analyses older than the operator block."""
    summary = device.operators_summary
    if summary is None:
        return ""
    operators, hardware = device.operators or [], device.hardware
    if not operators:
        return paragraph(ctx.t("ops.none"), "note") + _analysis_notes(ctx, summary)
    window = ctx.t("window.operators", device=device.id)
    sentences = _status_sentences(ctx, operators, hardware, summary.device_name)
    chart = ctx.chart(charts.roofline_chart(operators, hardware, ctx.t), ctx.t("ops.roofline"))
    shown = operators[:MAX_TABLE_ROWS]
    return (
        "".join(paragraph(sentence, "note") for sentence in sentences)
        + (_hardware_table(ctx, operators, hardware) if hardware else "")
        + chart
        + paragraph(ctx.t("hot.sort_hint"), "note")
        + _operator_table(ctx, shown, hardware, window)
        + capped_rows_note(ctx, max(summary.groups, len(operators)), len(shown))
        + _analysis_notes(ctx, summary)
    )


def _status_sentences(
    ctx: Context, operators: list[Operator], hardware: Hardware | None, device_name: str | None
) -> list[str]:
    """Why part of the section is missing: no hardware row, no input shapes, no FLOP model."""
    t, sentences = ctx.t, []
    if hardware is None and device_name:
        sentences.append(t("ops.unknown_device", device=device_name))
    elif hardware is None:
        sentences.append(t("ops.unnamed_device"))
    if not any(op.shapes for op in operators):
        sentences.append(t("ops.no_shapes"))
    elif not charts.roofline_points(operators):
        sentences.append(t("ops.no_roofline"))
    return sentences


# --- hardware row --------------------------------------------------------------------------------


def _hardware_table(ctx: Context, operators: list[Operator], hardware: Hardware) -> str:
    """The hardware-table row the roofline used: name, the peaks the operators were held to, source."""
    t = ctx.t
    window = t("window.hardware")
    peaks = charts.roof_peaks(operators)
    peaks_used = ", ".join(f"{precision} {peak:,.1f} TFLOP/s" for precision, peak in peaks.items())
    bandwidth, source = hardware.memory_gbps, hardware.source
    columns = [
        Column(t("ops.col.hardware")),
        Column(t("ops.col.device_name")),
        Column(t("ops.col.chosen_by")),
        Column(t("ops.col.peaks_used"), ctx.hint("operators.peak_tflops", window)),
        Column(t("ops.col.bandwidth"), ctx.hint("operators.memory_gbps", window), numeric=True),
        Column(t("ops.col.reference")),
    ]
    row = [
        Cell(" ".join(part for part in (hardware.vendor, hardware.name) if part)),
        Cell(hardware.device_name or "-"),
        Cell(t(f"ops.source.{source}") if source in HARDWARE_SOURCES else source or "-"),
        Cell(peaks_used or "-"),
        Cell("-" if bandwidth is None else f"{bandwidth:,.0f}", bandwidth, numeric=True),
        Cell("; ".join([*hardware.sources, *filter(None, [hardware.note])])),
    ]
    return element("h3", text(t("ops.hardware"))) + table(columns, [row])


# --- operator table ------------------------------------------------------------------------------


def _operator_table(ctx: Context, operators: list[Operator], hardware: Hardware | None, window: str) -> str:
    """One sortable row per operator and input signature, by device time."""
    t = ctx.t
    columns = [
        Column(t("ops.col.operator"), ctx.hint("operators.signature", window)),
        Column(t("ops.col.shapes"), ctx.hint("operators.signature", window)),
        Column(t("ops.col.dtype"), ctx.hint("operators.dtype", window)),
        Column(t("ops.col.count"), ctx.hint("operators.count", window), numeric=True),
        Column(t("ops.col.time"), ctx.hint("operators.device_ns", window), numeric=True),
        Column("TFLOP/s", ctx.hint("operators.achieved_tflops", window), numeric=True),
        Column("GB/s", ctx.hint("operators.achieved_gbps", window), numeric=True),
        Column(t("ops.col.peak"), ctx.hint("operators.peak_share", window), numeric=True),
        Column(t("ops.col.bound"), ctx.hint("operators.bound", window)),
    ]
    rows = [
        [
            Cell(op.name),
            Cell(charts.shapes_text(op.shapes) or "-"),
            Cell(_dtype_text(op)),
            count_cell(op.count),
            ns_cell(op.device_ns),
            _rate_cell(op.achieved_tflops),
            _rate_cell(op.achieved_gbps),
            share_cell(op.peak_share, _peak_hint(ctx, op, hardware, window)),
            Cell(t(f"ops.bound.{op.bound}") if op.bound in BOUNDS else "-"),
        ]
        for op in operators
    ]
    return table(columns, rows, sortable=True)


def _dtype_text(op: Operator) -> str:
    """The compute dtype, with the peak's precision when it differs (fp32 GEMMs run as TF32)."""
    dtype, precision = op.dtype or "-", op.precision
    return f"{dtype} ({precision})" if precision and precision != dtype else dtype


def _rate_cell(value: float | None) -> Cell:
    """TFLOP/s or GB/s, one decimal."""
    return Cell("-" if value is None else f"{value:,.1f}", value, numeric=True)


def _peak_hint(ctx: Context, op: Operator, hardware: Hardware | None, window: str) -> str | None:
    """The share of peak's formula with this operator's own terms; None (the column's hint) without."""
    if op.peak_share is None or op.roofline_ns is None:
        return None
    bandwidth = f"{(hardware.memory_gbps if hardware is not None else None) or 0:,.0f}"
    terms = {"roofline": fmt_ns(op.roofline_ns), "time": fmt_ns(op.device_ns), "bandwidth": bandwidth}
    if op.peak_tflops:
        peak = f"{op.peak_tflops:,.1f}"
        detail = ctx.t("ops.peak_detail", precision=op.precision, peak=peak, **terms)
    else:
        detail = ctx.t("ops.memory_detail", **terms)
    return f"{ctx.hint('operators.peak_share', window)}\n{detail}"


def _analysis_notes(ctx: Context, summary: OperatorsSummary) -> str:
    """The analysis' notes (operators_summary.notes), as it wrote them."""
    notes = summary.notes
    if not notes:
        return ""
    items = "".join(element("li", text(note)) for note in notes)
    return element("h3", text(ctx.t("ops.notes"))) + element("ul", items, class_="note")
