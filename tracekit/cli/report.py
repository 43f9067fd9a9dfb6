"""`tracekit report`: the HTML report again from an analysis JSON; and the HTML output of `analyze`.

The analysis JSON may be gzip-compressed (.json.gz). Bad input (missing file, not JSON, truncated,
another schema, a field of the wrong type) is a TraceError: one line, exit 2. The input is only
read; the report is written atomically.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tracekit.choices import LANGUAGES
from tracekit.errors import TraceError
from tracekit.report.files import check_output_paths, write_text_atomic

if TYPE_CHECKING:
    import msgspec

    from tracekit.analysis.document import Document
    from tracekit.analysis.document.recommendations import Recommendations

ANALYSIS_SCHEMA = "tracekit.analysis/1"
ANALYSIS_SUFFIX = ".analysis.json"
GZIP_MAGIC = b"\x1f\x8b"
DEFAULT_OUTPUT_DIR = Path("reports")
REQUIRED_BLOCKS = {"trace": dict, "steps": dict, "devices": list, "definitions": dict}

LANG_HELP = f"Language of the report: {' or '.join(LANGUAGES)}."
LANG_METAVAR = "|".join(LANGUAGES)


def report_command(
    analysis: Annotated[
        Path,
        typer.Argument(help="An analysis JSON written by `tracekit analyze`, plain or gzipped (.json.gz)."),
    ],
    html_path: Annotated[
        str | None,
        typer.Option(
            "--html", help="Where to write the report. Default: beside the JSON, .analysis.json -> .html"
        ),
    ] = None,
    lang: Annotated[str, typer.Option("--lang", metavar=LANG_METAVAR, help=LANG_HELP)] = "en",
) -> None:
    """Render the self-contained HTML report from an analysis JSON (recommendations re-evaluated)."""
    from tracekit.rules import recommend

    check_lang(lang)
    document = load_analysis(analysis)
    out = Path(html_path) if html_path else default_report_path(analysis)
    if out.exists() and out.resolve() == analysis.resolve():
        raise TraceError(out, "is the input analysis; choose another --html path")
    check_output_paths(out)
    try:
        write_report(document, out, lang, recommend(document, lang))
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError) as exc:
        if os.environ.get("TRACEKIT_DEBUG"):
            raise
        raise TraceError(analysis, f"incomplete tracekit analysis ({type(exc).__name__}: {exc})") from None
    typer.echo(f"HTML report written to {out}")


def check_lang(lang: str) -> str:
    """`lang` when the report speaks it, else a usage error naming --lang."""
    if lang not in LANGUAGES:
        choices = " or ".join(repr(code) for code in LANGUAGES)
        raise typer.BadParameter(f"must be {choices}, not {lang!r}", param_hint="'--lang'")
    return lang


def write_report(document: Document, path: Path, lang: str, recommendations: Recommendations | None) -> None:
    """Render the report of `document` and write it atomically to `path`."""
    from tracekit.report.html import render_html

    write_text_atomic(path, render_html(document, lang, recommendations))


def preload_report() -> None:
    """Load the report's code and assets (parallel.meanwhile: while a trace is read)."""
    from tracekit.report.html import preload_assets

    preload_assets()


def json_output_path(trace: Path, json_path: str | None, label: str) -> Path:
    """--json FILE, else reports/<trace name>.analysis.json; with several ranks `.rank<N>` goes in
    (before `.json` / `.json.gz`)."""
    if json_path:
        out = Path(json_path)
        gz = ".gz" if out.name.endswith(".gz") else ""
        stem = out.name.removesuffix(".gz").removesuffix(".json")
        return out.with_name(f"{stem}.{label}.json{gz}") if label else out
    name = trace_name(trace) + (f".{label}" if label else "")
    return DEFAULT_OUTPUT_DIR / f"{name}.analysis.json"


def html_output_path(trace: Path, html_path: str | None, label: str) -> Path:
    """--html FILE, else reports/<trace name>.html; with several ranks `.rank<N>` goes in."""
    if html_path:
        out = Path(html_path)
        return out.with_name(f"{out.name.removesuffix('.html')}.{label}.html") if label else out
    name = trace_name(trace) + (f".{label}" if label else "")
    return DEFAULT_OUTPUT_DIR / f"{name}.html"


def trace_name(trace: Path) -> str:
    """The trace's file name without .json / .gz."""
    name = trace.name
    for suffix in (".gz", ".json"):
        name = name.removesuffix(suffix)
    return name or "trace"


