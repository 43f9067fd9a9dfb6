"""Recommendations: rules as data, evaluated on the analysis document (docs/rules.md)."""

from __future__ import annotations

from tracekit.rules.engine import recommend

__all__ = ["recommend"]
