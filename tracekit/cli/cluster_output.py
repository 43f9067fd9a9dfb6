"""`tracekit analyze` on two or more ranks: the cross-rank view after the per-rank outputs, as a
terminal summary, a `tracekit.cluster/1` JSON document and an HTML cluster report (docs/json.md)."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from tracekit.analysis.cluster import cluster_block
from tracekit.analysis.document import Document
from tracekit.report.files import write_json_atomic, write_text_atomic
from tracekit.report.html.cluster import render_cluster_html
from tracekit.report.terminal_cluster import render_cluster
from tracekit.rules import recommend_cluster
from tracekit.rules.engine import platform_of

CLUSTER_SCHEMA = "tracekit.cluster/1"


def cluster_document(documents: list[Document]) -> dict[str, object]:
    """The cross-rank document of the per-rank analysis documents, with its recommendations (English)."""
    cluster = cluster_block(documents)
    platform = platform_of(documents[0])
    return {
        "schema": CLUSTER_SCHEMA,
        "cluster": cluster,
        "recommendations": recommend_cluster(cluster, "en", platform),
    }


def write_cluster(
    documents: list[Document], json_out: Path | None, html_out: Path | None, lang: str, console: Console
) -> dict[str, object]:
    """Print the cluster summary and write its JSON and HTML where asked (None: not written)."""
    document = cluster_document(documents)
    render_cluster(document["cluster"], console, document["recommendations"]["fired"])
    if json_out is not None:
        write_json_atomic(json_out, document)
        console.print(f"Cluster JSON written to {json_out}")
    if html_out is not None:
        found = document["recommendations"]
        if lang != "en":
            found = recommend_cluster(document["cluster"], lang, found["platform"])
        write_text_atomic(html_out, render_cluster_html(document["cluster"], lang, found["fired"]))
        console.print(f"Cluster HTML report written to {html_out}")
    return document
