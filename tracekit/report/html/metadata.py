"""The closing sections: the trace's metadata (format, source, events, span, steps, options, the
reader's warnings and metadata) and the glossary of every definition the analysis used."""

from __future__ import annotations

import json

from tracekit.analysis.document import plain
from tracekit.formatting import fmt_ns
from tracekit.report.formulas import ascend_formula
from tracekit.report.html.cells import capped_rows_note
from tracekit.report.html.context import Context
from tracekit.report.html.markup import bullet_list, element, paragraph, text

MAX_WARNINGS = 50
MAX_METADATA_CHARS = 300


def metadata_section(ctx: Context) -> str:
    """Format, source, events, capture span, steps, options, warnings and the reader's metadata."""
    document, t = ctx.document, ctx.t
    trace, steps = document.trace, document.steps
    span = trace.capture_span.duration_ns
    step_text = f"{steps.count:,} (#{steps.first}..#{steps.last})" if steps.count else "-"
    items = [
        (t("meta.format"), trace.format, None),
        (t("meta.source"), trace.source, None),
        (t("meta.events"), f"{trace.events:,}", None),
        (t("meta.capture_span"), fmt_ns(span), ctx.hint("capture_span", ctx.trace_window())),
        (t("meta.steps"), step_text, ctx.hint("steps.duration_ns", ctx.steps_window())),
        (t("meta.options"), _compact(plain(document.options)), None),
    ]
    return _definition_list(items) + _warnings(ctx) + _reader_metadata(ctx)


def _warnings(ctx: Context) -> str:
    """The readers' warnings, the first MAX_WARNINGS of them, each clipped."""
    warnings = list(ctx.document.trace.metadata.get("warnings") or [])
    html = element("h3", text(ctx.t("meta.warnings")))
    html += (
        bullet_list(_clip(w, MAX_METADATA_CHARS) for w in warnings[:MAX_WARNINGS])
        if warnings
        else paragraph(ctx.t("meta.none"), "note")
    )
    return html + capped_rows_note(ctx, len(warnings), min(len(warnings), MAX_WARNINGS))


def _reader_metadata(ctx: Context) -> str:
    """Each reader's own metadata (trace.metadata, free-form), one list per reader."""
    html = ""
    for reader, values in ctx.document.trace.metadata.items():
        if reader != "warnings" and isinstance(values, dict) and values:
            html += element("h3", text(ctx.t("meta.reader", reader=reader)))
            html += _definition_list([(key, _compact(value), None) for key, value in values.items()])
    return html


def glossary_section(ctx: Context) -> str:
    """Every definition of the analysis (and of its Ascend findings): metric -> window and formula."""
    html = _definition_list([(key, ctx.formula(key), None) for key in ctx.definitions], "glossary")
    ascend = ctx.document.ascend
    if ascend is not None and ascend.definitions:
        items = [(k, ascend_formula(k, ctx.lang, v), None) for k, v in ascend.definitions.items()]
        html += element("h3", text(ctx.t("gloss.ascend"))) + _definition_list(items, "glossary")
    return html


def _definition_list(items: list[tuple[str, str, str | None]], class_: str = "facts") -> str:
    body = "".join(
        element("dt", text(term)) + element("dd", text(value), title=hint) for term, value, hint in items
    )
    return element("dl", body, class_=class_)


def _compact(value: object) -> str:
    """A metadata value on one line: scalars as they are, the rest as clipped JSON."""
    if isinstance(value, str | int | float | bool) or value is None:
        return "-" if value is None else str(value)
    return _clip(json.dumps(value, ensure_ascii=False, default=str), MAX_METADATA_CHARS)


def _clip(value: str, width: int) -> str:
    value = str(value)
    return value if len(value) <= width else value[: width - 1] + "…"
