"""Cross-rank recommendations: the cluster rules (`CLUSTER_RULES`, one module each in
tracekit/rules/library/) evaluated on the `cluster` block of a multi-rank run (docs/rules.md)."""

from __future__ import annotations

import msgspec

from tracekit.rules.catalogue import CLUSTER_RULES
from tracekit.rules.engine import GROUP_ORDER, Texts, worth_it
from tracekit.rules.model import FIRED, ClusterRule, Outcome
from tracekit.rules.texts import LANGUAGES, TEXTS, merged

CLUSTER_TEXTS = {lang: merged(TEXTS[lang], CLUSTER_RULES, lang) for lang in LANGUAGES}


def recommend_cluster(cluster: dict, lang: str = "en", platform: str = "generic") -> dict[str, object]:
    """The cluster's `recommendations` (plain data, as the `tracekit.cluster/1` document it belongs
    to): fired cluster rules by group and gain, the others with why."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r} (known: {', '.join(LANGUAGES)})")
    outcomes = [(rule, worth_it(rule.check(cluster))) for rule in CLUSTER_RULES]
    fired = sorted((pair for pair in outcomes if pair[1].status == FIRED), key=_rank_key)
    texts = Texts(CLUSTER_TEXTS[lang], platform, cluster.get("definitions") or {})
    return {
        "lang": lang,
        "platform": platform,
        "fired": msgspec.to_builtins(
            [texts.fired(rule, outcome, rank, []) for rank, (rule, outcome) in enumerate(fired, 1)]
        ),
        "checked": msgspec.to_builtins(
            [texts.checked(rule, outcome) for rule, outcome in outcomes if outcome.status != FIRED]
        ),
    }


def _rank_key(pair: tuple[ClusterRule, Outcome]) -> tuple[int, float]:
    rule, outcome = pair
    speedup = outcome.gain.speedup if outcome.gain and outcome.gain.speedup else 1.0
    return (GROUP_ORDER.index(rule.group), -speedup)
