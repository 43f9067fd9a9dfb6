"""The typed msgspec structs a Kineto / Chrome trace is decoded into, and its header.

Only the fields tracekit needs are decoded. `_Event` reads times as written (int or float µs, the
fast path); where a float cannot hold them, `_TextTimesEvent` keeps their text and `_ExactEvent`,
for text other than plain decimals, reads them as exact decimals.
"""

from __future__ import annotations

import math
from decimal import Decimal

import msgspec

from tracekit.model.schema import NONE
from tracekit.readers import checked

IntOrStr = int | str | None
Loose = int | float | str | None

KNOWN_SCHEMA_VERSIONS = frozenset({1})
"""Kineto `schemaVersion` values tracekit was tested on (PyTorch 1.8 to 2.9 write 1)."""


class _Args(msgspec.Struct, frozen=True, gc=False):
    device: Loose = NONE
    stream: Loose = NONE
    correlation: Loose = NONE
    bytes: Loose = NONE
    external_id: Loose = msgspec.field(name="External id", default=NONE)
    external_id_2021: Loose = msgspec.field(name="external id", default=NONE)
    # `[memory]` instants (profile_memory=True): c10 device type (0 CPU), device index, the signed
    # size of the allocation (+) or free (-), and the device's total allocated after it (newer
    # profilers only). Floats are accepted: other events may use these keys for other things.
    device_type: Loose = msgspec.field(name="Device Type", default=NONE)
    device_id: Loose = msgspec.field(name="Device Id", default=NONE)
    size: Loose = msgspec.field(name="Bytes", default=0)  # -1 is a size (a 1-byte free), not NONE
    total_allocated: Loose = msgspec.field(name="Total Allocated", default=NONE)
    # CPU ops recorded with record_shapes=True: kept as raw JSON text, decoded only for CPU ops
    input_dims: msgspec.Raw = msgspec.field(name="Input Dims", default=msgspec.Raw())
    input_type: msgspec.Raw = msgspec.field(name="Input type", default=msgspec.Raw())
    concrete_inputs: msgspec.Raw = msgspec.field(name="Concrete Inputs", default=msgspec.Raw())
    # NCCL kernels (readers/collectives.py): the collective's parameters, copied by Kineto
    collective: Loose = msgspec.field(name="Collective name", default=None)
    in_nelems: Loose = msgspec.field(name="In msg nelems", default=None)
    out_nelems: Loose = msgspec.field(name="Out msg nelems", default=None)
    group_size: Loose = msgspec.field(name="Group size", default=None)
    dtype: Loose = None


_NO_ARGS = _Args()


class _Event(msgspec.Struct, gc=False):
    """One trace event, only the fields tracekit needs; times in µs as written (the fast path)."""

    ph: str = ""
    cat: str = ""
    name: str = ""
    pid: IntOrStr = NONE
    tid: IntOrStr = NONE
    ts: int | float = math.nan  # integer literals stay int, so exactness can be checked; NaN: no ts
    dur: int | float = 0
    args: _Args = _NO_ARGS  # shared: flows and instants without args allocate nothing


class _ExactEvent(_Event, gc=False):
    """The same event with times as exact decimals, for values a float cannot hold."""

    ts: Decimal = Decimal("NaN")
    dur: Decimal = Decimal(0)


class _Document(msgspec.Struct, gc=False):
    traceEvents: list[_Event] | None = None
    schemaVersion: Loose = None
    deviceProperties: msgspec.Raw = msgspec.Raw()
    distributedInfo: msgspec.Raw = msgspec.Raw()


class _ExactDocument(msgspec.Struct, gc=False):
    traceEvents: list[_ExactEvent] | None = None


class _TextTimesEvent(_Event, gc=False):
    """The same event with times as the text the JSON wrote (decimal_cells.layout_ns converts them
    all at once); a missing duration is 0, as elsewhere."""

    ts: msgspec.Raw = msgspec.Raw()
    dur: msgspec.Raw = msgspec.Raw(b"0")


class _TextTimesDocument(msgspec.Struct, gc=False):
    traceEvents: list[_TextTimesEvent] | None = None


class _Header(msgspec.Struct, gc=False):
    """The document around a streamed `traceEvents` array, which is replaced by `null`: a second
    `traceEvents` key would show as a value here."""

    traceEvents: msgspec.Raw = msgspec.Raw()
    schemaVersion: Loose = None
    deviceProperties: msgspec.Raw = msgspec.Raw()
    distributedInfo: msgspec.Raw = msgspec.Raw()


class _DeviceProperties(msgspec.Struct, gc=False):
    """One entry of Kineto's `deviceProperties` header (only what tracekit reports)."""

    id: Loose = None
    name: Loose = ""
    computeMajor: Loose = None
    computeMinor: Loose = None
    numSms: Loose = None


FAST = (_Event, _Document)
EXACT = (_ExactEvent, _ExactDocument)
TEXT_TIMES = (_TextTimesEvent, _TextTimesDocument)


def header(document: _Document | _Header) -> dict[str, object]:
    """Warnings about the schema version, and the GPUs of `deviceProperties`."""
    found: dict[str, object] = {}
    version = document.schemaVersion
    if version is not None and version not in KNOWN_SCHEMA_VERSIONS:
        shown = checked.text(version, "schemaVersion")[:20]
        found["warnings"] = [f"unknown Kineto schemaVersion {shown} (tested: 1); read as version 1"]
    gpus = _device_properties(document.deviceProperties)
    if gpus:
        found["gpus"] = gpus
    distributed = _distributed_info(document.distributedInfo)
    if distributed:
        found["distributed"] = distributed
    return found


def _distributed_info(raw: msgspec.Raw) -> dict[str, object]:
    """Rank, world size and backend of Kineto's `distributedInfo` header; {} when absent or malformed."""
    try:
        found = msgspec.json.decode(raw, type=dict[str, Loose]) if len(raw) else {}
    except (msgspec.DecodeError, RecursionError):
        checked.note("distributedInfo", "not an object of scalars, skipped")
        return {}
    rank = checked.integer(found.get("rank"), "distributedInfo.rank", 0)
    world = checked.integer(found.get("world_size"), "distributedInfo.world_size", 1)
    info = {"rank": rank, "world_size": world, "backend": checked.text(found.get("backend"), "backend")[:40]}
    return {key: value for key, value in info.items() if value not in (NONE, "")}


def _device_properties(raw: msgspec.Raw) -> list[dict[str, object]]:
    """The GPUs of Kineto's `deviceProperties` header (name, compute capability, SMs); a malformed
    header is skipped (it describes the devices, it holds no events)."""
    if not len(raw):
        return []
    try:
        found = msgspec.json.decode(raw, type=list[_DeviceProperties])
    except (msgspec.DecodeError, RecursionError):
        checked.note("deviceProperties", "not a list of device records, skipped")
        return []
    return [
        {
            "id": checked.integer(p.id, "deviceProperties.id"),
            "name": checked.text(p.name, "deviceProperties.name")[:200],
            "compute_capability": f"{_small(p.computeMajor)}.{_small(p.computeMinor)}",
            "sm_count": checked.integer(p.numSms, "deviceProperties.numSms"),
        }
        for p in found
    ]


def _small(value: Loose) -> str:
    number = checked.integer(value, "deviceProperties.compute", 0, 1000)
    return "?" if number == NONE else str(number)
