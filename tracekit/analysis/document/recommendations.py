"""The `recommendations` block: what tracekit/rules made of the analysis, in one language."""

from __future__ import annotations

import msgspec

from tracekit.analysis.document.base import Block


class EvidenceRow(Block, kw_only=True):
    label: str
    value: str
    formula: str


class Offenders(Block, kw_only=True):
    columns: list[str]
    rows: list[list[int | float | str | None]]


class GainInfo(Block, kw_only=True):
    metric: str
    speedup: float | None
    method: str
    assumptions: list[str]
    baseline_step_ns: int | None
    predicted_step_ns: int | None
    amdahl_bound: float | None
    removable_share: float | None
    plan_step: int | None = None
    cumulative_speedup: float | None = None
    upper_bound: bool = False
    latency_cost: float | None = None


class CaseStudy(Block, kw_only=True):
    id: str | None = None  # written since the case studies are told in the report
    title: str
    ref: str


class Alternative(Block, kw_only=True):
    id: str
    speedup: float | None
    title: str


class Fired(Block, kw_only=True):
    id: str
    rank: int
    title: str
    summary: str
    evidence: list[EvidenceRow]
    offenders: Offenders | None = None
    gain: GainInfo | None
    actions: list[str]
    case_study: CaseStudy | None = None
    group: str | None = None
    alternatives: list[Alternative] = msgspec.field(default_factory=list)


class Checked(Block, kw_only=True):
    id: str
    title: str
    status: str
    reason: str


class PlanSummary(Block, kw_only=True):
    baseline_step_ns: int
    predicted_step_ns: int
    speedup: float
    steps: list[str]
    upper_bound: bool = False


class Recommendations(Block, kw_only=True):
    lang: str
    platform: str
    device: int | None
    plan: PlanSummary | None = None
    fired: list[Fired]
    checked: list[Checked]
