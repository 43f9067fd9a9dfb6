"""Small HTML building blocks: escaped text, tables whose cells carry a hint and a sort key."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape


@dataclass(frozen=True)
class Cell:
    """One table cell: the text shown, the value it sorts by, and the hover hint (window/formula)."""

    text: str
    sort: float | None = None
    hint: str | None = None
    numeric: bool = False


@dataclass(frozen=True)
class Column:
    """A table column: its header and the hint every cell of the column inherits."""

    header: str
    hint: str | None = None
    numeric: bool = False


def attrs(**values: object) -> str:
    """` key="value"` pairs, escaped; None and False values are left out, `class_` becomes `class`."""
    parts = []
    for key, value in values.items():
        if value is None or value is False:
            continue
        name = key.rstrip("_").replace("_", "-")
        parts.append(f" {name}" if value is True else f' {name}="{escape(str(value), quote=True)}"')
    return "".join(parts)


def element(tag: str, content: str = "", **attributes: object) -> str:
    """`<tag ...>content</tag>`; `content` is HTML (escape text with `text()`)."""
    return f"<{tag}{attrs(**attributes)}>{content}</{tag}>"


def text(value: object) -> str:
    """Escaped text."""
    return escape(str(value), quote=False)


def paragraph(value: str, class_: str | None = None) -> str:
    """A paragraph of plain text."""
    return element("p", text(value), class_=class_)


def bullet_list(items: Iterable[str], ordered: bool = False) -> str:
    """A list of plain-text items."""
    return element("ol" if ordered else "ul", "".join(element("li", text(item)) for item in items))


def table(
    columns: Sequence[Column],
    rows: Iterable[Sequence[Cell | str]],
    sortable: bool = False,
    caption: str | None = None,
) -> str:
    """A table; a sortable one can be sorted by clicking its headers (assets/report.js)."""
    head = "".join(_header(column, sortable) for column in columns)
    body = "".join(
        element("tr", "".join(_cell(cell, column) for cell, column in zip(row, columns, strict=True)))
        for row in rows
    )
    content = (
        (element("caption", text(caption)) if caption else "")
        + element("thead", element("tr", head))
        + element("tbody", body)
    )
    wrapped = element("table", content, class_="data sortable" if sortable else "data")
    return element("div", wrapped, class_="table-wrap")


def _header(column: Column, sortable: bool) -> str:
    return element(
        "th",
        text(column.header),
        title=column.hint,
        class_="num" if column.numeric else None,
        tabindex="0" if sortable else None,
        scope="col",
    )


def _cell(cell: Cell | str, column: Column) -> str:
    if isinstance(cell, str):
        cell = Cell(cell)
    numeric = cell.numeric or column.numeric
    return element(
        "td",
        text(cell.text),
        title=cell.hint,  # else the column's hint, copied from the header by assets/report.js
        class_="num" if numeric else None,
        data_v=None if cell.sort is None else _sort_key(cell.sort),
    )


def _sort_key(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.6g}"
