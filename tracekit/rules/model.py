"""What a rule is and what checking it gives: rules as data (docs/rules.md)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from tracekit.analysis.changes import Change
from tracekit.analysis.document import Document
from tracekit.analysis.document.device import Device
from tracekit.analysis.document.whatif import ReplayEstimate, Whatif
from tracekit.analysis.plan import MIN_SPEEDUP as MIN_SPEEDUP  # re-exported: the rules use it

FIRED, NOT_FIRED, NOT_APPLICABLE = "fired", "not_fired", "not_applicable"
LATENCY, THROUGHPUT, MEMORY = "latency", "throughput", "memory"
"""Groups: levers that shorten a step (the plan orders them), levers that raise throughput at a
latency cost (ranked apart), and memory findings (no time gain)."""


@dataclass(frozen=True)
class Evidence:
    """One number that fired a rule: a text key for its label, its value, a text key for its formula."""

    label: str
    value: str
    formula: str


@dataclass(frozen=True)
class Gain:
    """The estimated gain: step time replayed with the change, or a throughput ratio, with its bound.

    `method` and `assumptions` are text keys (tracekit/rules/texts.py)."""

    metric: str  # "step_time" | "throughput" | "memory"
    speedup: float | None
    method: str
    assumptions: tuple[str, ...] = ()
    baseline_step_ns: int | None = None
    predicted_step_ns: int | None = None
    amdahl_bound: float | None = None
    removable_share: float | None = None
    plan_step: int | None = None  # its place in the plan (latency levers)
    cumulative_speedup: float | None = None  # of the plan up to and including this change
    upper_bound: bool = False  # host-bound prediction on a profiled (host-inflated) timeline
    latency_cost: float | None = None  # throughput levers: new step time / old step time


@dataclass(frozen=True)
class Outcome:
    """The result of checking one rule; `params` fill the rule's texts."""

    status: str
    reason: str = ""
    params: dict[str, object] = field(default_factory=dict)
    evidence: tuple[Evidence, ...] = ()
    gain: Gain | None = None
    offenders: dict[str, list] | None = None
    planned: bool = True  # False: a lever whose gain is not replayed (an Ascend finding's bound)


@dataclass(frozen=True)
class Context:
    """What a rule reads: the analysis document, its busiest device and the platform."""

    document: Document
    device: Device | None
    platform: str  # "cuda" | "ascend" | "generic"

    @property
    def whatif(self) -> Whatif | None:
        """The device's what-if block (None without a device or under measures_only)."""
        return self.device.whatif if self.device else None

    def estimate(self, change: str) -> ReplayEstimate | None:
        """The replayed estimate of the change called `change` (None: not replayed)."""
        return self.whatif.change(change) if self.whatif else None

    @property
    def steps(self) -> int:
        return self.document.steps.count


Texts = Mapping[str, Mapping[str, object]]
"""A rule's texts per language: `title`, `summary`, `actions.<platform>` (its own keys, stored as
`<rule id>.<key>`) and the `reason.*`, `ev.*`, `method.*`, `assume.*` keys only it uses."""


@dataclass(frozen=True)
class Rule:
    """A recommendation rule (one module of tracekit/rules/library/): its id, the case study it comes
    from, its group, its check (the condition: FIRED with evidence when the mechanism is present),
    the replay change it recommends (for latency levers the plan, tracekit/analysis/plan.py, then
    decides whether it fires and with which gain, and the change's claimed critical-path time
    groups it by cause) and its texts in every language."""

    id: str
    case_study: str | None
    check: Callable[[Context], Outcome]
    group: str = LATENCY
    change: Change | None = None
    texts: Texts = field(default_factory=dict)


def not_fired(reason: str, **params: object) -> Outcome:
    """The rule's condition does not hold; `reason` is a text key."""
    return Outcome(NOT_FIRED, reason, params)


def not_applicable(reason: str, **params: object) -> Outcome:
    """The trace lacks the data the rule needs; `reason` is a text key."""
    return Outcome(NOT_APPLICABLE, reason, params)


def older_analysis(field: str) -> Outcome:
    """The document predates the field the rule reads (written by an earlier release): not applicable."""
    return not_applicable("older_analysis", field=field)


def replayed_gain(estimate: ReplayEstimate, method: str, *assumptions: str) -> Gain:
    """A Gain from a `whatif` estimate of the analysis (measured vs replayed step time)."""
    return Gain(
        metric="step_time",
        speedup=estimate.speedup,
        method=method,
        assumptions=assumptions,
        baseline_step_ns=estimate.baseline_step_ns,
        predicted_step_ns=estimate.predicted_step_ns,
        amdahl_bound=estimate.amdahl_bound,
        removable_share=estimate.removable_share,
    )


def replayed(estimate: ReplayEstimate | None) -> bool:
    """The replay applied the change and estimated its step time."""
    return estimate is not None and estimate.applicable and estimate.speedup is not None


def replay_verdict(estimate: ReplayEstimate | None, fired: Callable[[], Outcome]) -> Outcome:
    """Fire through `fired` when the replay found something to change (the engine then drops gains
    below MIN_SPEEDUP); else say why not."""
    if not replayed(estimate):
        return not_fired("nothing_to_change")
    return fired()


def amdahl(share: float) -> float | None:
    """1 / (1 - f): the most a change that removes a share f of the time can give."""
    return 1 / (1 - share) if share < 1 else None


@dataclass(frozen=True)
class ClusterRule:
    """A cross-rank rule (one module of tracekit/rules/library/): its check reads the `cluster` block
    of a multi-rank run (tracekit/analysis/cluster.py) and gives its own gain (no replay); listed in
    `CLUSTER_RULES`, evaluated by tracekit/rules/cluster.py."""

    id: str
    case_study: str | None
    check: Callable[[dict], Outcome]
    group: str = LATENCY
    texts: Texts = field(default_factory=dict)
