"""`--help` pages without a type label on flags: typer prints `<bool>` beside every flag (`--help`
included), which reads as a value to give. The command and group classes here leave flags bare."""

from __future__ import annotations

from typer.core import TyperCommand, TyperGroup


def _bare_flags(params: list) -> list:
    """The parameters, each flag's type label emptied (a flag takes no value)."""
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
    return params


class Command(TyperCommand):
    """A typer command whose help lists flags without `<bool>`."""

    def get_params(self, ctx):  # click's signature
        return _bare_flags(super().get_params(ctx))


class Group(TyperGroup):
    """The `tracekit` group, its help without `<bool>` on `--help`."""

    def get_params(self, ctx):  # click's signature
        return _bare_flags(super().get_params(ctx))
