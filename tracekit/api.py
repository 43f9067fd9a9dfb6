"""The Python API: load a trace, analyze it, read the results as pandas DataFrames (docs/python.md).

A thin layer over the calls the CLI makes (readers.read_traces, analysis.analyze.analyze,
rules.recommend, report.html.render_html). pandas is imported only when a DataFrame is asked for;
the tables themselves are built in Arrow (tracekit/api_frames.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from tracekit.analysis.analyze import Options, marker_steps, select_steps
from tracekit.analysis.analyze import analyze as analyze_events
from tracekit.analysis.columns import Columns
from tracekit.analysis.document import Document
from tracekit.analysis.document.recommendations import PlanSummary
from tracekit.api_frames import (
    bubbles_table,
    copies_table,
    hotspots_table,
    operators_table,
    readable_events,
    recommendations_table,
    steps_table,
    to_pandas,
)
from tracekit.cli.ranks import rank_in, rank_sources
from tracekit.cli.units import parse_duration_ns, parse_step_range
from tracekit.model import trace as model
from tracekit.perfmodel.hardware import find_hardware, hardware_names
from tracekit.readers import read_traces
from tracekit.report.files import to_json, write_text_atomic
from tracekit.report.html import LANGUAGES, render_html
from tracekit.rules import CHANGES, recommend

if TYPE_CHECKING:
    import pandas as pd

STEP_MARKER_PREFIX = "nvtx:"
KERNEL_NAMES = ("short", "full")


@dataclass(frozen=True)
class Trace(model.Trace):
    """One trace in canonical form (`events`: the Arrow table of docs/model.md), with table views."""

    def __repr__(self) -> str:
        return f"Trace(source={self.source!r}, format={self.format!r}, events={self.events.num_rows})"

    def to_arrow(self) -> pa.Table:
        """The events with `kind`, `copy_direction`, `src_memory`, `dst_memory` as readable labels."""
        return readable_events(self.events)

    def to_pandas(self) -> pd.DataFrame:
        """The events as a DataFrame: enum columns categorical, times int64 ns."""
        return to_pandas(self.to_arrow())


def load(path: str | Path, format: str | None = None) -> Trace | list[Trace]:
    """Read a trace file, an Ascend profiler directory or a folder of per-rank traces, as `tracekit
    analyze` finds them; a list of traces (one per rank) when the path holds several."""
    traces = load_ranks(path, format)
    return traces[0] if len(traces) == 1 else traces


def load_ranks(path: str | Path, format_name: str | None = None) -> list[Trace]:
    """Every rank's trace under `path` (one for a single trace file)."""
    traces = []
    for source in rank_sources([Path(path)], format_name):
        found = read_traces(source.path, source.format_name)
        traces += [
            Trace(t.events, t.format, t.source, t.metadata)
            for t in found
            if source.select is None or Path(t.source) == Path(source.select)
        ]
    return traces


def analyze(
    trace: Trace | list[Trace] | str | Path,
    *,
    top: int = 10,
    steps: str | tuple[int, int] | None = None,
    device: str | None = None,
    lang: str = "en",
    unprofiled_step: str | int | None = None,
    bubble_threshold: str | int = 0,
    gap_threshold: str | int = Options.gap_threshold_ns,
    kernel_names: str = "short",
) -> Analysis | list[Analysis]:
    """Analyze a trace (or each of a list, or the trace at a path) as `tracekit analyze` does.

    `steps`: "A:B", (A, B) or "nvtx:NAME"; durations: ns as int, or text such as "1.48ms".
    Bad arguments raise ValueError; a bad trace raises tracekit.errors.TraceError.
    """
    options = analysis_options(
        top, steps, device, unprofiled_step, bubble_threshold, gap_threshold, kernel_names
    )
    check_lang(lang)
    if isinstance(trace, str | Path):
        trace = load(trace)
    if isinstance(trace, list):
        return [analyze_trace(one, options, lang) for one in trace]
    return analyze_trace(trace, options, lang)


def analyze_trace(trace: model.Trace, options: Options, lang: str = "en") -> Analysis:
    """The analysis of one trace with its recommendations in `lang`."""
    document = analyze_events(trace, options, changes=CHANGES)
    document.recommendations = recommend(document, lang)
    return Analysis(document, analysed_events(trace, options))


def analysed_events(trace: model.Trace, options: Options) -> pa.Table:
    """The events the analysis reads: steps redefined by the marker, then the selected steps."""
    table = trace.events
    if options.step_marker is not None:
        table = marker_steps(trace, options.step_marker)
    if options.steps is not None:
        table = select_steps(trace, options.steps, table)
    return table


def analysis_options(
    top: int = 10,
    steps: str | tuple[int, int] | None = None,
    device: str | None = None,
    unprofiled_step: str | int | None = None,
    bubble_threshold: str | int = 0,
    gap_threshold: str | int = Options.gap_threshold_ns,
    kernel_names: str = "short",
) -> Options:
    """The analysis Options from user values, checked: a ValueError says which value is wrong."""
    if not isinstance(top, int) or top < 1:
        raise ValueError(f"top must be a positive integer, not {top!r}")
    if kernel_names not in KERNEL_NAMES:
        raise ValueError(f"kernel_names must be 'short' or 'full', not {kernel_names!r}")
    step_range, step_marker = _steps(steps)
    return Options(
        top=top,
        bubble_threshold_ns=_duration_ns(bubble_threshold, "bubble_threshold"),
        gap_threshold_ns=_duration_ns(gap_threshold, "gap_threshold"),
        steps=step_range,
        step_marker=step_marker,
        full_kernel_names=kernel_names == "full",
        device=_device(device),
        unprofiled_step_ns=_unprofiled(unprofiled_step),
    )


