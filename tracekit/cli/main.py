"""The `tracekit` command line.

Exit codes: 0 success, 2 bad input or usage (one line on stderr, no traceback).

Start-up: the tracekit/cli modules import readers, analyses, rules and reports inside the functions
that use them, and take help texts from tracekit/choices.py, so that `--help`, `version` and
`formats` load none of them (tests/unit/test_cli_startup.py).
"""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
from contextlib import contextmanager, nullcontext
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from tracekit import __version__
from tracekit.choices import FORMAT_NAMES, FORMATS, MEMORY_BUDGET_ENV
from tracekit.cli.compare import check_command, diff_command
from tracekit.cli.export import export_command
from tracekit.cli.help import Command, Group
from tracekit.cli.ranks import SCHEDULER_ENV, SchedulerError, analyse_ranks, rank_of, rank_sources
from tracekit.cli.report import (
    LANG_HELP,
    LANG_METAVAR,
    check_lang,
    html_output_path,
    json_output_path,
    preload_report,
    report_command,
    write_report,
)
from tracekit.cli.simulate import simulate
from tracekit.cli.units import parse_duration_ns, parse_step_range
from tracekit.errors import TraceError
from tracekit.parallel import meanwhile
from tracekit.report.files import check_output_paths, to_json, write_json_atomic

if TYPE_CHECKING:
    from tracekit.analysis.document import Document
    from tracekit.analysis.options import Options

EXIT_BAD_INPUT = 2
PROGRESS_MIN_BYTES = 16 << 20  # files this large take over a second to read
STEP_MARKER_PREFIX = "nvtx:"

app = typer.Typer(
    cls=Group,
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Turn GPU/NPU profiler traces into answers: where the time goes, and what to change.",
)


class UsageError(Exception):
    """A bad option value; reported like bad input."""


