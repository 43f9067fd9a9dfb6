"""NVTX extended payloads of an Nsight Systems SQLite export, decoded through the export's own schemas.

An NVTX event with a binary payload (NCCL's ranges: communicator, message size, peer, rank count)
keeps it in `NVTX_EVENTS.binaryData`; its layout is one of the schemas registered by the program,
exported as `NVTX_PAYLOAD_SCHEMAS` (per `domainId`, `schemaId`: `payloadSize`) and
`NVTX_PAYLOAD_SCHEMA_ENTRIES` (per entry: `idx`, `type`, `name`, `offset`, `flags`), which alone
gives the layout (the blob's header gives the payload's size). Entry types are
NVTX's `NVTX_PAYLOAD_ENTRY_TYPE_*` codes (nvToolsExtPayload.h): the integer ones are read here. The
blob nsys writes starts with a 32-byte header (little-endian uint64s: domain id, schema id, payload
size, header + payload size), then the payload (docs/formats.md, "NVTX payloads": the header layout
is taken from decoded real exports, not from an NVIDIA document). A payload nsys wrote as JSON
(`jsonText`, `jsonTextId`) is read by entry name. Only the entries named in `FIELDS` are decoded;
an event whose payload cannot be read is left without one and counted in the trace's warnings.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from tracekit.readers import checked
from tracekit.readers.checked import INT64_MAX, INT64_MIN
from tracekit.readers.nsys.export_db import Export, quoted

ENTRIES = "NVTX_PAYLOAD_SCHEMA_ENTRIES"
HEADER_BYTES = 32
"""The blob's header: four little-endian uint64, domain id, schema id, payload size, header + payload
size."""
FIELDS = {
    "comm": "NCCL communicator ID",
    "bytes": "Message size [bytes]",
    "ranks": "No. of ranks",
    "peer": "Peer rank",
}
"""The payload entries read, by NCCL's entry names (nvtx_payload_schemas.h)."""
ENTRY_DTYPES = {
    1: "<i1", 2: "<u1", 3: "<i2", 4: "<u2", 5: "<i4", 6: "<u4", 7: "<i8", 8: "<u8", 9: "<i8", 10: "<u8",
    11: "<i1", 12: "<u1", 13: "<i2", 14: "<u2", 15: "<i4", 16: "<u4", 17: "<i8", 18: "<u8", 22: "<u8",
    23: "<u8",
}  # fmt: skip
"""NVTX entry type -> numpy dtype (LP64: long and size_t are 8 bytes): char .. unsigned long long,
int8 .. uint64, size_t, address."""
BLOB_FIELD, JSON_FIELD = "NVTX_EVENTS.binaryData", "NVTX_EVENTS.jsonText"


Layout = dict[str, tuple[int, int | None]]
"""A payload schema: per entry name, (type, offset); offset None when it follows an entry of
unknown size."""


class Schemas:
    """The export's payload schemas by (domain id, schema id), and by schema id alone where only one
    layout has that id (the event's domain id in the blob may differ from the schema table's)."""

    def __init__(self, layouts: dict[tuple[int, int], Layout]) -> None:
        self.layouts = layouts
        by_id: dict[int, list[Layout]] = {}
        for (_, schema_id), schema in layouts.items():
            by_id.setdefault(schema_id, []).append(schema)
        self.by_id = {key: found[0] for key, found in by_id.items() if len(set(map(repr, found))) == 1}

    def find(self, domain: int, schema_id: int) -> Layout | None:
        return self.layouts.get((domain, schema_id)) or self.by_id.get(schema_id)


def read_schemas(export: Export) -> Schemas:
    """The schemas of the export (NVTX_PAYLOAD_SCHEMA_ENTRIES; none without it); the first definition
    of a (domain, schema, entry) wins, as nsys repeats them per process."""
    entries: dict[tuple[int, int], list[tuple[int, int, str, int | None]]] = {}
    for domain, schema_id, idx, kind, name, offset, flags in _entry_rows(export):
        if None in (domain, schema_id, idx, kind) or flags not in (None, 0):
            continue  # an array, pointer or other flagged entry: not a plain value
        entries.setdefault((domain, schema_id), []).append((idx, kind, str(name or ""), offset))
    layouts = {key: _entry_offsets(rows) for key, rows in entries.items()}
    return Schemas(layouts)


def _entry_rows(export: Export) -> list[tuple]:
    if not export.usable(ENTRIES, ("domainId", "schemaId", "idx", "type")):
        return []
    columns = ["domainId", "schemaId", "idx", "type", "name", "offset", "flags"]
    fields = ", ".join(quoted(c) if c in export.columns[ENTRIES] else "NULL" for c in columns)
    rows = export.rows(f"SELECT {fields} FROM {ENTRIES} ORDER BY domainId, schemaId, idx")
    return [tuple(v if i == 4 or _plain(v) else None for i, v in enumerate(row)) for row in rows]


