"""The terminal summary of an analysis: every number with its window or formula beside it, at the
console's width (names cut with an ellipsis, numbers whole)."""

from __future__ import annotations

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from tracekit.analysis.copies import REPORTED_DIRECTIONS
from tracekit.analysis.document import Document
from tracekit.analysis.document.device import Blocking, Bubbles, Device, Launch, LongGaps
from tracekit.analysis.document.stats import Hotspot, KernelHotspot
from tracekit.formatting import fmt_bytes, fmt_copy_bytes, fmt_ns, fmt_share
from tracekit.report.formulas import formula
from tracekit.report.step_markers import STEP_MARKER_USAGE, step_marker_examples
from tracekit.report.terminal_ascend import ascend_table
from tracekit.report.terminal_communication import communication_section
from tracekit.report.terminal_fit import Column, fitted_table, fitted_text
from tracekit.report.terminal_operators import operators_section
from tracekit.report.terminal_plan import recommendations_group


def render_summary(analysis: Document, console: Console) -> None:
    """Print the analysis document as readable tables, no line wider than the console."""
    width = console.width
    console.print(_trace_header(analysis, width))
    ascend = analysis.trace.format == "ascend"
    for device in analysis.devices:
        console.print(_device_section(device, analysis.steps.count, width, ascend))
    if analysis.ascend is not None:
        console.print(ascend_table(analysis.ascend))
    if not analysis.devices and analysis.host.cpu_op_hotspots:
        console.print(_cpu_ops_table(analysis.host.cpu_op_hotspots, width))
    if analysis.recommendations is not None:
        console.print(recommendations_group(analysis))
    console.print(
        Text("Definitions of every number: docs/metrics.md and the JSON 'definitions' block.", style="dim")
    )


def _trace_header(analysis: Document, width: int) -> Group:
    trace, steps = analysis.trace, analysis.steps
    span = trace.capture_span.duration_ns
    lines = [
        Text(_source_line(trace.source, width), style="bold"),
        Text(f"format {trace.format}, {trace.events:,} events, capture span {fmt_ns(span)}"),
    ]
    if steps.count:
        d = steps.duration_ns
        stats = ", ".join(f"{key} {fmt_ns(getattr(d, key))}" for key in ("p50", "p90", "p99", "mean", "max"))
        lines.append(Text(f"steps {steps.count} (#{steps.first}..#{steps.last}): duration {stats}"))
    else:
        lines.append(Text(no_steps_hint(trace.marker_names), style="yellow"))
    if not analysis.devices:
        lines.append(
            Text("no device activity in this trace: nothing ran on a GPU or NPU", style="bold yellow")
        )
    lines += [Text(f"warning: {w}", style="yellow") for w in trace.metadata.get("warnings", [])]
    return Group(*lines)


def _source_line(source: str, width: int) -> str:
    """`tracekit analysis of PATH`, the path's start cut (`…/dir/file`) when the line is too long."""
    prefix = "tracekit analysis of "
    room = width - len(prefix)
    return prefix + (source if len(source) <= room else "…" + source[len(source) - room + 1 :])


def no_steps_hint(marker_names: list[str]) -> str:
    """What to do without ProfilerStep: the option, with the trace's most frequent range names."""
    if not marker_names:
        return "steps: none found (no ProfilerStep#N annotations, and no annotation or NVTX range to use)"
    examples = ", ".join(step_marker_examples(marker_names))
    return (
        "steps: none found (no ProfilerStep#N annotations); to make each repetition of a range one step, "
        f"give {STEP_MARKER_USAGE}. Most frequent ranges: {examples}"
    )


def _device_section(device: Device, step_count: int, width: int, ascend: bool) -> Group:
    return Group(
        Text(""),
        Text(f"Device {device.id}: {device.operations:,} operations", style="bold"),
        _utilization_table(device, width),
        _bubbles_table(device.bubbles, device.long_gaps, width),
        _histogram_line(device.bubbles),
        *_copies_parts(device, step_count, width),
        communication_section(device, width),
        _blocking_lines(device.blocking),
        _launch_line(device.launch),
        _hotspots_table(device.hotspots, width),
        Text(f"share = {formula('hotspots.share')}", style="dim") if device.hotspots else Group(),
        operators_section(device, width, ascend),
    )


_METRIC_COLUMNS = [Column("metric", "left"), Column("value"), Column("window / formula", "left", wrap=True)]


def _metric_table(title: str, rows: list[list[str]], width: int) -> Table:
    table = fitted_table(title, _METRIC_COLUMNS, rows, width)
    table.columns[2].style = "dim"
    return table


def _utilization_table(device: Device, width: int) -> Table:
    rows = [
        ["window W", fmt_ns(device.window_ns), formula("window")],
        ["busy", fmt_ns(device.busy_ns), formula("busy_ns")],
        ["utilization", fmt_share(device.utilization), formula("utilization")],
        ["utilization (sum)", fmt_share(device.utilization_sum), formula("utilization_sum")],
        ["kernel utilization", fmt_share(device.kernel_utilization), formula("kernel_utilization")],
    ]
    return _metric_table("Utilization", rows, width)


_CAUSES = ("sync_wait", "host_wait", "other")


