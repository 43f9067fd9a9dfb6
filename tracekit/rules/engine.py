"""Evaluate every rule of the catalogue on an analysis document; rank the ones that fire.

Latency levers (rules whose replay change shortens a step) fire when the plan
(tracekit/analysis/plan.py) applies their change: their gain is the change's own gain at its place
in the plan, with the cumulative predicted step time, and they are ranked in plan order. A lever
whose change acts on the same time as a planned one (one cause) is not a finding of its own: it is
listed as an alternative action of that finding. Latency findings without a replay (Ascend operator
findings, exposed communication) follow, by gain, except one that claims a larger share of the step
than the whole plan removes: that cause is larger than all the plan's together, and comes first.
Then the throughput levers, which cost latency, ranked among themselves; then memory findings.
"""

from __future__ import annotations

from dataclasses import asdict, replace

import msgspec

from tracekit.analysis.document import Document
from tracekit.analysis.document.device import Device
from tracekit.analysis.document.recommendations import (
    Alternative,
    CaseStudy,
    Checked,
    EvidenceRow,
    Fired,
    GainInfo,
    Offenders,
    PlanSummary,
    Recommendations,
)
from tracekit.analysis.document.whatif import PlanStep
from tracekit.formatting import fmt_ns
from tracekit.rules.catalogue import RULES
from tracekit.rules.model import (
    FIRED,
    LATENCY,
    MEMORY,
    MIN_SPEEDUP,
    THROUGHPUT,
    Context,
    Evidence,
    Gain,
    Outcome,
    Rule,
    not_fired,
    replayed,
)
from tracekit.rules.texts import LANGUAGES, TEXTS

GROUP_ORDER = (LATENCY, THROUGHPUT, MEMORY)
Alternatives = list[tuple[str, float | None]]
"""The rules of one cause listed under its finding: (rule id, the gain of its change alone)."""


