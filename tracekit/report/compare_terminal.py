"""Terminal tables of `tracekit check` and `tracekit diff`."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from tracekit.formatting import fmt_ns
from tracekit.report.ci import format_change, format_value, verdict_message
from tracekit.report.terminal_fit import shrink_column

CHECK_COLUMNS = ("metric", "kind", "new", "baseline", "change", "budget", "status")
CHECK_KIND_MIN_WIDTH = 110  # narrower, the check table leaves out the kind column (the budget says it)
STATUS_STYLE = {"pass": "green", "regression": "bold red", "inconclusive": "yellow"}


def render_check(document: dict, console: Console) -> None:
    """One row per budget, then the full message of every verdict that is not a pass."""
    runs = len(document["baselines"])
    console.print(Text(f"tracekit check of {document['new']['source']} against {runs} baseline run(s), "
                       f"budget: {document['budget']['source']}", style="bold"))  # fmt: skip
    columns = [c for c in CHECK_COLUMNS if c != "kind" or console.width >= CHECK_KIND_MIN_WIDTH]
    table = Table(title="Budgets", title_justify="left", box=box.SIMPLE_HEAD)
    for column in columns:
        table.add_column(column, no_wrap=column not in ("change", "budget"))
    for v in document["verdicts"]:
        status = Text(v["status"], style=STATUS_STYLE[v["status"]])
        cells = {"metric": v["path"], "kind": v["stability"], "new": format_value(v["new"], v["unit"]),
                 "baseline": format_value(v["base"], v["unit"]), "change": format_change(v),
                 "budget": v["budget"], "status": status}  # fmt: skip
        table.add_row(*(cells[column] for column in columns))
    console.print(shrink_column(table, 0, console.width))
    for v in document["verdicts"]:
        if v["status"] != "pass":
            console.print(Text(verdict_message(v), style=STATUS_STYLE[v["status"]]))
    console.print(Text(f"result: {document['status']}", style=STATUS_STYLE[document["status"]]))


def render_diff(document: dict, console: Console) -> None:
    """Metrics side by side, step distributions, and the kernels that moved most."""
    console.print(Text(f"tracekit diff: base {document['base']['source']} -> new {document['new']['source']}",
                       style="bold"))  # fmt: skip
    metrics = Table()
    for column in ("metric", "kind", "base", "new", "change"):
        metrics.add_column(
            column, justify="left" if column == "metric" else "right", no_wrap=column != "change"
        )
    for row in document["metrics"]:
        unit = row["unit"]
        metrics.add_row(row["path"], row["stability"], format_value(row["base"], unit),
                        format_value(row["new"], unit), format_change(row))  # fmt: skip
    console.print(shrink_column(metrics, 0, console.width))
    console.print(_steps_table(document["steps"]))
    for title, key in (("Kernels", "kernels"), ("Host operators", "cpu_ops")):
        console.print(shrink_column(_operator_table(title, document[key]), 1, console.width))


def _steps_table(steps: dict) -> Table:
    table = Table(
        "steps", "count", "p50", "p90", "p99", "mean", title="Per-step durations", title_justify="left"
    )
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
    table = Table(title=title, title_justify="left")
    table.add_column("", no_wrap=True)
    table.add_column("name")
    for header in ("base\ncount", "new\ncount", f"delta\n({block['delta_is']})"):
        table.add_column(header, justify="right", no_wrap=True)
    for label, rows in (("slower", block["regressions"][:5]), ("faster", block["improvements"][:5])):
        for row in rows:
            table.add_row(label, row["name"], f"{row['base_count']:,}", f"{row['new_count']:,}",
                          fmt_ns(row["delta_ns"]))  # fmt: skip
    appeared, vanished = len(block["appeared"]), len(block["vanished"])
    table.caption = f"{appeared} appeared, {vanished} vanished"
    return table
