"""NVTX extended payloads of an Nsight Systems SQLite export, decoded through the export's own schemas.

An NVTX event with a binary payload (NCCL's ranges: communicator, message size, peer, rank count)
keeps it in `NVTX_EVENTS.binaryData`; its layout is one of the schemas registered by the program,
exported as `NVTX_PAYLOAD_SCHEMAS` (per `domainId`, `schemaId`: `payloadSize`) and
`NVTX_PAYLOAD_SCHEMA_ENTRIES` (per entry: `idx`, `type`, `name`, `offset`, `flags`). Entry types are
NVTX's `NVTX_PAYLOAD_ENTRY_TYPE_*` codes (nvToolsExtPayload.h): the integer ones are read here. The
blob nsys writes starts with a 32-byte header (little-endian uint64s: domain id, schema id, payload
size, header + payload size), then the payload (docs/formats.md, "NVTX payloads": the header layout
is taken from decoded real exports, not from an NVIDIA document). A payload nsys wrote as JSON
(`jsonText`, `jsonTextId`) is read by entry name. Only the entries named in `FIELDS` are decoded;
an event whose payload cannot be read is left without one and counted in the trace's warnings.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass

from tracekit.readers import checked
from tracekit.readers.checked import INT64_MAX
from tracekit.readers.nsys.export_db import Export, quoted

SCHEMAS, ENTRIES = "NVTX_PAYLOAD_SCHEMAS", "NVTX_PAYLOAD_SCHEMA_ENTRIES"
HEADER = struct.Struct("<QQQQ")
"""domain id, schema id, payload size, header + payload size."""
FIELDS = {
    "comm": "NCCL communicator ID",
    "bytes": "Message size [bytes]",
    "ranks": "No. of ranks",
    "peer": "Peer rank",
}
"""The payload entries read, by NCCL's entry names (nvtx_payload_schemas.h)."""
INTEGER_TYPES = {
    1: "b", 2: "B", 3: "h", 4: "H", 5: "i", 6: "I", 7: "q", 8: "Q", 9: "q", 10: "Q",
    11: "b", 12: "B", 13: "h", 14: "H", 15: "i", 16: "I", 17: "q", 18: "Q", 22: "Q", 23: "Q",
}  # fmt: skip
"""NVTX entry type -> struct code (LP64: long and size_t are 8 bytes): char .. unsigned long long,
int8 .. uint64, size_t, address."""
BLOB_FIELD, JSON_FIELD = "NVTX_EVENTS.binaryData", "NVTX_EVENTS.jsonText"

Fields = dict[str, int]
"""Decoded entries by `FIELDS` key; an entry the payload lacks is absent."""


@dataclass(frozen=True)
class Schema:
    """One payload layout: its static size (None when not given) and, per entry name, (type, offset);
    offset None when it follows an entry of unknown size."""

    size: int | None
    entries: dict[str, tuple[int, int | None]]


class Schemas:
    """The export's payload schemas by (domain id, schema id), and by schema id alone where only one
    layout has that id (the event's domain id in the blob may differ from the schema table's)."""

    def __init__(self, layouts: dict[tuple[int, int], Schema]) -> None:
        self.layouts = layouts
        by_id: dict[int, list[Schema]] = {}
        for (_, schema_id), schema in layouts.items():
            by_id.setdefault(schema_id, []).append(schema)
        self.by_id = {key: found[0] for key, found in by_id.items() if len(set(map(repr, found))) == 1}

    def find(self, domain: int, schema_id: int) -> Schema | None:
        return self.layouts.get((domain, schema_id)) or self.by_id.get(schema_id)


def read_schemas(export: Export) -> Schemas:
    """The schemas of the export (none when it has no schema tables); the first definition of a
    (domain, schema, entry) wins, as nsys repeats them per process."""
    sizes = _schema_sizes(export)
    entries: dict[tuple[int, int], list[tuple[int, int, str, int | None]]] = {}
    for domain, schema_id, idx, kind, name, offset, flags in _entry_rows(export):
        if None in (domain, schema_id, idx, kind) or flags not in (None, 0):
            continue  # an array, pointer or other flagged entry: not a plain value
        entries.setdefault((domain, schema_id), []).append((idx, kind, str(name or ""), offset))
    layouts = {key: Schema(sizes.get(key), _entry_offsets(rows)) for key, rows in entries.items()}
    return Schemas(layouts)


def _schema_sizes(export: Export) -> dict[tuple[int, int], int | None]:
    if not export.usable(SCHEMAS, ("domainId", "schemaId")):
        return {}
    size = export.column(SCHEMAS, "payloadSize")
    rows = export.rows(f"SELECT domainId, schemaId, {size} FROM {SCHEMAS}")
    found: dict[tuple[int, int], int | None] = {}
    for domain, schema_id, payload_size in rows:
        if _plain(domain) and _plain(schema_id):
            found.setdefault((domain, schema_id), payload_size if _plain(payload_size) else None)
    return found


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
        size = struct.calcsize(INTEGER_TYPES[kind]) if kind in INTEGER_TYPES else None
        if offset is None and end is not None and size is not None:
            offset = -(-end // size) * size
        entries.setdefault(name, (kind, offset))
        end = None if offset is None or size is None else offset + size
    return entries


def decode_blob(blob: bytes, schemas: Schemas) -> Fields | None:
    """The `FIELDS` entries of one binaryData blob; None (noted, with why) when it cannot be read."""
    if len(blob) < HEADER.size:
        return _ignored(BLOB_FIELD, f"shorter than the {HEADER.size}-byte payload header")
    domain, schema_id, size, _ = HEADER.unpack_from(blob)
    schema = schemas.find(domain, schema_id)
    if schema is None:
        return _ignored(BLOB_FIELD, "schema id not in NVTX_PAYLOAD_SCHEMAS")
    if size > len(blob) - HEADER.size:
        return _ignored(BLOB_FIELD, "shorter than the payload size its header gives")
    return _payload_fields(blob[HEADER.size : HEADER.size + size], schema)


def _payload_fields(payload: bytes, schema: Schema) -> Fields | None:
    fields: Fields = {}
    for key, name in FIELDS.items():
        if name not in schema.entries:
            continue
        kind, offset = schema.entries[name]
        if kind not in INTEGER_TYPES or offset is None:
            return _ignored(BLOB_FIELD, f"entry '{name}' of unknown type {kind} or at an unknown offset")
        code = "<" + INTEGER_TYPES[kind]
        if offset < 0 or offset + struct.calcsize(code) > len(payload):
            return _ignored(BLOB_FIELD, "shorter than its schema's entries")
        fields[key] = struct.unpack_from(code, payload, offset)[0]
    return fields


def decode_json(text: str) -> Fields | None:
    """The `FIELDS` entries of a payload nsys wrote as a JSON object keyed by entry name."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        value = None
    if not isinstance(value, dict):
        return _ignored(JSON_FIELD, "not a JSON object")
    found = {key: value[name] for key, name in FIELDS.items() if name in value}
    if not all(type(v) is int for v in found.values()):
        return _ignored(JSON_FIELD, "an entry that is not an integer")
    return found


def _ignored(field: str, reason: str) -> None:
    checked.note(field, f"{reason}; payload ignored")
    return None


def _plain(value: object) -> bool:
    return type(value) is int and 0 <= value <= INT64_MAX
