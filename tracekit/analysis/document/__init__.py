"""The analysis document `tracekit.analysis/1` as typed msgspec Structs (docs/json.md).

`analyze` returns a `Document`; `encode` writes the documented JSON and `decode` reads one back,
previous releases' documents included (fields added since then decode as None).
"""

from __future__ import annotations

import msgspec

from tracekit.analysis.document.ascend import AscendFindings
from tracekit.analysis.document.base import Block
from tracekit.analysis.document.device import Device
from tracekit.analysis.document.recommendations import Recommendations
from tracekit.analysis.document.trace import Host, OptionsInfo, Steps, Timeline, TraceInfo

SCHEMA = "tracekit.analysis/1"


class Document(Block, kw_only=True):
    schema: str
    trace: TraceInfo
    options: OptionsInfo
    steps: Steps
    devices: list[Device]
    host: Host
    timeline: Timeline | None = None
    definitions: dict[str, str]
    recommendations: Recommendations | None = None
    ascend: AscendFindings | None = None


def to_document(plain: dict) -> Document:
    """The document built from plain data (what the analyses return), checked field by field."""
    return msgspec.convert(plain, Document)


def encode(document: Document | Block) -> bytes:
    """The documented JSON of a document or one of its blocks."""
    return msgspec.json.encode(document)


def decode(data: bytes | str) -> Document:
    """A document from its JSON; msgspec.ValidationError names the field that does not fit."""
    return msgspec.json.decode(data, type=Document)


def plain(document: Document | Block) -> dict:
    """The document as plain dicts and lists, as json.loads would give it."""
    return msgspec.to_builtins(document)
