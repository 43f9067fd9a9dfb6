"""The rule catalogue (tracekit/rules/catalogue.py): one module per rule with its texts and its
replay change; the changes the analysis replays are exactly the rules' ones."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT

from tracekit.analysis.analyze import analyze
from tracekit.analysis.document.whatif import REPLAYED_CHANGES, ReplayEstimate, Whatif
from tracekit.readers import read_trace
from tracekit.rules import CHANGES, CLUSTER_RULES, RULES, library, recommend
from tracekit.rules.texts import LANGUAGES, TEXTS

SAMPLE = ROOT / "sample_traces" / "h2d28_separate.pt.trace.json.gz"


@pytest.mark.parametrize("rule", RULES + CLUSTER_RULES, ids=lambda rule: rule.id)
def test_every_rule_has_a_title_summary_and_actions_in_every_language(rule) -> None:
    assert set(rule.texts) == set(LANGUAGES) == {"en", "zh"}
    for lang in LANGUAGES:
        assert isinstance(rule.texts[lang]["title"], str) and rule.texts[lang]["title"]
        assert isinstance(rule.texts[lang]["summary"], str) and rule.texts[lang]["summary"]
        assert any(key.startswith("actions.") for key in rule.texts[lang])
    assert rule.texts["en"].keys() == rule.texts["zh"].keys()
    assert rule.texts["en"]["title"] != rule.texts["zh"]["title"]


def test_the_merged_texts_have_the_same_keys_in_every_language() -> None:
    assert TEXTS["en"].keys() == TEXTS["zh"].keys()
    assert TEXTS["en"]["h2d-batch.title"] == "Batch the host-to-device copies"
    assert TEXTS["zh"]["reason.few_copies"].startswith("每步")  # a rule's own reason, merged as is


def test_rule_ids_and_change_names_are_unique_and_every_library_module_is_catalogued() -> None:
    modules = {p.stem for p in Path(library.__file__).parent.glob("*.py")} - {"__init__"}
    rules = RULES + CLUSTER_RULES  # the cross-rank rules are modules of the library too
    assert len({rule.id for rule in rules}) == len(rules) == len(modules)
    assert {rule.id.replace("-", "_") for rule in rules} == modules
    assert len({change.name for change in CHANGES}) == len(CHANGES)


def test_the_changes_are_the_rules_changes() -> None:
    assert {change.name for change in CHANGES} == {rule.change.name for rule in RULES if rule.change}
    assert all(rule.change in CHANGES for rule in RULES if rule.change)
    assert [change.name for change in CHANGES if not change.latency] == ["bigger_batch"]


def test_the_changes_are_the_replayed_fields_of_the_whatif_block() -> None:
    """Each rule's change has its field in the typed what-if block (REPLAYED_CHANGES) and each such
    field is a change of a rule; an analysis with the changes fills every one."""
    names = [change.name for change in CHANGES]
    assert set(names) == set(REPLAYED_CHANGES) and len(REPLAYED_CHANGES) == len(names)
    assert set(names) <= set(Whatif.__struct_fields__)
    whatif = analyze(read_trace(SAMPLE), changes=CHANGES).devices[0].whatif
    estimates = {name: whatif.change(name) for name in names}
    assert all(isinstance(estimate, ReplayEstimate) for estimate in estimates.values()), estimates
    assert whatif.change("plan") is None  # a block of every analysis, not a replayed change


def test_every_change_named_in_an_enabled_by_exists() -> None:
    names = {change.name for change in CHANGES}
    named = {name for change in CHANGES for name in change.enabled_by}
    assert named and named <= names
    assert dict((c.name, c.enabled_by) for c in CHANGES if c.enabled_by) == {
        "graph_launch": ("remove_host_syncs", "static_shapes", "pin_memory", "batch_h2d")
    }


def test_without_changes_the_analysis_has_no_estimates_and_no_lever_fires() -> None:
    """28 separate H2D copies per step: with the rules' changes h2d-batch is the first finding;
    without them the whatif block has no per-change estimate, an empty plan, and the
    recommendations still evaluate (no replayed lever fires)."""
    trace = read_trace(SAMPLE)
    bare = analyze(trace)
    whatif = bare.devices[0].whatif
    assert [whatif.change(change.name) for change in CHANGES] == [None] * len(CHANGES)
    assert whatif.plan.steps == [] and whatif.causes == []
    checked = {rule.id: rule for rule in recommend(bare).checked}
    assert checked["h2d-batch"].status == "not_fired"
    assert checked["h2d-batch"].reason == "the replay found nothing to change"
    full = recommend(analyze(trace, changes=CHANGES))
    assert full.fired[0].id == "h2d-batch"


def test_an_unknown_copy_size_is_told_unknown_not_zero_bytes() -> None:
    from tracekit.rules.library.h2d_batch import _known_bytes

    assert (_known_bytes(None), _known_bytes(65536.0)) == ("unknown", "64.0 KiB")
