"""The tables of the Python API and of `tracekit export`, as Arrow tables with fixed schemas.

The canonical events get readable enum labels (dictionary columns: categoricals in pandas, strings in
Parquet readers such as DuckDB). The analysis tables are built from the analysis document, except
the per-step and per-bubble rows, which the document only summarises: they come from the same
functions the analysis calls. Columns and dtypes are documented in docs/python.md (and tested).
A number the document leaves unknown (None) is null in Arrow, NaN in a float64 pandas column.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from enum import IntEnum

import numpy as np
import pyarrow as pa
from msgspec.structs import asdict

from tracekit.analysis.bubbles import CAUSES, bubble_causes, find_bubbles
from tracekit.analysis.columns import Columns
from tracekit.analysis.copies import REPORTED_DIRECTIONS
from tracekit.analysis.document import Document
from tracekit.analysis.document.base import Block
from tracekit.analysis.document.device import Device
from tracekit.analysis.document.recommendations import Fired
from tracekit.model.schema import CopyDirection, Kind, MemoryKind
from tracekit.model.steps import step_spans


def enum_labels(enum: type[IntEnum]) -> list[str]:
    """The readable label of each code of `enum`, in code order: the member's name in lower case."""
    members = sorted(enum, key=int)
    assert [int(m) for m in members] == list(range(len(members))), f"{enum.__name__} codes are not 0..n-1"
    return [member.name.lower() for member in members]


ENUM_LABELS = {
    "kind": enum_labels(Kind),
    "copy_direction": enum_labels(CopyDirection),
    "src_memory": enum_labels(MemoryKind),
    "dst_memory": enum_labels(MemoryKind),
}

_LABEL = pa.dictionary(pa.int8(), pa.string())


def readable_events(events: pa.Table) -> pa.Table:
    """The canonical event table with its enum columns as dictionaries of readable labels."""
    columns = {
        name: _labelled(events.column(name), ENUM_LABELS[name])
        if name in ENUM_LABELS
        else events.column(name)
        for name in events.column_names
    }
    return pa.table(columns, metadata=events.schema.metadata)


def _labelled(codes: pa.ChunkedArray, labels: list[str]) -> pa.ChunkedArray:
    dictionary = pa.array(labels, type=pa.string())
    chunks = [pa.DictionaryArray.from_arrays(chunk, dictionary) for chunk in codes.chunks]
    return pa.chunked_array(chunks, type=_LABEL)


def to_pandas(table: pa.Table):
    """A pandas DataFrame of `table`: dictionary columns become categoricals, strings pandas' `string`
    dtype (missing: pd.NA), the same in pandas 2 and 3."""
    import pandas as pd  # the API's boundary: only a DataFrame needs pandas

    return table.to_pandas(types_mapper={pa.string(): pd.StringDtype()}.get)


STEPS = pa.schema(
    [("step", pa.int64()), ("start_ns", pa.int64()), ("end_ns", pa.int64()), ("duration_ns", pa.int64())]
)


def steps_table(events: pa.Table) -> pa.Table:
    """One row per step span, in start order (the spans the step statistics are computed on)."""
    numbers, starts, ends = step_spans(events)
    return pa.Table.from_arrays([numbers, starts, ends, ends - starts], schema=STEPS)


BUBBLES = pa.schema(
    [
        ("device", pa.int64()),
        ("start_ns", pa.int64()),
        ("end_ns", pa.int64()),
        ("dur_ns", pa.int64()),
        ("cause", _LABEL),
    ]
)


def bubbles_table(cols: Columns, document: Document) -> pa.Table:
    """Every bubble of every device (idle interval inside its window, at least the threshold long)."""
    threshold = document.options.bubble_threshold_ns
    parts = [_device_bubbles(cols, block, threshold) for block in document.devices]
    return pa.concat_tables(parts) if parts else BUBBLES.empty_table()


def _device_bubbles(cols: Columns, block: Device, threshold_ns: int) -> pa.Table:
    ops = cols.device_ops(block.id)
    bubbles = find_bubbles(cols, ops, block.window.start_ns, block.window.end_ns, threshold_ns)
    causes = bubble_causes(cols, ops, bubbles, block.id).astype(np.int8)
    arrays = [
        np.full(len(bubbles), block.id, dtype=np.int64),
        bubbles.starts,
        bubbles.ends,
        bubbles.ends - bubbles.starts,
        pa.DictionaryArray.from_arrays(causes, pa.array(CAUSES, type=pa.string())),
    ]
    return pa.Table.from_arrays(arrays, schema=BUBBLES)