def _entry_offsets(rows: list[tuple[int, int, str, int | None]]) -> dict[str, tuple[int, int | None]]:
    """(type, offset) by entry name, in index order; an entry without an offset is placed after the
    previous one at its natural alignment (NVTX's rule), unknown after an entry of unknown size."""
    entries: dict[str, tuple[int, int | None]] = {}
    seen: set[int] = set()
    end: int | None = 0
    for idx, kind, name, offset in rows:
        if idx in seen:
            continue
        seen.add(idx)
        size = np.dtype(ENTRY_DTYPES[kind]).itemsize if kind in ENTRY_DTYPES else None
        if offset is None and end is not None and size is not None:
            offset = -(-end // size) * size
        entries.setdefault(name, (kind, offset))
        end = None if offset is None or size is None else offset + size
    return entries


@dataclass(frozen=True)
class Payloads:
    """Per event, each `FIELDS` entry as int64 (a uint64 bit for bit: communicator ids are hashes)
    and whether its payload gave it."""

    values: dict[str, np.ndarray]
    known: dict[str, np.ndarray]


def decode_payloads(blobs: list, texts: list, schemas: Schemas) -> Payloads:
    """The `FIELDS` entries of each event's binaryData blob (bytes, else None) or, without one, of its
    JSON text; an unreadable payload (noted, with why) gives none. Blobs of one length and schema are
    decoded together, as numpy columns."""
    n = len(blobs)
    payloads = Payloads({k: np.zeros(n, np.int64) for k in FIELDS}, {k: np.zeros(n, bool) for k in FIELDS})
    lengths = np.fromiter((len(b) if isinstance(b, bytes) else 0 for b in blobs), np.int64, n)
    _ignored(
        BLOB_FIELD,
        f"shorter than the {HEADER_BYTES}-byte payload header",
        (lengths > 0) & (lengths < HEADER_BYTES),
    )
    for length in np.unique(lengths[lengths >= HEADER_BYTES]).tolist():
        rows = np.flatnonzero(lengths == length)
        data = np.frombuffer(b"".join(blobs[i] for i in rows), np.uint8).reshape(len(rows), length)
        _decode_blobs(payloads, rows, data, schemas)
    for i in np.flatnonzero(lengths == 0).tolist():
        if isinstance(texts[i], str):
            _store(payloads, i, decode_json(texts[i]) or {})
    return payloads


def _decode_blobs(payloads: Payloads, rows: np.ndarray, data: np.ndarray, schemas: Schemas) -> None:
    """Blobs of one length (`data`, a row each): their header, then their entries, by schema."""
    header = np.ascontiguousarray(data[:, :HEADER_BYTES]).view("<u8")
    for domain, schema_id, mine in _by_schema(header):
        schema = schemas.find(domain, schema_id)
        if schema is None:
            _ignored(BLOB_FIELD, "schema id not in NVTX_PAYLOAD_SCHEMA_ENTRIES", np.ones(len(mine), bool))
            continue
        size = header[mine, 2]
        cut = size > data.shape[1] - HEADER_BYTES
        _ignored(BLOB_FIELD, "shorter than the payload size its header gives", cut)
        mine = mine[~cut]
        _read_entries(payloads, rows[mine], data[mine, HEADER_BYTES:], size[~cut], schema)


def _by_schema(header: np.ndarray) -> Iterator[tuple[int, int, np.ndarray]]:
    """(domain id, schema id, the rows whose header gives them) for each pair in the headers."""
    schema_ids, of_schema = np.unique(header[:, 1], return_inverse=True)
    for j, schema_id in enumerate(schema_ids.tolist()):
        rows = np.flatnonzero(of_schema.ravel() == j)
        domains, of_domain = np.unique(header[rows, 0], return_inverse=True)
        for k, domain in enumerate(domains.tolist()):
            yield domain, schema_id, rows[of_domain.ravel() == k]


def _read_entries(
    payloads: Payloads, rows: np.ndarray, data: np.ndarray, size: np.ndarray, schema: Layout
) -> None:
    """The `FIELDS` entries of payloads of one schema (`size`: each one's size from its header)."""
    readable = np.ones(len(rows), bool)
    found: dict[str, np.ndarray] = {}
    for key, name in FIELDS.items():
        if name not in schema:
            continue
        kind, offset = schema[name]
        if kind not in ENTRY_DTYPES or offset is None:
            reason = f"entry '{name}' of unknown type {kind} or at an unknown offset"
            return _ignored(BLOB_FIELD, reason, readable)
        dtype = np.dtype(ENTRY_DTYPES[kind])
        fits = offset + dtype.itemsize <= size
        _ignored(BLOB_FIELD, "shorter than its schema's entries", readable & ~fits)
        readable &= fits
        if readable.any():
            raw = np.ascontiguousarray(data[:, offset : offset + dtype.itemsize]).view(dtype).ravel()
            found[key] = raw.view(np.int64) if dtype.itemsize == 8 else raw.astype(np.int64)
    for key, values in found.items():
        payloads.values[key][rows[readable]] = values[readable]
        payloads.known[key][rows[readable]] = True
    return None


def _store(payloads: Payloads, row: int, fields: dict[str, int]) -> None:
    for key, value in fields.items():
        payloads.values[key][row] = value - (1 << 64) if value > INT64_MAX else value
        payloads.known[key][row] = True


def decode_json(text: str) -> dict[str, int] | None:
    """The `FIELDS` entries of a payload nsys wrote as a JSON object keyed by entry name."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        value = None
    if not isinstance(value, dict):
        return _ignored(JSON_FIELD, "not a JSON object", np.ones(1, bool))
    found = {key: value[name] for key, name in FIELDS.items() if name in value}
    if not all(type(v) is int and INT64_MIN <= v < 1 << 64 for v in found.values()):
        return _ignored(JSON_FIELD, "an entry that is not a 64-bit integer", np.ones(1, bool))
    return found


def _ignored(field: str, reason: str, rows: np.ndarray) -> None:
    """Count the `rows` (a mask) whose payload is ignored, and why."""
    checked.note(field, f"{reason}; payload ignored", int(rows.sum()))
    return None


def _plain(value: object) -> bool:
    return type(value) is int and 0 <= value <= INT64_MAX
