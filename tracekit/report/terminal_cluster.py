"""The terminal summary of a multi-rank run: the per-rank table, the slow rank, the collectives'
arrival skew and the pipeline stage balance (the `cluster` block, docs/metrics.md "Cluster")."""

from __future__ import annotations

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from tracekit.formatting import fmt_ns, fmt_share

_RANK_COLUMNS = (
    ("step p50", "step_p50_ns"),
    ("compute", "compute_ns"),
    ("communication", "communication_ns"),
    ("exposed comm.", "exposed_ns"),
    ("copies", "copies_ns"),
    ("idle", "idle_ns"),
)


def render_cluster(cluster: dict, console: Console, fired: list[dict] | None = None) -> None:
    """Print the cross-rank analysis and, when given, its fired recommendations."""
    console.print(cluster_group(cluster, fired or []))


def cluster_group(cluster: dict, fired: list[dict]) -> Group:
    """The cluster summary as renderables."""
    parts = [
        Text(f"Cluster: {cluster['ranks']} ranks (rank ids from {cluster['rank_source']})", style="bold"),
        _rank_table(cluster["per_rank"]),
        None if _pipelined(cluster) else _slow_rank_line(cluster["slow_rank"]),
        *_skew_lines(cluster["collectives"]),
        _pipeline_line(cluster["pipeline"]),
        *[_finding_line(finding) for finding in fired],
    ]
    return Group(*[part for part in parts if part is not None])


def _finding_line(finding: dict) -> Text:
    speedup = (finding.get("gain") or {}).get("speedup")
    gain = f" (x{speedup:.2f} {finding['gain']['metric'].replace('_', ' ')})" if speedup else ""
    return Text(f"{finding['rank']}. {finding['title']}{gain}: {finding['summary']}", style="bold")


def _rank_table(rows: list[dict]) -> Table:
    table = Table(
        title="per rank (busiest device; window W = its first to last operation)", title_justify="left"
    )
    table.add_column("rank", justify="right")
    for label, _ in _RANK_COLUMNS:
        table.add_column(label, justify="right")
    table.add_column("overlap", justify="right")
    for row in rows:
        cells = [fmt_ns(row[key]) if row[key] is not None else "-" for _, key in _RANK_COLUMNS]
        table.add_row(str(row["rank"]), *cells, fmt_share(row["overlap_ratio"]))
    return table


def _pipelined(cluster: dict) -> bool:
    """Pipeline stages differ by design: their balance is shown instead of a slow rank."""
    return bool((cluster["pipeline"] or {}).get("applicable"))


def _slow_rank_line(slow: dict | None) -> Text | None:
    if slow is None:
        return None
    verdict = "slow rank" if slow["slow"] else "no slow rank; slowest"
    z_score = _z(slow)
    z = f", z {z_score:+.2f}" if z_score is not None else ""
    return Text(
        f"{verdict}: rank {slow['rank']}, {slow['metric']} {fmt_ns(slow['value_ns'])} vs the others' median "
        f"{fmt_ns(slow['others_median_ns'])} (+{fmt_share(slow['excess_share'])}, threshold "
        f"{fmt_share(slow['threshold'])}{z})",
        style="bold red" if slow["slow"] else "",
    )


def _z(slow: dict) -> float | None:
    return slow["z_compute"] if slow["metric"] == "compute" else slow["z_step"]


def _skew_lines(collectives: dict) -> list[Text]:
    if not collectives["matched"]:
        return [
            Text("collectives: none matched across every rank (same step, type and sequence)", style="dim")
        ]
    return [
        Text(
            f"{row['type']}: {row['matched']} matched, arrival skew p50 {fmt_ns(row['skew_ns']['p50'])}, "
            f"max {fmt_ns(row['skew_ns']['max'])}, total {fmt_ns(row['skew_total_ns'])}; last to arrive most "
            f"often: rank {row['most_often_last_rank']} ({fmt_share(row['last_share'])})"
        )
        for row in collectives["by_type"]
    ]


def _pipeline_line(pipeline: dict | None) -> Text | None:
    if pipeline is None or not pipeline["applicable"]:
        return None
    return Text(
        f"pipeline: slowest stage rank {pipeline['slowest_rank']} {fmt_ns(pipeline['slowest_ns'])} per step, "
        f"balance {fmt_share(pipeline['balance'])} (mean / slowest); throughput "
        f"{pipeline['throughput_per_s']:.1f}/s, balanced {pipeline['balanced_throughput_per_s']:.1f}/s"
    )