def check_lang(lang: str) -> str:
    """`lang` when the report and recommendations speak it, else a ValueError."""
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {', '.join(LANGUAGES)}, not {lang!r}")
    return lang


def rank_ids(traces: list[model.Trace]) -> list[int]:
    """Each trace's rank id (Ascend rank, Kineto distributedInfo), or its position when the ranks are
    not all known and distinct."""
    ranks = [rank_in(t.metadata) for t in traces]
    if None in ranks or len(set(ranks)) != len(ranks):
        return list(range(len(traces)))
    return ranks


def _steps(steps: str | tuple[int, int] | None) -> tuple[tuple[int, int] | None, str | None]:
    """(step range, step marker) from "A:B", (A, B) or "nvtx:NAME"."""
    if steps is None:
        return None, None
    if isinstance(steps, tuple):
        return parse_step_range(f"{steps[0]}:{steps[1]}"), None
    if steps.startswith(STEP_MARKER_PREFIX):
        marker = steps.removeprefix(STEP_MARKER_PREFIX)
        if not marker:
            raise ValueError("steps 'nvtx:' needs a range name, e.g. 'nvtx:forward'")
        return None, marker
    return parse_step_range(steps), None


def _duration_ns(value: str | int, name: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if not isinstance(value, str):
        raise ValueError(f"{name}: not a duration: {value!r} (ns as an int, or text such as '10us')")
    try:
        return parse_duration_ns(value)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


def _unprofiled(value: str | int | None) -> int | None:
    """The unprofiled step time in ns, a positive duration."""
    if value is None:
        return None
    ns = _duration_ns(value, "unprofiled_step")
    if ns <= 0:
        raise ValueError("unprofiled_step must be a positive duration, e.g. '1.48ms'")
    return ns


def _device(name: str | None) -> str | None:
    if name is not None and find_hardware(name) is None:
        raise ValueError(
            f"device {name!r} is not in the hardware table (one of: {', '.join(hardware_names())})"
        )
    return name


@dataclass(frozen=True)
class Analysis:
    """The analysis of one trace: the typed `tracekit.analysis/1` document (Structs whose fields are
    the JSON's keys, docs/json.md) and the events it was made from."""

    document: Document
    events: pa.Table

    def __repr__(self) -> str:
        return (
            f"Analysis(source={self.source!r}, format={self.format!r}, devices={self.devices}, "
            f"steps={self.step_count}, speedup={self.speedup})"
        )

    @property
    def source(self) -> str:
        return self.document.trace.source

    @property
    def format(self) -> str:
        return self.document.trace.format

    @property
    def devices(self) -> list[int]:
        """Ids of the devices that ran at least one operation."""
        return [block.id for block in self.document.devices]

    @property
    def step_count(self) -> int:
        return self.document.steps.count

    @property
    def step_p50_ns(self) -> int | None:
        """Median step duration (nearest rank), None without steps."""
        return self.document.steps.duration_ns.p50

    @property
    def predicted_step_ns(self) -> int | None:
        """The step time predicted after every planned change, None without a plan."""
        plan = self._plan
        return plan.predicted_step_ns if plan else None

    @property
    def speedup(self) -> float | None:
        """Step time now / predicted after the plan's changes."""
        plan = self._plan
        return plan.speedup if plan else None

    @property
    def _plan(self) -> PlanSummary | None:
        recommendations = self.document.recommendations
        return recommendations.plan if recommendations else None

    @cached_property
    def _columns(self) -> Columns:
        return Columns.from_table(self.events)

    def table(self, name: str) -> pa.Table:
        """One analysis table as Arrow: steps, bubbles, hotspots, operators, copies, recommendations."""
        builders = {
            "steps": lambda: steps_table(self.events),
            "bubbles": lambda: bubbles_table(self._columns, self.document),
            "hotspots": lambda: hotspots_table(self.document),
            "operators": lambda: operators_table(self.document),
            "copies": lambda: copies_table(self.document),
            "recommendations": lambda: recommendations_table(self.document),
        }
        if name not in builders:
            raise ValueError(f"no analysis table {name!r} (one of: {', '.join(builders)})")
        return builders[name]()

    @property
    def steps(self) -> pd.DataFrame:
        """One row per step: number, start, end, duration."""
        return to_pandas(self.table("steps"))

    @property
    def bubbles(self) -> pd.DataFrame:
        """Every bubble of every device, with its cause."""
        return to_pandas(self.table("bubbles"))

    @property
    def hotspots(self) -> pd.DataFrame:
        """The top kernels by total time, per device."""
        return to_pandas(self.table("hotspots"))

    @property
    def operators(self) -> pd.DataFrame:
        """Framework operators by device time, with their roofline, per device."""
        return to_pandas(self.table("operators"))

    @property
    def copies(self) -> pd.DataFrame:
        """Copies per device and direction (h2d, d2h, d2d)."""
        return to_pandas(self.table("copies"))

    @property
    def recommendations(self) -> pd.DataFrame:
        """The findings that fired, ranked, with their predicted gains."""
        return to_pandas(self.table("recommendations"))

    def to_json(self, path: str | Path | None = None) -> str:
        """The document as JSON text; also written atomically to `path` when given."""
        text = to_json(self.document)
        if path is not None:
            write_text_atomic(Path(path), text)
        return text

    def to_html(self, path: str | Path, lang: str = "en") -> Path:
        """Write the self-contained HTML report (recommendations in `lang`) atomically to `path`."""
        check_lang(lang)
        own = self.document.recommendations
        recommendations = own if own and own.lang == lang else recommend(self.document, lang)
        write_text_atomic(Path(path), render_html(self.document, lang, recommendations))
        return Path(path)
