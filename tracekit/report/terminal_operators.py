"""The terminal table of operators (after the kernel hotspots): time, TFLOP/s, share of peak, bound."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from tracekit.analysis.document.device import Device
from tracekit.analysis.document.operators import Hardware, Operator
from tracekit.formatting import fmt_ns, fmt_share
from tracekit.report.terminal_fit import Column, fitted_table

TERMINAL_ROWS = 10


def operators_section(device: Device, width: int, ascend: bool = False) -> Group:
    """The top operators by device time, the tensor-core line (CUDA only) and the notes; empty without
    the block."""
    summary = device.operators_summary
    if summary is None:
        return Group()
    parts: list = []
    if device.operators:
        parts.append(_operators_table(device.operators[:TERMINAL_ROWS], device.hardware, width))
    share = summary.tensor_cores.share if summary.tensor_cores is not None else None
    if share is not None and not ascend:
        parts.append(Text(f"tensor cores: {fmt_share(share)} of GEMM / convolution product time"))
    parts.extend(Text(f"note: {note}", style="yellow") for note in summary.notes)
    return Group(*parts)


def _operators_table(operators: list[Operator], hardware: Hardware | None, width: int) -> Table:
    """Without a hardware row there is no peak: the share-of-peak and bound columns are left out."""
    title = f"Operators (roofline against the peak of {hardware.name})" if hardware else "Operators"
    columns = [Column("time"), Column("count"), Column("dtype"), Column("TFLOP/s"), Column("GB/s", drop=1)]
    columns += [Column("% of peak"), Column("bound", drop=2)] if hardware else []
    rows = []
    for op in operators:
        row = [fmt_ns(op.device_ns), f"{op.count:,}", op.dtype or "-",
               _number(op.achieved_tflops), _number(op.achieved_gbps)]  # fmt: skip
        row += [fmt_share(op.peak_share), op.bound or "-"] if hardware else []
        rows.append([*row, f"{op.name} {_shapes(op.shapes)}".rstrip()])
    return fitted_table(title, columns, rows, width, name="operator and shapes")


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def _shapes(shapes: list[list[int]]) -> str:
    return " ".join("[" + ",".join(map(str, s)) + "]" for s in shapes)
