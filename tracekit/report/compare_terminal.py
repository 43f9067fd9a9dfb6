"""Terminal tables of `tracekit check` and `tracekit diff`."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from tracekit.formatting import fmt_ns
from tracekit.report.ci import format_change, format_value, verdict_message

STATUS_STYLE = {"pass": "green", "regression": "bold red", "inconclusive": "yellow"}


def render_check(document: dict, console: Console) -> None:
    """One row per budget, then the full message of every verdict that is not a pass."""
    runs = len(document["baselines"])
    console.print(Text(f"tracekit check of {document['new']['source']} against {runs} baseline run(s), "
                       f"budget: {document['budget']['source']}", style="bold"))  # fmt: skip
    table = Table("metric", "kind", "new", "baseline", "change", "budget", "status")
    for v in document["verdicts"]:
        table.add_row(v["path"], v["stability"], format_value(v["new"], v["unit"]),
                      format_value(v["base"], v["unit"]), format_change(v), v["budget"],
                      Text(v["status"], style=STATUS_STYLE[v["status"]]))  # fmt: skip
    console.print(table)
    for v in document["verdicts"]:
        if v["status"] != "pass":
            console.print(Text(verdict_message(v), style=STATUS_STYLE[v["status"]]))
    console.print(Text(f"result: {document['status']}", style=STATUS_STYLE[document["status"]]))


def render_diff(document: dict, console: Console) -> None:
    """Metrics side by side, step distributions, and the kernels that moved most."""
    console.print(Text(f"tracekit diff: base {document['base']['source']} -> new {document['new']['source']}",
                       style="bold"))  # fmt: skip
    metrics = Table("metric", "kind", "base", "new", "change")
    for row in document["metrics"]:
        unit = row["unit"]
        metrics.add_row(row["path"], row["stability"], format_value(row["base"], unit),
                        format_value(row["new"], unit), format_change(row))  # fmt: skip
    console.print(metrics)
    console.print(_steps_table(document["steps"]))
    for title, key in (("Kernels", "kernels"), ("Host operators", "cpu_ops")):
        console.print(_operator_table(title, document[key]))


def _steps_table(steps: dict) -> Table:
    table = Table("steps", "count", "p50", "p90", "p99", "mean", title="Per-step durations")
    for side in ("base", "new"):
        d = steps[side]
        table.add_row(side, str(d["count"]), *(fmt_ns(d[k]) for k in ("p50", "p90", "p99", "mean")))
    shift = steps["shift"]
    if shift:
        low, high = shift["interval"]
        interval = "-" if low is None else f"[{fmt_ns(low)}, {fmt_ns(high)}]"
        table.caption = (f"Hodges-Lehmann shift {fmt_ns(shift['shift'])} {interval}; "
                         f"{shift['test']} p = {shift['p']:.3g} (one-sided, new slower)")  # fmt: skip
    return table


def _operator_table(title: str, block: dict) -> Table:
    table = Table("", "name", "base count", "new count", f"delta ({block['delta_is']})", title=title)
    for label, rows in (("slower", block["regressions"][:5]), ("faster", block["improvements"][:5])):
        for row in rows:
            table.add_row(label, row["name"][:60], str(row["base_count"]), str(row["new_count"]),
                          fmt_ns(row["delta_ns"]))  # fmt: skip
    appeared, vanished = len(block["appeared"]), len(block["vanished"])
    table.caption = f"{appeared} appeared, {vanished} vanished"
    return table
