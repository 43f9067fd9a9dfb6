"""The terminal summary of an analysis: every number with its window or formula beside it."""

from __future__ import annotations

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from tracekit.analysis.copies import REPORTED_DIRECTIONS
from tracekit.formatting import fmt_bytes, fmt_ns, fmt_share
from tracekit.report.terminal_operators import operators_section
from tracekit.report.terminal_plan import recommendations_group


def render_summary(analysis: dict, console: Console) -> None:
    """Print the analysis document as readable tables."""
    console.print(_trace_header(analysis))
    for device in analysis["devices"]:
        console.print(_device_section(device, analysis["steps"]["count"]))
    if "ascend" in analysis:
        console.print(_ascend_table(analysis["ascend"]))
    if not analysis["devices"] and analysis["host"]["cpu_op_hotspots"]:
        console.print(_cpu_ops_table(analysis["host"]["cpu_op_hotspots"]))
    if analysis.get("recommendations"):
        console.print(recommendations_group(analysis))
    console.print(
        Text(
            "Definitions of every number: docs/metrics.md and the JSON 'definitions' block.",
            style="dim",
        )
    )


def _trace_header(analysis: dict) -> Group:
    trace, steps = analysis["trace"], analysis["steps"]
    span = trace["capture_span"]["duration_ns"]
    lines = [
        Text(f"tracekit analysis of {trace['source']}", style="bold"),
        Text(f"format {trace['format']}, {trace['events']:,} events, capture span {fmt_ns(span)}"),
    ]
    if steps["count"]:
        d = steps["duration_ns"]
        stats = ", ".join(f"{key} {fmt_ns(d[key])}" for key in ("p50", "p90", "p99", "mean", "max"))
        lines.append(Text(f"steps {steps['count']} (#{steps['first']}..#{steps['last']}): duration {stats}"))
    else:
        lines.append(Text("steps: none found (no ProfilerStep#N annotations)", style="dim"))
    if not analysis["devices"]:
        lines.append(
            Text("no device activity in this trace: nothing ran on a GPU or NPU", style="bold yellow")
        )
    lines += [Text(f"warning: {w}", style="yellow") for w in trace["metadata"].get("warnings", [])]
    return Group(*lines)


def _device_section(device: dict, step_count: int) -> Group:
    return Group(
        Text(""),
        Text(f"Device {device['id']}: {device['operations']:,} operations", style="bold"),
        _utilization_table(device),
        _bubbles_table(device["bubbles"], device["long_gaps"]),
        _copies_table(device, step_count),
        _blocking_lines(device["blocking"]),
        _launch_line(device["launch"]),
        _hotspots_table(device["hotspots"]),
        operators_section(device),
    )


def _metric_table(title: str) -> Table:
    table = Table(title=title, title_justify="left", show_header=True, box=None, pad_edge=False)
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column("window / formula", style="dim")
    return table


def _utilization_table(device: dict) -> Table:
    table = _metric_table("Utilization")
    table.add_row("window W", fmt_ns(device["window_ns"]), "first device op start .. last device op end")
    table.add_row("busy", fmt_ns(device["busy_ns"]), "|union of ops over streams| in W")
    table.add_row("utilization", fmt_share(device["utilization"]), "busy / |W|")
    table.add_row(
        "utilization (sum)",
        fmt_share(device["utilization_sum"]),
        "sum of op durations / |W| (nsys)",
    )
    table.add_row("kernel utilization", fmt_share(device["kernel_utilization"]), "|union of kernels| / |W|")
    return table


def _bubbles_table(bubbles: dict, gaps: dict) -> Table:
    table = _metric_table(f"Bubbles (idle gaps in W, >= {fmt_ns(bubbles['threshold_ns'])})")
    table.add_row("count", f"{bubbles['count']:,}", "maximal idle intervals inside W")
    table.add_row("total", fmt_ns(bubbles["total_ns"]), "sum of bubble lengths")
    table.add_row(
        "p50 / p90 / max",
        f"{fmt_ns(bubbles['p50_ns'])} / {fmt_ns(bubbles['p90_ns'])} / {fmt_ns(bubbles['max_ns'])}",
        "nearest rank",
    )
    for cause, value in bubbles["by_cause"].items():
        table.add_row(
            f"cause {cause}",
            f"{value['count']:,} ({fmt_ns(value['total_ns'])})",
            _CAUSE_HELP[cause],
        )
    histogram = ", ".join(f"{b['bin']}: {b['count']}" for b in bubbles["histogram"] if b["count"])
    table.add_row("histogram", histogram or "-", "decade bins")
    longest = ", ".join(fmt_ns(g["dur_ns"]) for g in gaps["gaps"][:5])
    table.add_row(
        f"gaps > {fmt_ns(gaps['threshold_ns'])}",
        f"{gaps['count']:,}" + (f": {longest}" if longest else ""),
        "nsys gpu_gaps view (strictly longer)",
    )
    return table


_CAUSE_HELP = {
    "sync_wait": "a synchronize call overlaps the bubble",
    "host_wait": "next op's launch call began after the bubble began",
    "other": "neither",
}


