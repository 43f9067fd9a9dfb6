"""The self-contained HTML report (docs/report.md)."""

from __future__ import annotations

from tracekit.report.html.i18n import LANGUAGES
from tracekit.report.html.render import MAX_REPORT_BYTES, preload_assets, render_html

__all__ = ["LANGUAGES", "MAX_REPORT_BYTES", "preload_assets", "render_html"]
