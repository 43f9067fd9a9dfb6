"""One run to compare: its analysis document and its per-step samples."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from tracekit.analysis.analyze import Options, analyze
from tracekit.analysis.document import Document
from tracekit.compare.samples import step_samples
from tracekit.model.trace import Trace
from tracekit.rules import CHANGES

EVERY_HOTSPOT = Options(top=1_000_000)  # operator budgets and diffs need every kernel, not the top 10
MEASURES = replace(EVERY_HOTSPOT, measures_only=True)  # what the metrics, diffs and verdicts read


@dataclass(frozen=True)
class Run:
    """A trace as the comparison sees it."""

    source: str
    document: Document
    samples: dict[str, np.ndarray]

    @property
    def steps(self) -> int:
        return self.document.steps.count


def run_of(trace: Trace, full: bool = True) -> Run:
    """Analyse a trace (every hotspot kept) and compute its per-step samples. `full=False` analyses
    only what the comparison reads (the metric catalogue, the operator diffs): no what-if replay,
    operators, memory or timeline, which only the HTML report's recommendations need."""
    options, changes = (EVERY_HOTSPOT, CHANGES) if full else (MEASURES, ())
    return Run(trace.source, analyze(trace, options, changes), step_samples(trace.events))
