"""The tables `tracekit export` writes (tracekit/cli/export.py), apart so that the command line
starts without pyarrow."""

from __future__ import annotations

import io

import numpy as np
import pyarrow as pa

from tracekit.analysis.options import Options
from tracekit.api import analyze_trace, rank_ids
from tracekit.api_frames import readable_events
from tracekit.model.schema import Kind
from tracekit.model.trace import Trace

EVENT_KINDS = {
    "events": None,
    "kernels": (Kind.KERNEL, Kind.COMMUNICATION),  # the kernels hotspots group
    "copies": (Kind.MEMCPY,),
}
"""The event kinds of each event table (None: every event), in the order of export.EVENT_TABLES."""


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
    if table in EVENT_KINDS:
        kinds = EVENT_KINDS[table]
        events = trace.events
        if kinds is not None:
            events = events.filter(pa.array(np.isin(events.column("kind").to_numpy(), kinds)))
        return readable_events(events)
    every_kernel = int(np.isin(trace.events.column("kind").to_numpy(), EVENT_KINDS["kernels"]).sum())
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
