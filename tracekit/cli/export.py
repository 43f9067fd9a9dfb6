"""`tracekit export`: a trace's canonical table, or one analysis table, as Parquet or CSV.

Enum columns carry readable labels (docs/python.md, "Export"). Several ranks (an Ascend folder)
make one table with a leading `rank` column. Outputs are written atomically; bad input is one line.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Annotated

import numpy as np
import pyarrow as pa
import typer

from tracekit.analysis.analyze import Options
from tracekit.api import analyze_trace, load_ranks, rank_ids
from tracekit.api_frames import readable_events
from tracekit.errors import TraceError
from tracekit.model.schema import Kind
from tracekit.model.trace import Trace
from tracekit.report.files import check_output_paths, write_bytes_atomic

EVENT_TABLES = {
    "events": None,
    "kernels": (Kind.KERNEL, Kind.COMMUNICATION),  # the kernels hotspots group
    "copies": (Kind.MEMCPY,),
}
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


def export_table(traces: list[Trace], table: str) -> pa.Table:
    """The table of one trace; of several ranks, their tables one after another with a `rank` column."""
    tables = [trace_table(trace, table) for trace in traces]
    if len(tables) == 1:
        return tables[0]
    ranked = [
        part.add_column(0, "rank", pa.array(np.full(part.num_rows, rank, dtype=np.int64)))
        for rank, part in zip(rank_ids(traces), tables, strict=True)
    ]
    return pa.concat_tables(ranked)


def trace_table(trace: Trace, table: str) -> pa.Table:
    """One trace's `table`: rows of its event table, or an analysis table (hotspots: every group)."""
    if table in EVENT_TABLES:
        kinds = EVENT_TABLES[table]
        events = trace.events
        if kinds is not None:
            events = events.filter(pa.array(np.isin(events.column("kind").to_numpy(), kinds)))
        return readable_events(events)
    every_kernel = int(np.isin(trace.events.column("kind").to_numpy(), EVENT_TABLES["kernels"]).sum())
    return analyze_trace(trace, Options(top=max(every_kernel, 1))).table(table)


def parquet_bytes(table: pa.Table) -> bytes:
    import pyarrow.parquet as pq  # only this command needs it

    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


def csv_bytes(table: pa.Table) -> bytes:
    import pyarrow.csv as pacsv  # only this command needs it

    sink = io.BytesIO()
    pacsv.write_csv(_plain_strings(table), sink)
    return sink.getvalue()


def _plain_strings(table: pa.Table) -> pa.Table:
    """Dictionary columns as their strings (the CSV writer takes no dictionaries)."""
    for i, field in enumerate(table.schema):
        if pa.types.is_dictionary(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(pa.string()))
    return table
