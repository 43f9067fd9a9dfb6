"""What a performance model returns for one call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tracekit.perfmodel.calls import OpCall


@dataclass(frozen=True)
class Cost:
    """FLOPs (None for bytes-only models) and bytes moved by one call, its family and compute dtype."""

    family: str
    flops: int | None
    bytes: int
    dtype: str


Model = Callable[[OpCall], Cost | None]
