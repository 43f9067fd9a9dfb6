"""`tracekit export`: a trace's canonical table, or one analysis table, as Parquet or CSV.

Enum columns carry readable labels (docs/python.md, "Export"). Several ranks (an Ascend folder)
make one table with a leading `rank` column. Outputs are written atomically; bad input is one line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tracekit.errors import TraceError
from tracekit.report.files import check_output_paths, write_bytes_atomic

EVENT_TABLES = ("events", "kernels", "copies")  # their rows: EVENT_KINDS in tracekit/cli/export_tables.py
ANALYSIS_TABLES = ("steps", "bubbles", "hotspots")
TABLES = (*EVENT_TABLES, *ANALYSIS_TABLES)


def export_command(
    trace: Annotated[
        Path,
        typer.Argument(
            metavar="TRACE", help="Trace file, Ascend profiler directory or folder of per-rank traces."
        ),
    ],
    parquet: Annotated[
        Path | None, typer.Option("--parquet", metavar="FILE", help="Write the table as Parquet.")
    ] = None,
    csv: Annotated[Path | None, typer.Option("--csv", metavar="FILE", help="Write the table as CSV.")] = None,
    table: Annotated[
        str,
        typer.Option(
            "--table",
            metavar="TABLE",
            help="events: the canonical table; kernels, copies: its kernel or copy rows; steps, bubbles, "
            "hotspots (every kernel group): the analysis tables.",
        ),
    ] = "events",
    format_name: Annotated[
        str | None, typer.Option("--format", metavar="NAME", help="Skip format detection.")
    ] = None,
) -> None:
    """Export the events of a trace, or an analysis table, as Parquet or CSV (enum columns as labels)."""
    from tracekit.api import load_ranks
    from tracekit.cli.export_tables import csv_bytes, export_table, parquet_bytes

    out = _output(parquet, csv, table)
    if out.exists() and trace.exists() and out.resolve() == trace.resolve():
        raise TraceError(out, "is the input trace; choose another output path")
    check_output_paths(out)
    exported = export_table(load_ranks(trace, format_name), table)
    write_bytes_atomic(out, parquet_bytes(exported) if parquet else csv_bytes(exported))
    rows = exported.num_rows
    typer.echo(f"{table}: {rows:,} row{'' if rows == 1 else 's'} written to {out}")


def _output(parquet: Path | None, csv: Path | None, table: str) -> Path:
    if table not in TABLES:
        raise typer.BadParameter(f"must be one of {', '.join(TABLES)}, not {table!r}", param_hint="'--table'")
    if (parquet is None) == (csv is None):
        raise typer.BadParameter(
            "give one of --parquet FILE or --csv FILE", param_hint="'--parquet' / '--csv'"
        )
    return parquet or csv
