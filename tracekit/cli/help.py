"""`--help` pages without type artefacts: typer prints `<bool>` beside every flag (`--help` included),
which reads as a value to give, `<list[Path]>` beside a repeatable parameter and `<int range>` beside a
bounded number. The command and group classes here leave flags bare, show a list as its element type
(`<path>`, the name says `...`) and a bounded number as `<int>` (its bounds follow: `[x>=1]`)."""

from __future__ import annotations

import re
from types import MethodType

from typer.core import TyperCommand, TyperGroup

_LIST_LABEL = re.compile(r"^<list\[(\w+)\]>$")
_RANGE_LABEL = re.compile(r"^<(\w+) range>$")  # the range itself follows in brackets ([x>=1])


def _readable_types(params: list) -> list:
    """The parameters, each flag's type label emptied and each list shown as its element type."""
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
        elif param.metavar is None and "display_type_rich" not in vars(param):
            param.display_type_rich = MethodType(_element_label, param)
    return params


def _element_label(param, ctx) -> str | None:  # typer's parameter, click's context
    label = type(param).display_type_rich(param, ctx) or ""
    match = _LIST_LABEL.match(label) or _RANGE_LABEL.match(label)
    return f"<{match.group(1).lower()}>" if match else label or None


class Command(TyperCommand):
    """A typer command whose help has no `<bool>` or `<list[...]>`."""

    def get_params(self, ctx):  # click's signature
        return _readable_types(super().get_params(ctx))


class Group(TyperGroup):
    """The `tracekit` group, its help without `<bool>` on `--help`."""

    def get_params(self, ctx):  # click's signature
        return _readable_types(super().get_params(ctx))