def _bubbles_table(bubbles: Bubbles, gaps: LongGaps, width: int) -> Table:
    spread = f"{fmt_ns(bubbles.p50_ns)} / {fmt_ns(bubbles.p90_ns)} / {fmt_ns(bubbles.max_ns)}"
    rows = [
        ["count", f"{bubbles.count:,}", formula("bubbles")],
        ["total", fmt_ns(bubbles.total_ns), formula("bubbles.total_ns")],
        ["p50 / p90 / max", spread, formula("bubbles.percentiles")],
    ]
    for cause in _CAUSES:
        value = getattr(bubbles.by_cause, cause)
        rows.append(
            [
                f"cause {cause}",
                f"{value.count:,} ({fmt_ns(value.total_ns)})",
                formula(f"bubbles.cause.{cause}"),
            ]
        )
    longest = ", ".join(fmt_ns(g.dur_ns) for g in gaps.gaps[:3])
    rows.append(
        [
            f"gaps > {fmt_ns(gaps.threshold_ns)}",
            f"{gaps.count:,}" + (f": {longest}" if longest else ""),
            formula("long_gaps"),
        ]
    )
    return _metric_table(f"Bubbles (idle gaps in W, >= {fmt_ns(bubbles.threshold_ns)})", rows, width)


def _histogram_line(bubbles: Bubbles) -> Text:
    bins = ", ".join(f"{b.bin}: {b.count:,}" for b in bubbles.histogram if b.count)
    return Text(f"bubble lengths by decade: {bins or 'none'}", style="dim")


def _copies_parts(device: Device, step_count: int, width: int) -> tuple[Table, Text]:
    """The copies table and the formulas of its time and exposed columns."""
    note = f"time: {formula('copies.busy_ns')}; exposed: {formula('copies.exposed_share')}"
    return _copies_table(device, step_count, width), Text(note, style="dim")


def _copies_table(device: Device, step_count: int, width: int) -> Table:
    """One row per direction; the pageable / pinned columns only when the trace knows the memory kind."""
    copies = [device.copies(key) for key in REPORTED_DIRECTIONS]
    kinds_known = any(c.pageable_count or c.pinned_count for c in copies)
    headers = ["dir", "count", "per\nstep", "bytes", "time", "share\nof busy", "exposed"]
    headers += ["pageable", "pinned"] if kinds_known else []
    columns = [Column(h, "left" if h == "dir" else "right") for h in [*headers, "GB/s"]]
    rows = []
    for key, c in zip(REPORTED_DIRECTIONS, copies, strict=True):
        per_step = "-" if c.per_step is None or not step_count else f"{c.per_step:.1f}"
        kinds = [f"{c.pageable_count:,}", f"{c.pinned_count:,}"] if kinds_known else []
        rows.append(
            [key.upper(), f"{c.count:,}", per_step, fmt_copy_bytes(c.bytes, c.bytes_unknown_count, c.count),
             fmt_ns(c.busy_ns), fmt_share(c.share_of_busy), fmt_share(c.exposed_share),
             *kinds, "-" if c.bandwidth_gbps is None else f"{c.bandwidth_gbps:.1f}"]
        )  # fmt: skip
    return fitted_table("Copies", columns, rows, width)


_BLOCKING_HELP = {
    "pageable_async_copies": "async copies on pageable memory (run synchronously; pin the host buffer)",
    "sync_copies": "copies issued by synchronous cudaMemcpy (block the host)",
    "sync_memsets": "synchronous memsets on pinned or managed memory (block the host)",
}


def _blocking_lines(blocking: Blocking | None) -> Group:
    items = [(key, getattr(blocking, key)) for key in _BLOCKING_HELP] if blocking is not None else []
    lines = [
        Text(f"{item.count:,} {_BLOCKING_HELP[key]}: {fmt_ns(item.total_ns)}, {fmt_bytes(item.bytes)}")
        for key, item in items
        if item.count
    ]
    return Group(*lines)


def _launch_line(launch: Launch | None) -> Text:
    if launch is None or not launch.kernels_with_launch:
        return Text("Launch: no kernel has a known launch call", style="dim")
    return Text(
        f"Launch: delay p50 {fmt_ns(launch.delay_p50_ns)}, p90 {fmt_ns(launch.delay_p90_ns)} "
        f"(delay = {formula('launch.delay')}); {fmt_share(launch.short_kernel_share)} of kernels are "
        f"shorter than their launch call ({launch.kernels_with_launch:,} kernels with a launch call)"
    )


def _hotspots_table(hotspots: list[KernelHotspot], width: int) -> Table:
    """Kernels by total time; at a short width the tail percentiles and the launcher go first."""
    launchers = any(h.launched_by for h in hotspots)
    columns = [Column("share"), Column("total"), Column("count"), Column("mean", drop=2),
               Column("p50", drop=3), Column("p99", drop=4), Column("max", drop=1)]  # fmt: skip
    columns += [Column("launched by", "left", drop=5)] if launchers else []
    rows = []
    for h in hotspots:
        row = [fmt_share(h.share), fmt_ns(h.total_ns), f"{h.count:,}", fmt_ns(h.mean_ns),
               fmt_ns(h.p50_ns), fmt_ns(h.p99_ns), fmt_ns(h.max_ns)]  # fmt: skip
        row += [fitted_text(h.launched_by or "-", 24)] if launchers else []
        rows.append([*row, h.name])
    return fitted_table("Kernel hotspots", columns, rows, width, name="kernel")


def _cpu_ops_table(hotspots: list[Hotspot], width: int) -> Table:
    columns = [Column("count"), Column("total"), Column("mean", drop=1), Column("max", drop=2)]
    rows = [
        [f"{h.count:,}", fmt_ns(h.total_ns), fmt_ns(h.mean_ns), fmt_ns(h.max_ns), h.name] for h in hotspots
    ]
    return fitted_table("Host operations (inclusive time)", columns, rows, width, name="operation")
