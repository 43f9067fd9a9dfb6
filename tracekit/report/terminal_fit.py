"""Terminal tables that fit the width: numbers whole on one line, one name column cut with an ellipsis,
optional columns left out when the width is short, text columns wrapped at spaces."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Literal

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

NAME_MIN_WIDTH = 24  # narrower than this, optional columns make room for the name
_MEASURE = Console(file=io.StringIO(), width=10_000, color_system=None, legacy_windows=False)


@dataclass(frozen=True)
class Column:
    """A column: `drop` 0 always shows; when the name needs room, the highest `drop` goes first."""

    header: str
    justify: Literal["left", "right"] = "right"
    drop: int = 0
    wrap: bool = False  # text wrapped at spaces (a formula, a reason); else kept on one line


def fitted_table(
    title: str, columns: list[Column], rows: list[list[str]], width: int, name: str | None = None
) -> Table:
    """A borderless table no wider than `width`; `name` (the last cell of each row) is cut with an
    ellipsis to the room the other columns leave."""
    shown = list(range(len(columns)))
    while True:
        cells = [[row[i] for i in shown] + row[len(columns) :] for row in rows]
        table = _table(title, [columns[i] for i in shown], cells, name)
        if name is None:
            return table
        room = width - _width_without_last(table)
        droppable = [i for i in shown if columns[i].drop]
        if room >= NAME_MIN_WIDTH or not droppable:
            break
        shown.remove(max(droppable, key=lambda i: (columns[i].drop, i)))
    table.columns[-1].max_width = max(room, 1)
    return table


def fitted_text(text: str, width: int) -> str:
    """`text` on one line of at most `width` cells: whole, or its start and an ellipsis."""
    if len(text) <= width:
        return text
    return text[: max(width - 1, 0)] + "…"


def _table(title: str, columns: list[Column], rows: list[list[str]], name: str | None) -> Table:
    table = Table(title=title, title_justify="left", box=None, pad_edge=False)
    for column in columns:
        table.add_column(column.header, justify=column.justify, no_wrap=not column.wrap)
    if name is not None:
        table.add_column(name, no_wrap=True, overflow="ellipsis")
    for row in rows:
        table.add_row(*map(Text, row))  # as written: a formula's "[first start, last end]" is no markup
    return table


def shrink_column(table: Table, index: int, width: int) -> Table:
    """`table` with column `index` (no wrap, ellipsis) narrowed to the room the other columns leave
    in `width`, but not below NAME_MIN_WIDTH: the other columns that wrap then give up the rest."""
    column = table.columns[index]
    column.no_wrap, column.overflow = True, "ellipsis"
    column.max_width = max(width - _width_without(table, index), NAME_MIN_WIDTH)
    return table


def _width_without_last(table: Table) -> int:
    return _width_without(table, len(table.columns) - 1)


def _width_without(table: Table, index: int) -> int:
    """The table's natural width less the content of column `index` (its padding kept)."""
    column = table.columns[index]
    column.max_width = 1
    measured = Measurement.get(_MEASURE, _MEASURE.options, table).maximum
    column.max_width = None
    return measured - 1