def recommend(document: Document, lang: str = "en") -> Recommendations:
    """The `recommendations` block: fired rules ranked (by group, plan order, gain), alternatives
    of one cause under their finding, and every other rule checked with the reason."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r} (known: {', '.join(LANGUAGES)})")
    ctx = Context(document, busiest_device(document), platform_of(document))
    outcomes = {rule.id: (rule, _decided(rule, ctx)) for rule in RULES}
    fired = _ranked([pair for pair in outcomes.values() if pair[1].status == FIRED])
    texts = Texts(TEXTS[lang], ctx.platform, all_definitions(document))
    alternatives = _alternatives(ctx, outcomes)
    return Recommendations(
        lang=lang,
        platform=ctx.platform,
        device=ctx.device.id if ctx.device else None,
        plan=_plan_summary(ctx, fired),
        fired=[
            texts.fired(rule, outcome, rank, alternatives.get(rule.id, []))
            for rank, (rule, outcome) in enumerate(fired, 1)
        ],
        checked=[
            texts.checked(rule, outcome) for rule, outcome in outcomes.values() if outcome.status != FIRED
        ],
    )


def _decided(rule: Rule, ctx: Context) -> Outcome:
    """The rule's outcome: its check, then for latency levers the plan's verdict and gain."""
    outcome = rule.check(ctx)
    if outcome.status != FIRED:
        return outcome
    if rule.change is None or not rule.change.latency or not outcome.planned:
        return worth_it(outcome)
    return _planned(rule, outcome, ctx)


def _plan_steps(ctx: Context) -> list[PlanStep]:
    return ctx.whatif.plan.steps if ctx.whatif else []


def _planned(rule: Rule, outcome: Outcome, ctx: Context) -> Outcome:
    steps = _plan_steps(ctx)
    index = next((i for i, step in enumerate(steps) if step.change == rule.change.name), None)
    if index is None:
        return _not_planned(rule, ctx)
    step = steps[index]
    before = ctx.whatif.plan.baseline_step_ns if index == 0 else steps[index - 1].predicted_step_ns
    alone = ctx.estimate(rule.change.name)
    base = outcome.gain
    gain = Gain(
        metric="step_time",
        speedup=step.speedup,
        method=base.method,
        assumptions=base.assumptions + (("assume.profiler_host",) if _host_bound(ctx) else ()),
        baseline_step_ns=before,
        predicted_step_ns=step.predicted_step_ns,
        amdahl_bound=alone.amdahl_bound if alone else None,
        removable_share=alone.removable_share if alone else None,
        plan_step=index + 1,
        cumulative_speedup=step.cumulative,
        upper_bound=_host_bound(ctx),
    )
    return replace(outcome, gain=gain, params={**outcome.params, "predicted": fmt_ns(step.predicted_step_ns)})


def _not_planned(rule: Rule, ctx: Context) -> Outcome:
    """Why a present mechanism is not in the plan: alone it gains too little (or, before its
    precondition is met, nothing), or it would gain but another change removes the same time (it is
    then an alternative action of that finding)."""
    alone = ctx.estimate(rule.change.name)
    if not replayed(alone):
        return not_fired("precondition" if rule.change.enabled_by else "nothing_to_change")
    if alone.speedup < MIN_SPEEDUP:
        return not_fired("gain_too_small", speedup=alone.speedup, minimum=MIN_SPEEDUP)
    planned = {step.change for step in _plan_steps(ctx)}
    for cause in ctx.whatif.causes:
        if rule.change.name in cause and planned & set(cause):
            first = next(r.id for r in RULES if r.change and r.change.name in planned & set(cause))
            return not_fired("same_cause", other=first)
    return not_fired("absorbed", speedup=alone.speedup)


def _host_bound(ctx: Context) -> bool:
    """True when most of the median step's critical path is host time: the profiler inflates it, so
    host-side gains are upper bounds."""
    attribution = ctx.whatif.attribution if ctx.whatif else None
    median = attribution.median_step if attribution else None
    if median is None:
        return False
    total = sum(msgspec.structs.astuple(median))
    host = median.launch_overhead + median.host_cpu + median.sync
    return bool(total) and host / total > 0.5 and not ctx.document.options.unprofiled_step_ns


def _alternatives(ctx: Context, outcomes: dict[str, tuple[Rule, Outcome]]) -> dict[str, Alternatives]:
    """For each fired lever, the rules of the same cause that did not fire, with their gain alone."""
    found: dict[str, Alternatives] = {}
    for rule, outcome in outcomes.values():
        if outcome.reason != "same_cause":
            continue
        alone = ctx.estimate(rule.change.name)
        found.setdefault(outcome.params["other"], []).append((rule.id, alone.speedup if alone else None))
    return found


def _ranked(fired: list[tuple[Rule, Outcome]]) -> list[tuple[Rule, Outcome]]:
    removed = _plan_removed_share(fired)

    def key(pair: tuple[Rule, Outcome]) -> tuple:
        rule, outcome = pair
        gain = outcome.gain
        step = gain.plan_step if gain and gain.plan_step else 1_000
        unreplayed = rule.change is None and rule.group == LATENCY
        if step == 1_000 and unreplayed and gain and (gain.removable_share or 0) > removed:
            step = 0  # a cause larger than everything the plan removes
        return (GROUP_ORDER.index(rule.group), step, -_rank_key(outcome))

    return sorted(fired, key=key)


def _plan_removed_share(fired: list[tuple[Rule, Outcome]]) -> float:
    """The share of the step the whole plan removes: 1 - 1 / its cumulative speedup (0 without)."""
    cumulative = [o.gain.cumulative_speedup for _, o in fired if o.gain and o.gain.cumulative_speedup]
    return 1 - 1 / max(cumulative) if cumulative else 0.0


def _plan_summary(ctx: Context, fired: list[tuple[Rule, Outcome]]) -> PlanSummary | None:
    plan = ctx.whatif.plan if ctx.whatif else None
    if plan is None or not plan.applicable:
        return None
    planned = [(rule, outcome) for rule, outcome in fired if outcome.gain and outcome.gain.plan_step]
    last = planned[-1][1].gain if planned else None
    return PlanSummary(
        baseline_step_ns=plan.baseline_step_ns,
        predicted_step_ns=last.predicted_step_ns if last else plan.baseline_step_ns,
        speedup=last.cumulative_speedup if last else 1.0,
        steps=[rule.id for rule, _ in planned],
        upper_bound=bool(last and last.upper_bound),
    )


def worth_it(outcome: Outcome) -> Outcome:
    """A rule whose estimated gain is below MIN_SPEEDUP does not fire (memory findings always do)."""
    gain = outcome.gain
    if outcome.status != FIRED or gain is None or gain.speedup is None or gain.speedup >= MIN_SPEEDUP:
        return outcome
    return not_fired("gain_too_small", speedup=gain.speedup, minimum=MIN_SPEEDUP)


def all_definitions(document: Document) -> dict[str, str]:
    """The document's definitions, with the Ascend block's under `ascend.<name>`."""
    ascend = document.ascend.definitions if document.ascend else {}
    return {**document.definitions, **{f"ascend.{key}": text for key, text in ascend.items()}}


def busiest_device(document: Document) -> Device | None:
    """The device with the most busy time (recommendations are about it)."""
    return max(document.devices, key=lambda d: d.busy_ns, default=None)


def platform_of(document: Document) -> str:
    """cuda for Kineto and Nsight traces, ascend for msprof, generic otherwise."""
    fmt = document.trace.format
    if fmt == "ascend":
        return "ascend"
    return "cuda" if fmt in ("kineto", "nsys", "nsys-json", "nsys-csv") else "generic"


def _rank_key(outcome: Outcome) -> float:
    gain = outcome.gain
    return gain.speedup if gain and gain.speedup else 1.0


class Texts:
    """The rules' texts in one language, filled with an outcome's numbers."""

    def __init__(self, table: dict[str, object], platform: str, definitions: dict[str, str]) -> None:
        self.table, self.platform, self.definitions = table, platform, definitions

    def text(self, key: str, **params: object) -> str:
        template = str(self.table.get(key, key))
        return template.format(**params) if params else template

    def fired(self, rule: Rule, outcome: Outcome, rank: int, alternatives: Alternatives) -> Fired:
        params = {
            k: self.text(str(v)) if str(v).startswith("stage.") else v for k, v in outcome.params.items()
        }
        return Fired(
            id=rule.id,
            rank=rank,
            title=self.text(f"{rule.id}.title"),
            summary=self.text(f"{rule.id}.summary", **params),
            evidence=[self.evidence(e) for e in outcome.evidence],
            offenders=self.offenders(outcome.offenders),
            gain=self.gain(outcome.gain) if outcome.gain else None,
            actions=[a.format(**params) for a in self.actions(rule.id)],
            case_study=self.case_study(rule.case_study),
            group=rule.group,
            alternatives=[
                Alternative(id=rule_id, speedup=speedup, title=self.text(f"{rule_id}.title"))
                for rule_id, speedup in alternatives
            ],
        )

    def checked(self, rule: Rule, outcome: Outcome) -> Checked:
        return Checked(
            id=rule.id,
            title=self.text(f"{rule.id}.title"),
            status=outcome.status,
            reason=self.text(f"reason.{outcome.reason}", **outcome.params),
        )

    def evidence(self, evidence: Evidence) -> EvidenceRow:
        formula = self.definitions.get(evidence.formula, evidence.formula)
        return EvidenceRow(label=self.text(evidence.label), value=evidence.value, formula=formula)

    def gain(self, gain: Gain) -> GainInfo:
        fields = asdict(gain)
        fields["method"] = self.text(gain.method)
        fields["assumptions"] = [self.text(a) for a in gain.assumptions]
        return GainInfo(**fields)

    def actions(self, rule_id: str) -> list[str]:
        for platform in (self.platform, "cuda", "ascend"):
            found = self.table.get(f"{rule_id}.actions.{platform}")
            if found:
                return list(found)
        return []

    def offenders(self, offenders: dict[str, list] | None) -> Offenders | None:
        if not offenders:
            return None
        return Offenders(columns=[self.text(c) for c in offenders["columns"]], rows=offenders["rows"])

    def case_study(self, case: str | None) -> CaseStudy | None:
        """The case by id (the report tells it: tracekit/report/html/cases.py), no path to a file."""
        return CaseStudy(id=case, title=self.text(f"case.{case}"), ref=f"case {case}") if case else None
