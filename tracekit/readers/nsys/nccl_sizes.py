"""Collective sizes of an Nsight Systems export, from NCCL's NVTX payloads (docs/model.md, "Collective
sizes").

NCCL wraps each API call in an NVTX range of its domain (`ncclAllReduce`, `ncclSend`, ...) whose
payload gives the communicator and the message size (send/recv: also the peer); the
`ncclCommInitRank` payload gives the communicator's rank count. A collective's kernel is launched
inside its range, on the calling thread: the kernel whose launch call (same correlation id) lies
inside a sized range gets the range's message size as `bytes`, the rank count of that communicator
as `group_size` and the peer as `peer` (-1 where unknown). When one range holds several launches,
the first kernel gets the size, so that no message is counted twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from tracekit.model.arrays import arrow, numeric
from tracekit.model.correlation import launch_rows
from tracekit.model.schema import NONE, Kind
from tracekit.readers import checked
from tracekit.readers.checked import INT32_MAX, INT64_MAX, INVALID_NS
from tracekit.readers.nsys import activity
from tracekit.readers.nsys.export_db import NVTX, Export, field, ints
from tracekit.readers.nsys.nvtx_payloads import Payloads, decode_payloads, read_schemas

THREAD_BITS = activity.PID_BITS


@dataclass(frozen=True)
class SizedRanges:
    """NVTX ranges whose payload gives a message size: span, calling thread and what they carry."""

    start: np.ndarray
    end: np.ndarray
    thread_key: np.ndarray
    bytes: np.ndarray
    group_size: np.ndarray
    peer: np.ndarray


def sized_ranges(export: Export) -> SizedRanges | None:
    """The export's NVTX events with a readable payload, reduced to the ranges with a message size;
    None when the export has no payload column or no such range."""
    rows = _payload_rows(export)
    if rows is None:
        return None
    payloads = decode_payloads(rows["blob"], rows["json"], read_schemas(export))
    sized = np.flatnonzero(payloads.known["bytes"])
    if not len(sized):
        return None
    with checked.collecting():  # the NVTX reader notes these rows' unusable times and ids already
        start, end = (
            activity.times([rows[key][i] for i in sized], field(NVTX, key)) for key in ("start", "end")
        )
        tid = ints(NVTX, {"global_tid": [rows["global_tid"][i] for i in sized]}, "global_tid")
    timed = (start != INVALID_NS) & (end != INVALID_NS)
    values = {key: column[sized] for key, column in payloads.values.items()}
    return SizedRanges(
        start=np.where(timed, start, NONE),
        end=np.where(timed, end, NONE),
        thread_key=np.where(timed, thread_keys(activity.pid_of(tid), activity.tid_of(tid)), NONE),
        bytes=checked.integers(values["bytes"], "Message size [bytes]", 0, INT64_MAX),
        group_size=_group_sizes(payloads, sized),
        peer=np.where(
            payloads.known["peer"][sized], checked.integers(values["peer"], "Peer rank", 0, INT32_MAX), NONE
        ),
    )


def _payload_rows(export: Export) -> dict[str, list] | None:
    blob, text, text_id = (export.column(NVTX, c) for c in ("binaryData", "jsonText", "jsonTextId"))
    if (blob, text, text_id) == ("NULL",) * 3 or not export.usable(NVTX, ("start", "end")):
        return None
    json_text = f"coalesce({text}, {export.string(NVTX, 'jsonTextId')})"
    fields = {
        "start": "start",
        "end": "coalesce(end, start)",
        "global_tid": export.column(NVTX, "globalTid", "-1"),
        "blob": f"CAST({blob} AS BLOB)",
        "json": json_text,
    }
    where = f"({blob} IS NOT NULL OR {json_text} IS NOT NULL) AND (start > 0 OR start IS NULL)"
    rows = export.select(NVTX, fields, where=where)
    return rows if rows["start"] else None


def _group_sizes(payloads: Payloads, sized: np.ndarray) -> np.ndarray:
    """Per sized range: the `No. of ranks` its communicator's comm-init payloads give, when they give
    one value in [1, 2^31); else NONE."""
    init = payloads.known["comm"] & payloads.known["ranks"]
    pairs = np.unique(np.stack([payloads.values["comm"][init], payloads.values["ranks"][init]]), axis=1)
    communicators, count = np.unique(pairs[0], return_counts=True)
    ranks = dict(zip(pairs[0].tolist(), pairs[1].tolist(), strict=True))
    usable = {c: ranks[c] for c, n in zip(communicators.tolist(), count.tolist(), strict=True) if n == 1}
    usable = {c: n if 1 <= n <= INT32_MAX else NONE for c, n in usable.items()}
    comm = payloads.values["comm"][sized]
    known = payloads.known["comm"][sized]
    return np.array(
        [usable.get(c, NONE) if k else NONE for c, k in zip(comm.tolist(), known.tolist(), strict=True)],
        np.int64,
    )


def thread_keys(process: np.ndarray, thread: np.ndarray) -> np.ndarray:
    """One int64 per (process, thread): both are 24-bit ids in nsys exports."""
    return (np.asarray(process, dtype=np.int64) << THREAD_BITS) | np.asarray(thread, dtype=np.int64)


def with_collective_sizes(events: pa.Table, ranges: SizedRanges | None) -> pa.Table:
    """The event table with the sizes of the sized ranges on the communication kernels they launched:
    `bytes` set, `group_size` and `peer` columns added; unchanged when no kernel was launched inside
    a sized range."""
    kernels, holders = _launched_inside(events, ranges) if ranges is not None else ([], [])
    if not len(kernels):
        return events
    n = events.num_rows
    size = numeric(events.column("bytes")).copy()
    size[kernels] = ranges.bytes[holders]
    columns = {"group_size": ranges.group_size, "peer": ranges.peer}
    table = events.set_column(events.schema.get_field_index("bytes"), "bytes", arrow(size))
    for name, values in columns.items():
        column = np.full(n, NONE, dtype=np.int64)
        column[kernels] = values[holders]
        table = table.append_column(pa.field(name, pa.int64(), nullable=False), arrow(column))
    return table


def _launched_inside(events: pa.Table, ranges: SizedRanges) -> tuple[np.ndarray, np.ndarray]:
    """(kernel rows, sized range index): the communication kernels whose launch call lies inside a
    sized range on its thread (the latest-starting one), the first kernel of each range only."""
    kind = numeric(events.column("kind"))
    launch = launch_rows(events)
    kernels = np.flatnonzero((kind == Kind.COMMUNICATION) & (launch != NONE))
    calls = launch[kernels]
    start = numeric(events.column("start_ns"))
    end = start + numeric(events.column("dur_ns"))
    key = thread_keys(numeric(events.column("process"))[calls], numeric(events.column("thread"))[calls])
    holder = _enclosing(ranges, key, start[calls], end[calls])
    inside = holder != NONE
    kernels, holder = kernels[inside], holder[inside]
    first = np.argsort(start[kernels], kind="stable")
    _, keep = np.unique(holder[first], return_index=True)
    return kernels[first[keep]], holder[first[keep]]


def _enclosing(ranges: SizedRanges, key: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Per call: the index of the latest-starting sized range on its thread that holds [start, end],
    else NONE."""
    holder = np.full(len(key), NONE, dtype=np.int64)
    for thread in np.intersect1d(np.unique(key), ranges.thread_key):
        mine = np.flatnonzero(ranges.thread_key == thread)
        mine = mine[np.argsort(ranges.start[mine], kind="stable")]
        calls = np.flatnonzero(key == thread)
        at = np.searchsorted(ranges.start[mine], start[calls], side="right") - 1
        candidate = mine[np.maximum(at, 0)]
        held = (at >= 0) & (ranges.end[candidate] >= end[calls])
        holder[calls[held]] = candidate[held]
    return holder