HOTSPOTS = pa.schema(
    [
        ("device", pa.int64()),
        ("name", pa.string()),
        ("count", pa.int64()),
        ("total_ns", pa.int64()),
        ("mean_ns", pa.float64()),
        ("min_ns", pa.int64()),
        ("median_ns", pa.float64()),
        ("p50_ns", pa.int64()),
        ("p99_ns", pa.int64()),
        ("max_ns", pa.int64()),
        ("stddev_ns", pa.float64()),
        ("share", pa.float64()),
        ("launched_by", pa.string()),
    ]
)


def hotspots_table(document: Document) -> pa.Table:
    """The kernel hotspots of each device, ranked by total time."""
    return _rows_table(HOTSPOTS, _device_rows(document, lambda device: device.hotspots))


OPERATORS = pa.schema(
    [
        ("device", pa.int64()),
        ("name", pa.string()),
        ("shapes", pa.string()),
        ("dtypes", pa.string()),
        ("dtype", pa.string()),
        ("family", pa.string()),
        ("count", pa.int64()),
        ("device_ns", pa.int64()),
        ("mean_ns", pa.float64()),
        ("flops", pa.float64()),
        ("bytes", pa.float64()),
        ("intensity", pa.float64()),
        ("achieved_tflops", pa.float64()),
        ("achieved_gbps", pa.float64()),
        ("tensor_core_ns", pa.float64()),
        ("simt_ns", pa.float64()),
        ("precision", pa.string()),
        ("peak_tflops", pa.float64()),
        ("roofline_ns", pa.float64()),
        ("peak_share", pa.float64()),
        ("bound", pa.string()),
    ]
)


def operators_table(document: Document) -> pa.Table:
    """The framework operators of each device by device time; shapes and dtypes as JSON text."""
    rows = [
        {**row, "shapes": json.dumps(row["shapes"]), "dtypes": json.dumps(row["dtypes"])}
        for row in _device_rows(document, lambda device: device.operators or [])
    ]
    return _rows_table(OPERATORS, rows)


COPIES = pa.schema(
    [
        ("device", pa.int64()),
        ("direction", _LABEL),
        ("count", pa.int64()),
        ("per_step", pa.float64()),
        ("total_ns", pa.int64()),
        ("busy_ns", pa.int64()),
        ("exposed_ns", pa.int64()),
        ("share_of_busy", pa.float64()),
        ("exposed_share", pa.float64()),
        ("bytes", pa.int64()),
        ("bytes_unknown_count", pa.int64()),
        ("pageable_count", pa.int64()),
        ("pageable_bytes", pa.int64()),
        ("pinned_count", pa.int64()),
        ("pinned_bytes", pa.int64()),
        ("bandwidth_gbps", pa.float64()),
    ]
)


def copies_table(document: Document) -> pa.Table:
    """One row per device and copy direction (h2d, d2h, d2d)."""
    rows = [
        {**asdict(block.copies(key)), "device": block.id, "direction": key}
        for block in document.devices
        for key in REPORTED_DIRECTIONS
    ]
    return _rows_table(COPIES, rows)  # every device has the three rows: labels in that order


RECOMMENDATIONS = pa.schema(
    [
        ("rank", pa.int64()),
        ("id", pa.string()),
        ("group", pa.string()),
        ("title", pa.string()),
        ("summary", pa.string()),
        ("metric", pa.string()),
        ("speedup", pa.float64()),
        ("baseline_step_ns", pa.float64()),
        ("predicted_step_ns", pa.float64()),
        ("cumulative_speedup", pa.float64()),
        ("latency_cost", pa.float64()),
        ("upper_bound", pa.bool_()),
        ("actions", pa.string()),
    ]
)


def recommendations_table(document: Document) -> pa.Table:
    """The fired findings in rank order, with their gains; actions one per line."""
    fired = document.recommendations.fired if document.recommendations else []
    return _rows_table(RECOMMENDATIONS, [_finding_row(finding) for finding in fired])


def _finding_row(finding: Fired) -> dict:
    gain = asdict(finding.gain) if finding.gain else {}
    return {
        **asdict(finding),
        **gain,
        "upper_bound": bool(gain.get("upper_bound")),
        "actions": "\n".join(finding.actions),
    }


def _device_rows(document: Document, rows_of: Callable[[Device], list[Block]]) -> list[dict]:
    """Each row of each device (as a dict of its fields) with the device's id."""
    return [{**asdict(row), "device": block.id} for block in document.devices for row in rows_of(block)]


def _rows_table(schema: pa.Schema, rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=schema) if rows else schema.empty_table()