def default_report_path(analysis: Path) -> Path:
    """reports/x.analysis.json -> reports/x.html (other names: .json -> .html, else + .html; a .gz
    goes first)."""
    name = analysis.name.removesuffix(".gz")
    if name.endswith(ANALYSIS_SUFFIX):
        stem = name.removesuffix(ANALYSIS_SUFFIX)
    else:
        stem = name.removesuffix(".json")
    return analysis.with_name(f"{stem or 'report'}.html")


def load_analysis(path: Path) -> Document:
    """The analysis document in `path` (JSON, or gzip-compressed JSON), or a TraceError saying what
    is wrong with the file."""
    import msgspec

    from tracekit.analysis.document import decode

    data = _read_bytes(path)
    try:
        document = decode(data)
        if document.schema == ANALYSIS_SCHEMA:
            return document
    except (msgspec.DecodeError, msgspec.ValidationError):
        pass  # what is wrong is said below, in the words of the checks
    return _converted(path, _checked(path, _parse_json(path, _text(path, data))))


def _checked(path: Path, document: object) -> dict:
    """The parsed JSON when it is an object of the analysis schema with every required block."""
    if not isinstance(document, dict):
        raise TraceError(
            path, f"not a tracekit analysis: the JSON is a {type(document).__name__}, not an object"
        )
    schema = document.get("schema")
    if schema != ANALYSIS_SCHEMA:
        found = "no schema" if schema is None else f"schema {schema!r}"
        raise TraceError(path, f"not a tracekit analysis: {found}, expected {ANALYSIS_SCHEMA!r}")
    for block, kind in REQUIRED_BLOCKS.items():
        if not isinstance(document.get(block), kind):
            raise TraceError(path, f"incomplete tracekit analysis: no {block!r} block")
    return document


def _converted(path: Path, document: dict) -> Document:
    """The parsed JSON (NaN and Infinity read as null, a BOM skipped) as a Document, or a TraceError
    naming the field that does not fit."""
    import msgspec

    from tracekit.analysis.document import to_document

    try:
        return to_document(document)
    except msgspec.ValidationError as exc:
        raise TraceError(path, f"not a valid tracekit analysis: {field_problem(exc)}") from None
    except UnicodeEncodeError:  # json.loads reads "\\ud800" (a lone surrogate), which is no text
        problem = "not a valid tracekit analysis: a string holds a lone surrogate escape"
        raise TraceError(path, problem) from None


def field_problem(exc: msgspec.ValidationError) -> str:
    """msgspec's "Expected `int`, got `str` - at `$.devices[0].busy_ns`" as "devices[0].busy_ns:
    expected `int`, got `str`"."""
    message, _, where = str(exc).partition(" - at ")
    field = where.strip("`").removeprefix("$").removeprefix(".") or "the document"
    return f"{field}: {message[:1].lower()}{message[1:]}"


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, uncompressed when it is gzip."""
    if not path.exists():
        raise TraceError(path, "no such file")
    if path.is_dir():
        raise TraceError(path, "is a directory, not an analysis JSON")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TraceError(path, f"cannot read: {exc.strerror or exc}") from None
    if data.startswith(GZIP_MAGIC):
        data = _gunzipped(path, data)
    if not data.strip():
        raise TraceError(path, "empty file")
    return data


def _gunzipped(path: Path, data: bytes) -> bytes:
    from tracekit.readers.source import gunzipped  # bounded like every input: no gzip bomb fills memory

    return bytes(gunzipped(path, data))


def _text(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise TraceError(path, "not JSON: not UTF-8 text") from None


def _not_a_number(_: str) -> None:
    """NaN and +/-Infinity are not JSON numbers: read as unknown (null), as tracekit writes them."""
    return None


def _parse_json(path: Path, content: str) -> object:
    try:
        return json.loads(content, parse_constant=_not_a_number)
    except json.JSONDecodeError as exc:
        if exc.pos >= len(content.rstrip()) or exc.msg.startswith("Unterminated string"):
            raise TraceError(
                path, f"truncated JSON: ends at line {exc.lineno} before the document does"
            ) from None
        raise TraceError(path, f"not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except RecursionError:
        raise TraceError(path, "not a tracekit analysis: JSON nested too deeply") from None
    except ValueError:  # an integer literal of thousands of digits
        raise TraceError(path, "not a tracekit analysis: a number with too many digits") from None