@app.command("analyze", cls=Command)
def analyze_command(
    traces: Annotated[
        list[Path],
        typer.Argument(
            help="Trace files (.json or .json.gz, nsys exports), Ascend profiler directories, or folders "
            "of per-rank traces; several ranks are analysed in parallel. Format detected by content.",
            show_default=False,
        ),
    ],
    json_path: Annotated[
        str | None,
        typer.Option(
            "--json",
            metavar="FILE|-",
            help="Where to write the JSON analysis ('-' for stdout; a name ending in .gz: gzipped). "
            "Default: reports/<trace name>.analysis.json",
        ),
    ] = None,
    no_json: Annotated[bool, typer.Option("--no-json", help="Do not write the JSON analysis.")] = False,
    top: Annotated[int, typer.Option("--top", min=1, help="Number of hotspots to list.")] = 10,
    bubble_threshold: Annotated[
        str,
        typer.Option(
            "--bubble-threshold", metavar="DURATION", help="Shortest idle gap counted as a bubble, e.g. 10us."
        ),
    ] = "0",
    steps: Annotated[
        str | None,
        typer.Option(
            "--steps",
            metavar="A:B|nvtx:NAME",
            help="Analyse steps A:B only (inclusive), or nvtx:NAME to make each NVTX range "
            "(or annotation) named NAME one step.",
        ),
    ] = None,
    gap_threshold: Annotated[
        str,
        typer.Option(
            "--gap-threshold",
            metavar="DURATION",
            help="Idle gaps longer than this are listed (nsys gpu_gaps view).",
        ),
    ] = "500ms",
    kernel_names: Annotated[
        str,
        typer.Option(
            "--kernel-names",
            metavar="short|full",
            help="Group kernel hotspots by 'short' name or by 'full' (demangled) name.",
        ),
    ] = "short",
    device: Annotated[
        str | None,
        typer.Option(
            "--device",
            metavar="NAME",
            help="Hardware-table row for the operators' roofline, e.g. 'H100 SXM'.",
        ),
    ] = None,
    unprofiled_step: Annotated[
        str | None,
        typer.Option(
            "--unprofiled-step",
            metavar="DURATION",
            help="Median step time measured without the profiler, e.g. 1.48ms: calibrates the host time "
            "the profiler inflates before predicting gains.",
        ),
    ] = None,
    format_name: Annotated[
        str | None,
        typer.Option("--format", metavar="NAME", help=f"Skip detection: one of {', '.join(FORMAT_NAMES)}."),
    ] = None,
    html_path: Annotated[
        str | None,
        typer.Option(
            "--html",
            metavar="FILE",
            help="Where to write the HTML report. Default: reports/<trace name>.html "
            "(with --json -, only when given).",
        ),
    ] = None,
    no_html: Annotated[bool, typer.Option("--no-html", help="Do not write the HTML report.")] = False,
    lang: Annotated[str, typer.Option("--lang", metavar=LANG_METAVAR, help=LANG_HELP)] = "en",
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs",
            "-j",
            min=1,
            metavar="N",
            help="Ranks analysed at once (default: every core; 1: one by one).",
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            envvar=SCHEDULER_ENV,
            metavar="tcp://HOST:PORT",
            help="Analyse the ranks on a Dask cluster (needs tracekit\\[cluster]; its workers must read "
            "the trace paths).",
        ),
    ] = None,
    memory_budget: Annotated[
        str | None,
        typer.Option(
            "--memory-budget",
            envvar=MEMORY_BUDGET_ENV,
            metavar="SIZE",
            help="Memory a trace's read and analysis may use, e.g. 2GB (default: 80% of the memory "
            "available); an event table over half of it is kept on a memory-mapped temporary file "
            "(Kineto traces).",
        ),
    ] = None,
) -> None:
    """Measure where the time goes in traces; print a summary and write JSON and an HTML report per rank."""
    if memory_budget:
        os.environ[MEMORY_BUDGET_ENV] = memory_budget  # read by the readers, here and in rank workers
    options = replace(
        _options(top, bubble_threshold, steps, gap_threshold, kernel_names),
        device=_device(device),
        unprofiled_step_ns=_unprofiled(unprofiled_step),
    )
    check_lang(lang)
    check_output_paths(None if no_json else json_path, None if no_html else html_path)
    sources = rank_sources(traces, format_name)
    trace = _run_path(traces)
    html = not no_html and (json_path != "-" or bool(html_path))
    preloading = meanwhile(preload_report) if html else nullcontext()
    with _progress(trace if len(sources) == 1 else None) as advance, preloading:
        documents = analyse_ranks(sources, options, jobs, scheduler)  # each rank read and analysed apart
        advance("writing")
    labels = _rank_labels(documents)
    if json_path == "-":
        texts = [to_json(document).rstrip() for document in documents]
        sys.stdout.write(texts[0] + "\n" if len(texts) == 1 else "[\n" + ",\n".join(texts) + "\n]\n")
        if html_path and not no_html:  # stdout holds the JSON: the report only on request, told on stderr
            _write_html_reports(trace, html_path, lang, labels, documents, Console(stderr=True))
        return
    from tracekit.report.terminal import render_summary  # here: imported while the trace was read

    console = _console()
    for label, document in zip(labels, documents, strict=True):
        render_summary(document, console)
        if not no_json:
            out = json_output_path(trace, json_path, label)
            write_json_atomic(out, document)
            console.print(f"JSON analysis written to {out}")
        if not no_html:
            _write_html_reports(trace, html_path, lang, [label], [document], console)
    if len(documents) > 1:  # the cross-rank view (imported here: one trace does not need it)
        from tracekit.cli.cluster_output import write_cluster

        json_out = None if no_json else json_output_path(trace, json_path, "cluster")
        html_out = None if no_html else html_output_path(trace, html_path, "cluster")
        write_cluster(documents, json_out, html_out, lang, console)


def _write_html_reports(
    trace: Path,
    html_path: str | None,
    lang: str,
    labels: list[str],
    documents: list[Document],
    console: Console,
) -> None:
    """One HTML report per document, its recommendations in `lang`."""
    from tracekit.rules import recommend

    for label, document in zip(labels, documents, strict=True):
        out = html_output_path(trace, html_path, label)
        recommendations = document.recommendations if lang == "en" else recommend(document, lang)
        write_report(document, out, lang, recommendations)
        console.print(f"HTML report written to {out}")


@app.command("formats", cls=Command)
def formats_command() -> None:
    """List the input formats tracekit reads."""
    width = max(len(name) for name in FORMAT_NAMES) + 2
    columns = max(shutil.get_terminal_size().columns, width + 20)
    for name, description in FORMATS:
        lines = textwrap.wrap(description, columns - width) or [""]
        typer.echo(f"{name:{width}}" + ("\n" + " " * width).join(lines))


app.command("simulate", cls=Command)(simulate)
app.command("diff", cls=Command)(diff_command)
app.command("check", cls=Command)(check_command)
app.command("report", cls=Command)(report_command)
app.command("export", cls=Command)(export_command)


