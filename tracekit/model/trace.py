"""A trace as readers hand it over: the event table plus where it came from."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa


@dataclass(frozen=True)
class Trace:
    """One trace in canonical form."""

    events: pa.Table
    format: str
    source: str
    metadata: dict[str, object] = field(default_factory=dict)
