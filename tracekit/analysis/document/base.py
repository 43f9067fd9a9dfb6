"""The base of every block of the analysis document: a msgspec Struct, keyword-only."""

from __future__ import annotations

import msgspec


class Block(msgspec.Struct, kw_only=True):
    """One object of the `tracekit.analysis/1` JSON (docs/json.md). Fields without a default were in
    every document since the previous release; those added since default to None, so older
    documents still decode."""
