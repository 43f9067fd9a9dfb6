"""Evaluate every rule of the catalogue on an analysis document; rank the ones that fire."""

from __future__ import annotations

from dataclasses import asdict

from tracekit.rules.catalogue import RULES
from tracekit.rules.model import FIRED, MIN_SPEEDUP, Context, Evidence, Gain, Outcome, Rule, not_fired
from tracekit.rules.texts import CASES, LANGUAGES, TEXTS


def recommend(document: dict, lang: str = "en") -> dict[str, object]:
    """The `recommendations` block: fired rules ranked by predicted gain, and every rule checked."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r} (known: {', '.join(LANGUAGES)})")
    ctx = Context(document, busiest_device(document), platform_of(document))
    outcomes = [(rule, worth_it(rule.check(ctx))) for rule in RULES]
    fired = sorted((pair for pair in outcomes if pair[1].status == FIRED), key=lambda p: -_rank_key(p[1]))
    texts = Texts(TEXTS[lang], ctx.platform, all_definitions(document))
    return {
        "lang": lang,
        "platform": ctx.platform,
        "device": ctx.device["id"] if ctx.device else None,
        "fired": [texts.fired(rule, outcome, rank) for rank, (rule, outcome) in enumerate(fired, 1)],
        "checked": [texts.checked(rule, outcome) for rule, outcome in outcomes if outcome.status != FIRED],
    }


def worth_it(outcome: Outcome) -> Outcome:
    """A rule whose estimated gain is below MIN_SPEEDUP does not fire (memory findings always do)."""
    gain = outcome.gain
    if outcome.status != FIRED or gain is None or gain.speedup is None or gain.speedup >= MIN_SPEEDUP:
        return outcome
    return not_fired("gain_too_small", speedup=gain.speedup, minimum=MIN_SPEEDUP)


def all_definitions(document: dict) -> dict[str, str]:
    """The document's definitions, with the Ascend block's under `ascend.<name>`."""
    ascend = document.get("ascend", {}).get("definitions", {})
    return {**document.get("definitions", {}), **{f"ascend.{key}": text for key, text in ascend.items()}}


def busiest_device(document: dict) -> dict | None:
    """The device with the most busy time (recommendations are about it)."""
    return max(document["devices"], key=lambda d: d["busy_ns"], default=None)


def platform_of(document: dict) -> str:
    """cuda for Kineto and Nsight traces, ascend for msprof, generic otherwise."""
    fmt = document["trace"]["format"]
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

    def fired(self, rule: Rule, outcome: Outcome, rank: int) -> dict[str, object]:
        params = {
            k: self.text(str(v)) if str(v).startswith("stage.") else v for k, v in outcome.params.items()
        }
        return {
            "id": rule.id,
            "rank": rank,
            "title": self.text(f"{rule.id}.title"),
            "summary": self.text(f"{rule.id}.summary", **params),
            "evidence": [self.evidence(e) for e in outcome.evidence],
            "offenders": self.offenders(outcome.offenders),
            "gain": self.gain(outcome.gain) if outcome.gain else None,
            "actions": [a.format(**params) for a in self.actions(rule.id)],
            "case_study": self.case_study(rule.case_study),
        }

    def checked(self, rule: Rule, outcome: Outcome) -> dict[str, object]:
        return {
            "id": rule.id,
            "title": self.text(f"{rule.id}.title"),
            "status": outcome.status,
            "reason": self.text(f"reason.{outcome.reason}", **outcome.params),
        }

    def evidence(self, evidence: Evidence) -> dict[str, str]:
        formula = self.definitions.get(evidence.formula, evidence.formula)
        return {"label": self.text(evidence.label), "value": evidence.value, "formula": formula}

    def gain(self, gain: Gain) -> dict[str, object]:
        fields = asdict(gain)
        fields["method"] = self.text(gain.method)
        fields["assumptions"] = [self.text(a) for a in gain.assumptions]
        return fields

    def actions(self, rule_id: str) -> list[str]:
        for platform in (self.platform, "cuda", "ascend"):
            found = self.table.get(f"{rule_id}.actions.{platform}")
            if found:
                return list(found)
        return []

    def offenders(self, offenders: dict[str, list] | None) -> dict[str, list] | None:
        if not offenders:
            return None
        return {"columns": [self.text(c) for c in offenders["columns"]], "rows": offenders["rows"]}

    def case_study(self, case: str | None) -> dict[str, str] | None:
        return {"title": self.text(f"case.{case}"), "ref": CASES[case]} if case else None