def _copies_table(device: dict, step_count: int) -> Table:
    table = Table(
        title="Copies (time = union; exposed = not under kernels, share of |W|)",
        title_justify="left",
        box=None,
    )
    for column in (
        "dir",
        "count",
        "per step",
        "bytes",
        "time",
        "share of busy",
        "exposed",
        "pageable",
        "pinned",
        "GB/s",
    ):
        table.add_column(column, justify="left" if column == "dir" else "right")
    for key in REPORTED_DIRECTIONS:
        c = device[key]
        per_step = "-" if c["per_step"] is None or not step_count else f"{c['per_step']:.1f}"
        bandwidth = "-" if c["bandwidth_gbps"] is None else f"{c['bandwidth_gbps']:.1f}"
        table.add_row(
            key.upper(), f"{c['count']:,}", per_step, fmt_bytes(c["bytes"]), fmt_ns(c["busy_ns"]),
            fmt_share(c["share_of_busy"]), fmt_share(c["exposed_share"]),
            f"{c['pageable_count']:,}", f"{c['pinned_count']:,}", bandwidth,
        )  # fmt: skip
    return table


_BLOCKING_HELP = {
    "pageable_async_copies": "async copies on pageable memory (run synchronously; pin the host buffer)",
    "sync_copies": "copies issued by synchronous cudaMemcpy (block the host)",
    "sync_memsets": "synchronous memsets on pinned or managed memory (block the host)",
}


def _blocking_lines(blocking: dict) -> Group:
    lines = [
        Text(
            f"{item['count']:,} {_BLOCKING_HELP[key]}: {fmt_ns(item['total_ns'])}, {fmt_bytes(item['bytes'])}"
        )
        for key, item in blocking.items()
        if item["count"]
    ]
    return Group(*lines)


def _launch_line(launch: dict) -> Text:
    if not launch["kernels_with_launch"]:
        return Text("Launch: no kernel has a known launch call", style="dim")
    return Text(
        f"Launch: delay p50 {fmt_ns(launch['delay_p50_ns'])}, p90 {fmt_ns(launch['delay_p90_ns'])} "
        f"(kernel start - launch call end); {fmt_share(launch['short_kernel_share'])} of kernels are "
        f"shorter than their launch call ({launch['kernels_with_launch']:,} kernels with a launch call)"
    )


def _hotspots_table(hotspots: list[dict]) -> Table:
    table = Table(title="Kernel hotspots (share of summed kernel time)", title_justify="left", box=None)
    for column in ("share", "total", "count", "mean", "p50", "p99", "max", "launched by"):
        table.add_column(column, justify="left" if column == "launched by" else "right", no_wrap=True)
    table.add_column("kernel", overflow="fold", ratio=1)
    for h in hotspots:
        table.add_row(
            fmt_share(h["share"]), fmt_ns(h["total_ns"]), f"{h['count']:,}", fmt_ns(h["mean_ns"]),
            fmt_ns(h["p50_ns"]), fmt_ns(h["p99_ns"]), fmt_ns(h["max_ns"]),
            _clip(h.get("launched_by") or "-", 24), _clip(h["name"], 120),
        )  # fmt: skip
    return table


def _ascend_table(ascend: dict) -> Table:
    """One line per Ascend finding: whether it fired and its headline numbers (details in the JSON)."""
    table = Table(title="Ascend findings (details: JSON 'ascend' block)", title_justify="left", box=None)
    for column in ("finding", "status", "evidence"):
        table.add_column(column, overflow="fold")
    for key, evidence in _ASCEND_EVIDENCE.items():
        finding = ascend[key]
        status = "not evaluated" if not finding["evaluated"] else "FOUND" if finding["detected"] else "no"
        table.add_row(key, status, evidence(finding) if finding["evaluated"] else "-")
    for step in ascend["time_breakdown"]:
        ours, theirs = step["tracekit"], step.get("step_trace_time") or step.get("overlap_analysis") or {}
        table.add_row(
            f"step {step['step']} time",
            "",
            f"compute {fmt_ns(ours['compute_ns'])} (profiler: {fmt_ns(theirs.get('compute_ns'))}), "
            f"uncovered communication {fmt_ns(ours['communication_not_overlapped_ns'])}, "
            f"free {fmt_ns(ours['free_ns'])} of {fmt_ns(ours['e2e_ns'])}",
        )
    return table


_ASCEND_EVIDENCE = {
    "h2d": lambda f: f"{f['count']:,} copies, {fmt_ns(f['total_ns'])}, up to {f['max_per_step']} per step",
    "ai_cpu": lambda f: f"{f['count']:,} AI CPU operators, {fmt_ns(f['total_ns'])}",
    "dynamic_shape": lambda f: f"{f['count']:,} dynamic operators, task wait {fmt_ns(f['task_wait_ns'])}",
    "int64": lambda f: f"{f['count']:,} operators with int64 inputs, {fmt_ns(f['total_ns'])}",
    "block_dim": lambda f: f"core counts {f['core_counts']}",
}


def _cpu_ops_table(hotspots: list[dict]) -> Table:
    table = Table(title="Host operations (inclusive time)", title_justify="left", box=None)
    for column in ("operation", "count", "total", "mean", "max"):
        table.add_column(column, justify="left" if column == "operation" else "right")
    for h in hotspots:
        table.add_row(
            _clip(h["name"]),
            f"{h['count']:,}",
            fmt_ns(h["total_ns"]),
            fmt_ns(h["mean_ns"]),
            fmt_ns(h["max_ns"]),
        )
    return table


def _clip(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
