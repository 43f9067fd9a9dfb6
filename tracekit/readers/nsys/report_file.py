"""Nsight Systems report files (`.nsys-rep`, `.qdrep`): recognised, and refused with the export command.

Their format is private to nsys; tracekit reads what `nsys export` makes of them.
"""

from __future__ import annotations

from pathlib import Path

from tracekit.errors import TraceError
from tracekit.model.trace import Trace


def read_nsys_report(path: Path) -> Trace:
    """Always an input error that says how to export the report."""
    target = path.with_suffix(".sqlite").name
    raise TraceError(
        path,
        f"an Nsight Systems report; export it first: nsys export --type sqlite --output {target} {path.name}",
    )
