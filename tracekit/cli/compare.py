"""`tracekit diff` and `tracekit check`: compare traces, and fail CI on a regression.

Exit codes of check: 0 pass (or inconclusive, with a warning), 1 regression, 2 bad input or usage,
3 inconclusive with --fail-on-inconclusive.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from tracekit.cli.report import LANG_HELP, LANG_METAVAR, check_lang
from tracekit.errors import TraceError
from tracekit.parallel import available_cores
from tracekit.report.files import check_output_paths, to_json, write_json_atomic, write_text_atomic

if TYPE_CHECKING:
    from tracekit.compare.run import Run
    from tracekit.report.html.compare import Recommendations

EXIT_REGRESSION = 1
EXIT_INCONCLUSIVE = 3
ASCEND_DIRECTORY_MARKS = ("PROF_", "_ascend_pt")  # a directory that is one trace, not a folder of them
PARALLEL_MIN_BYTES = 8 << 20  # inputs smaller than this analyse faster in one process than with workers
OUTPUT_SCHEMA = re.compile(rb'^\s*\{\s*"schema"\s*:\s*"(tracekit\.\w+)/\d+"')
TRACE_SOURCE = re.compile(rb'"trace"\s*:\s*\{\s*"source"\s*:\s*"((?:[^"\\]|\\.)*)"')
HEAD_BYTES = 4096


def diff_command(
    base: Annotated[Path, typer.Argument(help="The trace to compare against.")],
    new: Annotated[Path, typer.Argument(help="The trace to compare.")],
    json_path: Annotated[
        str | None, typer.Option("--json", help="Also write tracekit.diff/1 JSON here ('-': stdout only).")
    ] = None,
    top: Annotated[int, typer.Option("--top", min=1, help="Operators listed per direction.")] = 10,
    html_path: Annotated[
        Path | None, typer.Option("--html", help="Also write the HTML diff report here.")
    ] = None,
    lang: Annotated[str, typer.Option("--lang", metavar=LANG_METAVAR, help=LANG_HELP)] = "en",
) -> None:
    """Show the metrics of two traces side by side, with operators aligned and step distributions."""
    from tracekit.compare.diff import diff
    from tracekit.report.compare_terminal import render_diff
    from tracekit.report.html.compare import render_diff_html

    check_output_paths(json_path, html_path)
    check_lang(lang)
    base_ranks, new_ranks = load_rank_sets([base, new], full=html_path is not None)
    if len(new_ranks) > 1 and json_path == "-":
        raise typer.BadParameter("several ranks: give --json FILE (one file per rank)", param_hint="'--json'")
    for label, new_run in new_ranks.items():
        base_run = _rank_of(base_ranks, label, base)
        document = diff(base_run, new_run, top)
        page_path, document_path = _labelled(html_path, label), _labelled(json_path, label)
        if page_path:
            _write_html(
                page_path, render_diff_html(document, lang, _recommendations(base_run, new_run, lang))
            )
        if document_path == "-":
            sys.stdout.write(to_json(document))
            continue
        render_diff(document, _console())
        if document_path:
            write_json_atomic(Path(document_path), document)


def check_command(
    new: Annotated[Path, typer.Argument(help="The trace to check.")],
    baseline: Annotated[
        list[Path] | None,
        typer.Option(
            "--baseline",
            metavar="PATH",
            help="A baseline trace; repeat it, or give a folder, for several runs.",
        ),
    ] = None,
    budget: Annotated[
        Path | None, typer.Option("--budget", help="TOML budget file (default budget: docs/ci.md).")
    ] = None,
    junit: Annotated[Path | None, typer.Option("--junit", help="Write JUnit XML here.")] = None,
    markdown_path: Annotated[
        Path | None, typer.Option("--markdown", help="Write a Markdown summary here.")
    ] = None,
    sarif_path: Annotated[Path | None, typer.Option("--sarif", help="Write SARIF 2.1.0 here.")] = None,
    json_path: Annotated[
        str | None, typer.Option("--json", help="Write the tracekit.check/1 JSON here ('-': stdout).")
    ] = None,
    fail_on_inconclusive: Annotated[
        bool, typer.Option("--fail-on-inconclusive", help="Exit 3 when a verdict is inconclusive.")
    ] = False,
    html_path: Annotated[
        Path | None, typer.Option("--html", help="Write the HTML check report here.")
    ] = None,
    lang: Annotated[str, typer.Option("--lang", metavar=LANG_METAVAR, help=LANG_HELP)] = "en",
) -> None:
    """Check a trace against budgets and baseline runs; exit 1 on a regression."""
    from tracekit.compare.budget import default_budgets, load_budgets, load_prior
    from tracekit.compare.check import STATUSES, check, overall_status

    check_output_paths(junit, markdown_path, sarif_path, json_path, html_path)
    check_lang(lang)
    budgets = load_budgets(budget) if budget else default_budgets()
    baseline_paths = expand_baselines(baseline or [])
    if not baseline_paths and any(b.relative for b in budgets):
        relative = ", ".join(b.path for b in budgets if b.relative)
        raise typer.BadParameter(
            f"relative budgets ({relative}) need --baseline, or give absolute limits only"
        )
    prior = load_prior(budget)
    paths = [new, *baseline_paths]
    full = [html_path is not None and i <= 1 for i in range(len(paths))]  # the page: NEW and first baseline
    new_ranks, *baseline_sets = load_rank_sets(paths, full)
    if len(new_ranks) > 1 and json_path == "-":
        raise typer.BadParameter("several ranks: give --json FILE (one file per rank)", param_hint="'--json'")
    baseline_ranks = list(zip(baseline_paths, baseline_sets, strict=True))
    statuses = []
    for label, new_run in new_ranks.items():
        baselines = [_rank_of(ranks, label, path) for path, ranks in baseline_ranks]
        document = check(new_run, baselines, budgets, str(budget) if budget else "default", prior)
        outputs = [_labelled(p, label) for p in (junit, markdown_path, sarif_path, json_path, html_path)]
        _write_outputs(document, *outputs[:4])
        if outputs[4]:
            _write_html(outputs[4], _check_page(document, new_run, baselines, lang))
        statuses.append(document["status"])
    _exit(overall_status({s: statuses.count(s) for s in STATUSES}), fail_on_inconclusive)


def load_run(path: Path) -> Run:
    """Read one trace (one rank) and prepare it for comparison."""
    ranks = load_ranks(path)
    if len(ranks) != 1:
        raise TraceError(path, f"holds {len(ranks)} ranks; compare one rank directory at a time")
    return next(iter(ranks.values()))


def load_ranks(path: Path, full: bool = True) -> dict[str, Run]:
    """Every rank of a trace (an Ascend cluster folder holds several) by label: "" for a single
    trace, else `rank<N>` (the profiler's rank id, or the position); its warnings go to stderr.
    `full`: the whole analysis (for the HTML report's recommendations), else what comparisons read."""
    return _shown(_loaded(path, full))


def load_rank_sets(paths: list[Path], full: bool | list[bool] = False) -> list[dict[str, Run]]:
    """load_ranks of each path (`full` for all, or per path), the paths analysed in parallel
    processes when there are several cores and the traces are large enough to repay a worker's
    start (the default memory budget split between them); one after another otherwise."""
    wanted = full if isinstance(full, list) else [full] * len(paths)
    workers = min(len(paths), available_cores())
    if workers <= 1 or _input_bytes(paths) < PARALLEL_MIN_BYTES:
        return [load_ranks(path, whole) for path, whole in zip(paths, wanted, strict=True)]
    from tracekit.readers.memory_budget import traces_pool

    with traces_pool(workers) as pool:
        return [_shown(loaded) for loaded in pool.map(_loaded, paths, wanted)]


@dataclass(frozen=True)
class _Loaded:
    """What reading one path gave: its ranks and the readers' warnings, or the input's problem
    (a TraceError does not survive pickling back from a worker process)."""

    ranks: dict[str, Run]
    warnings: list[str]
    problem: tuple[str, str] | None = None


def _loaded(path: Path, full: bool) -> _Loaded:
    from tracekit.compare.run import run_of
    from tracekit.readers import read_traces

    try:
        traces = read_traces(path)
    except TraceError as exc:
        return _Loaded({}, [], (exc.path, _tracekit_output(path) or exc.problem))
    warnings = [f"{t.source}: {warning}" for t in traces for warning in t.metadata.get("warnings", [])]
    if len(traces) == 1:
        return _Loaded({"": run_of(traces[0], full)}, warnings)
    ranks = [t.metadata.get("ascend", {}).get("rank") for t in traces]
    if None in ranks or len(set(ranks)) != len(ranks):
        ranks = list(range(len(traces)))
    runs = {f"rank{rank}": run_of(trace, full) for rank, trace in zip(ranks, traces, strict=True)}
    return _Loaded(runs, warnings)


def _tracekit_output(path: Path) -> str | None:
    """What to say when `path` is a document tracekit wrote (an analysis JSON, say) instead of a
    trace: check and diff analyse the traces themselves. None for anything else."""
    head = _head(path)
    schema = OUTPUT_SCHEMA.match(head)
    if schema is None:
        return None
    source = _analysed_trace(head) if schema[1] == b"tracekit.analysis" else None
    trace = f": {source}" if source else ""
    return f"is a {schema[1].decode()} document, not a trace: give the trace it was made from{trace}"


def _analysed_trace(head: bytes) -> str | None:
    """The trace.source of an analysis JSON's first bytes, if they hold it."""
    found = TRACE_SOURCE.search(head)
    try:
        return json.loads(b'"' + found[1] + b'"') if found else None
    except ValueError:
        return None


def _head(path: Path) -> bytes:
    """The first bytes of a regular file, uncompressed when it is gzip; empty when it cannot be read
    (or is a FIFO, a device: opening one may block)."""
    try:
        if not path.is_file():
            return b""
        with path.open("rb") as file:
            head = file.read(HEAD_BYTES)
            if head.startswith(b"\x1f\x8b"):
                file.seek(0)
                head = gzip.GzipFile(fileobj=file).read(HEAD_BYTES)
    except (OSError, EOFError, zlib.error):  # gzip.BadGzipFile is an OSError
        return b""
    return head


def _shown(loaded: _Loaded) -> dict[str, Run]:
    """The ranks, after the warnings went to stderr; the problem raised as the input error."""
    if loaded.problem is not None:
        raise TraceError(*loaded.problem)
    for warning in loaded.warnings:
        typer.echo(f"warning: {warning}", err=True)
    return loaded.ranks


def _input_bytes(paths: list[Path]) -> int:
    """Bytes of the inputs (a folder: of the files under it)."""
    sizes = [p.stat().st_size for path in paths for p in ([path] if path.is_file() else path.rglob("*"))
             if p.is_file()]  # fmt: skip
    return sum(sizes)


def _rank_of(ranks: dict[str, Run], label: str, path: Path) -> Run:
    """The baseline run of the same rank (a single-rank baseline serves every rank)."""
    if label in ranks:
        return ranks[label]
    if len(ranks) == 1:
        return next(iter(ranks.values()))
    raise TraceError(path, f"has no {label} to compare with (ranks: {', '.join(ranks)})")


def _labelled(path: str | Path | None, label: str) -> Path | str | None:
    """An output path with `.rank<N>` before its extension when several ranks are compared."""
    if not label or path is None or str(path) == "-":
        return path
    path = Path(path)
    return path.with_name(f"{path.stem}.{label}{path.suffix}")


def expand_baselines(paths: list[Path]) -> list[Path]:
    """Each --baseline path; a folder stands for every trace in it, in name order (an Ascend profiler
    directory, PROF_* or *_ascend_pt, or a cluster folder of them, stays one trace). Files in a
    folder that are not traces (LICENSE, SOURCE.md, another tool's CSVs) are skipped, each with a
    note on stderr."""
    expanded: list[Path] = []
    for path in paths:
        if path.is_dir() and not _is_one_trace(path):
            entries = [p for p in sorted(path.iterdir()) if not p.name.startswith(".") and _is_trace(p)]
            if not entries:
                raise TraceError(path, "baseline folder holds no trace")
            expanded += entries
        else:
            expanded.append(path)
    return expanded


def _is_one_trace(folder: Path) -> bool:
    """An Ascend profiler directory, or a cluster folder of them (one run with several ranks)."""
    if any(mark in folder.name for mark in ASCEND_DIRECTORY_MARKS):
        return True
    return any(any(mark in p.name for mark in ASCEND_DIRECTORY_MARKS) for p in folder.iterdir() if p.is_dir())


def _is_trace(path: Path) -> bool:
    """True for a folder (Ascend output is read from folders) or a file in a format tracekit reads."""
    from tracekit.readers import detect_format

    if path.is_dir():
        return True
    try:
        detect_format(path)
    except TraceError as exc:
        typer.echo(f"note: skipped {path}: {exc.problem.split(';')[0]}", err=True)
        return False
    return True


def _write_outputs(
    document: dict,
    junit: Path | None,
    markdown_path: Path | None,
    sarif_path: Path | None,
    json_path: str | None,
) -> None:
    from tracekit.report.ci import junit_xml, markdown, sarif
    from tracekit.report.compare_terminal import render_check

    if json_path == "-":
        sys.stdout.write(to_json(document))
    else:
        render_check(document, _console())
        if json_path:
            write_json_atomic(Path(json_path), document)
    for path, render in ((junit, junit_xml), (markdown_path, markdown), (sarif_path, sarif)):
        if path:
            write_text_atomic(path, render(document))


def _check_page(document: dict, new: Run, baselines: list[Run], lang: str) -> str:
    """The check report, with the diff of NEW against the first baseline run when there is one."""
    from tracekit.compare.diff import diff
    from tracekit.report.html.compare import render_check_html

    if not baselines:
        return render_check_html(document, None, lang)
    first = baselines[0]
    return render_check_html(document, diff(first, new), lang, _recommendations(first, new, lang))


def _recommendations(base: Run, new: Run, lang: str) -> Recommendations:
    from tracekit.rules import recommend

    return recommend(base.document, lang), recommend(new.document, lang)


def _write_html(path: Path, page: str) -> None:
    write_text_atomic(path, page)
    typer.echo(f"HTML report written to {path}", err=True)


def _exit(status: str, fail_on_inconclusive: bool) -> None:
    if status == "regression":
        raise typer.Exit(EXIT_REGRESSION)
    if status == "inconclusive":
        if fail_on_inconclusive:
            raise typer.Exit(EXIT_INCONCLUSIVE)
        sys.stderr.write("tracekit: warning: some verdicts are inconclusive (see the table); exit 0\n")


def _console() -> Console:
    console = Console()
    return console if console.is_terminal or os.environ.get("COLUMNS") else Console(width=120)
