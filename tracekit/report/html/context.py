"""What every section builder shares: the document, the language, the hints and the chart registry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from tracekit.analysis.document import Document
from tracekit.analysis.document.device import Device
from tracekit.formatting import fmt_ns
from tracekit.report.formulas import formula
from tracekit.report.html.markup import element, text

Translate = Callable[..., str]


@dataclass
class Context:
    """State of one rendering: texts in one language, and the charts emitted so far. `document` is
    the analysis Document, or for the cluster, diff and check pages their own (plain dict) document."""

    document: Document | dict
    t: Translate
    max_timeline_events: int
    charts: dict[str, dict] = field(default_factory=dict)
    lang: str = "en"

    @property
    def definitions(self) -> dict[str, str]:
        """The analysis' own metric definitions: metric name -> window and formula in words."""
        if isinstance(self.document, Document):
            return self.document.definitions
        return self.document.get("definitions") or {}

    def formula(self, key: str) -> str:
        """The window and formula of `key` in the report's language (tracekit/report/formulas.py);
        in English the document's own definition where it has one (an older document keeps its
        words), and a key the catalogue lacks (a cluster document's) as its document gives it."""
        found = self.definitions.get(key)
        if found and self.lang == "en":
            return found
        try:
            return formula(key, self.lang)
        except KeyError:
            return found or key

    def hint(self, key: str, window: str) -> str:
        """Hover text of a number: its formula and its window."""
        return f"{self.t('hint.formula')}: {self.formula(key)}\n{self.t('hint.window')}: {window}"

    def device_window(self, device: Device) -> str:
        """W of a device, in words and length."""
        window = self.t("window.device", device=device.id)
        return f"{window} (|W| = {fmt_ns(device.window_ns)})"

    def steps_window(self) -> str:
        """The host step spans the step statistics cover (of the analysis document)."""
        steps = self.document.steps
        if not steps.count:
            return self.t("card.no_steps")
        return self.t("window.steps", first=steps.first, last=steps.last)

    def trace_window(self) -> str:
        """The capture span, in words and length (of the analysis document)."""
        return f"{self.t('window.trace')} ({fmt_ns(self.document.trace.capture_span.duration_ns)})"

    def chart(self, spec: dict | None, label: str, captioned: bool = True) -> str:
        """A chart container for `spec` (drawn by report.js), or nothing when there is no data.

        `label` names the chart for screen readers, and under it when `captioned`."""
        if spec is None:
            return ""
        chart_id = f"chart-{len(self.charts) + 1}"
        self.charts[chart_id] = spec
        return element(
            "figure",
            element("div", "", id=chart_id, class_="chart", role="img", aria_label=label)
            + (element("figcaption", text(label)) if captioned else ""),
            class_="chart-box",
        )