@app.command("version", cls=Command)
def version_command() -> None:
    """Print the tracekit version."""
    typer.echo(__version__)


def main() -> None:
    """Entry point: run the app, turning input errors into one line and exit code 2."""
    try:
        exit_code = app(standalone_mode=False)  # click returns a command's typer.Exit(n) code here
    except (TraceError, UsageError, SchedulerError) as exc:
        _fail(str(exc))
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(130)
    except Exception as exc:  # click's usage errors and anything unexpected
        if os.environ.get("TRACEKIT_DEBUG"):
            raise
        _usage_or_internal(exc)
    if isinstance(exit_code, int) and exit_code:
        sys.exit(exit_code)


def _usage_or_internal(exc: Exception) -> None:
    usage_message = getattr(exc, "format_message", None)  # click's UsageError and kin
    if callable(usage_message):
        _fail(usage_message())
    _fail(f"internal error: {type(exc).__name__}: {exc} (set TRACEKIT_DEBUG=1 for a traceback)")


def _fail(message: str) -> None:
    sys.stderr.write(f"tracekit: error: {message}\n")
    sys.exit(EXIT_BAD_INPUT)


def _options(
    top: int, bubble_threshold: str, steps: str | None, gap_threshold: str, kernel_names: str
) -> Options:
    from tracekit.analysis.options import Options

    if kernel_names not in ("short", "full"):
        raise UsageError(f"--kernel-names must be 'short' or 'full', not {kernel_names!r}")
    step_marker = (
        steps.removeprefix(STEP_MARKER_PREFIX) if steps and steps.startswith(STEP_MARKER_PREFIX) else None
    )
    if step_marker == "":
        raise UsageError("--steps nvtx: needs a range name, e.g. --steps nvtx:forward")
    try:
        return Options(
            top=top,
            bubble_threshold_ns=parse_duration_ns(bubble_threshold),
            gap_threshold_ns=parse_duration_ns(gap_threshold),
            steps=parse_step_range(steps) if steps and step_marker is None else None,
            step_marker=step_marker,
            full_kernel_names=kernel_names == "full",
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _unprofiled(text: str | None) -> int | None:
    """--unprofiled-step as ns (a positive duration)."""
    if text is None:
        return None
    try:
        value = parse_duration_ns(text)
    except ValueError as exc:
        raise UsageError(f"--unprofiled-step: {exc}") from None
    if value <= 0:
        raise UsageError("--unprofiled-step must be a positive duration, e.g. 1.48ms")
    return value


def _device(name: str | None) -> str | None:
    """The --device name, checked against the hardware table."""
    from tracekit.perfmodel.hardware import find_hardware, hardware_names

    if name is not None and find_hardware(name) is None:
        raise UsageError(
            f"--device {name!r} is not in the hardware table (one of: {', '.join(hardware_names())})"
        )
    return name


def _console() -> Console:
    """Standard output at the terminal's width, or $COLUMNS; 120 columns when piped without $COLUMNS."""
    console = Console()
    return console if console.is_terminal or os.environ.get("COLUMNS") else Console(width=120)


def _rank_labels(documents: list[Document]) -> list[str]:
    """ "" for a single trace; else `rank<N>` per document (the rank id it records, or its position)."""
    if len(documents) == 1:
        return [""]
    ranks = [rank_of(d) for d in documents]
    if None in ranks or len(set(ranks)) != len(ranks):
        ranks = list(range(len(documents)))
    return [f"rank{rank}" for rank in ranks]


def _run_path(traces: list[Path]) -> Path:
    """The path that names the outputs: the one given, or the folder the several paths share."""
    if len(traces) == 1:
        return traces[0]
    try:
        return Path(os.path.commonpath([path.resolve() for path in traces]))
    except ValueError:  # paths on different drives
        return Path("ranks")


@contextmanager
def _progress(trace: Path | None):
    """A progress bar on stderr for one file large enough to take more than a second, where stderr is
    a terminal (elsewhere nothing would show it, and rich.progress costs 22 ms to import)."""
    try:
        large = trace is not None and trace.is_file() and trace.stat().st_size >= PROGRESS_MIN_BYTES
    except OSError:  # unreadable: the reader says so in its one line
        large = False
    if not large or not sys.stderr.isatty():
        yield lambda _stage: None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(f"reading {trace.name}", total=3)

        def advance(stage: str) -> None:
            progress.update(task, advance=1, description=f"{stage} {trace.name}")

        yield advance
