"""The terminal table of operators (after the kernel hotspots): time, TFLOP/s, share of peak, bound."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from tracekit.formatting import fmt_ns, fmt_share

TERMINAL_ROWS = 10


def operators_section(device: dict) -> Group:
    """The top operators by device time, the hardware row and the notes; empty without the block."""
    summary = device.get("operators_summary")
    if summary is None:
        return Group()
    parts: list = []
    if device.get("operators"):
        parts.append(_operators_table(device["operators"][:TERMINAL_ROWS], device.get("hardware")))
    share = summary["tensor_cores"]["share"]
    if share is not None:
        parts.append(Text(f"tensor cores: {fmt_share(share)} of GEMM / convolution product time"))
    parts.extend(Text(f"note: {note}", style="yellow") for note in summary["notes"])
    return Group(*parts)


def _operators_table(operators: list[dict], hardware: dict | None) -> Table:
    against = f"peak of {hardware['name']}" if hardware else "no hardware row: no peak"
    table = Table(title=f"Operators (roofline against the {against})", title_justify="left", box=None)
    for column in ("time", "count", "dtype", "TFLOP/s", "GB/s", "% of peak", "bound"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("operator and shapes", overflow="fold", ratio=1)
    for op in operators:
        peak = fmt_share(op["peak_share"]) if op["peak_share"] is not None else "-"
        table.add_row(
            fmt_ns(op["device_ns"]), f"{op['count']:,}", op["dtype"] or "-", _number(op["achieved_tflops"]),
            _number(op["achieved_gbps"]), peak, op["bound"] or "-", f"{op['name']} {_shapes(op['shapes'])}",
        )  # fmt: skip
    return table


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def _shapes(shapes: list[list[int]]) -> str:
    return " ".join("[" + ",".join(map(str, s)) + "]" for s in shapes)
