"""Table cells every section shares: durations, shares and counts that sort by their value, and the
note under a table capped at its first rows."""

from __future__ import annotations

from tracekit.formatting import fmt_ns, fmt_share
from tracekit.report.html.context import Context
from tracekit.report.html.markup import Cell, paragraph

MAX_TABLE_ROWS = 100


def ns_cell(value: float | None, hint: str | None = None) -> Cell:
    """A duration cell that sorts by its value in ns."""
    return Cell(fmt_ns(value), value, hint, numeric=True)


def share_cell(value: float | None, hint: str | None = None) -> Cell:
    """A fraction shown as a percentage."""
    return Cell(fmt_share(value), value, hint, numeric=True)


def count_cell(value: float | None, hint: str | None = None) -> Cell:
    """A count with thousands separators."""
    shown = "-" if value is None else f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    return Cell(shown, value, hint, numeric=True)


def capped_rows_note(ctx: Context, total: int, shown: int) -> str:
    """ "first N of M rows shown" under a capped table; nothing when every row is shown."""
    return paragraph(ctx.t("table.more", shown=shown, total=total), "note") if total > shown else ""
