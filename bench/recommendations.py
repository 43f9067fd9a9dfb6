"""Recommendations on the real before/after corpus (tests/data/gpu/corpus.toml and memory_pair.toml):
does the expected rule fire on "before" and not on "after", at which rank, and how close is its
predicted gain to the gain measured without the profiler.

    python bench/recommendations.py [--calibrated]

Per pair: fired on before (as a finding, or as an alternative of one), fired on after, rank of the
finding within its group (latency, throughput or memory levers), the rule's prediction against the
measurement, and the error predicted / measured - 1. The prediction is the rule's own estimate for
"before", fired or not: the change alone, replayed (latency levers); the throughput gain
(bigger-batch), the throughput bound (more-instances), the k-worker stage model (cpu-bound; its
one-worker pipelining where the pair measured that, `action = "one worker"`); the
growth per step (memory-growth, measured: the growth built into the workload).

Totals, each over the pairs it makes sense for (docs/benchmarks.md):
- recall over the pairs whose fix worked (x1.1 or more, the leak gone, a throughput gain above its
  measured latency cost: the rule's own criterion): the rule fires on
  "before"; specificity over those of them whose "after" no longer has the bottleneck: not where
  another pair measured the same fix working again from the "after"'s workload (batch 32, the
  "after" of 16 -> 32, gained x1.83 from 32 -> 64). Specificity over all pairs is printed too (after
  a fix that did not work, the bottleneck is still there);
- top-1 over those pairs that have a single bottleneck (`single_bottleneck = false` in the corpus
  names the others and why);
- median and worst error, and the share within 30 %, over every pair (no prediction counts as out).
With --calibrated, each trace is analysed with its unprofiled median step (`--unprofiled-step`), as
a user who measured it would.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tracekit.analysis.analyze import Options, analyze  # noqa: E402
from tracekit.analysis.document import Document  # noqa: E402
from tracekit.analysis.document.device import Device  # noqa: E402
from tracekit.analysis.document.recommendations import Recommendations  # noqa: E402
from tracekit.readers import read_trace  # noqa: E402
from tracekit.rules import CHANGES, RULES, recommend  # noqa: E402

CORPUS = ROOT / "tests" / "data" / "gpu" / "corpus.toml"
MEMORY_PAIR = CORPUS.parent / "memory_pair.toml"
TOLERANCE = 0.30
FASTER = 1.1  # a fix that gained x1.1 or more worked (corpus.toml's `effect`)
CHANGE_OF = {rule.id: rule.change.name for rule in RULES if rule.change and rule.change.latency}


@dataclass
class Result:
    """One pair's verdict."""

    pair: str
    rule: str
    measured: float
    fired_before: bool
    rank: int | None
    fired_after: bool
    predicted: float | None
    worked: bool
    single: bool
    before: str = ""
    after: str = ""

    @property
    def error(self) -> float | None:
        if self.predicted is None or not self.measured:
            return None
        return self.predicted / self.measured - 1


def evaluate(pair: dict, calibrated: bool = False) -> Result:
    """Analyse both traces of a pair and compare the expected rule's verdict with the measurement."""
    folder = CORPUS.parent
    before_step = pair["unprofiled_before_ns"] if calibrated and pair["metric"] == "step_time" else None
    after_step = pair["unprofiled_after_ns"] if calibrated and pair["metric"] == "step_time" else None
    before = _recommended(folder / pair["before_trace"], before_step)
    after = _recommended(folder / pair["after_trace"], after_step)
    rule = pair["expected_rule"]
    rank, gain = _find(before.recommendations, rule)
    return Result(
        pair=pair["id"],
        rule=rule,
        measured=_measured(pair),
        fired_before=rank is not None,
        rank=rank,
        fired_after=_find(after.recommendations, rule)[0] is not None,
        predicted=_predicted(before, rule, gain, pair.get("action")),
        worked=worked(pair),
        single=pair.get("single_bottleneck", True),
        before=_workload(pair["before"]),
        after=_workload(pair["after"]),
    )


def worked(pair: dict) -> bool:
    """The fix paid: the leak is gone; a step x1.1 faster; a throughput lever's gain above its
    latency cost (after / before unprofiled step: past that, each sample waits longer than
    throughput grows; for a doubled batch, a gain above sqrt(2)). tests/real/test_recommendations.py
    tests the pairs this selects."""
    if pair["metric"] == "memory":
        return True
    if pair["metric"] == "throughput":
        return pair["measured_speedup"] > pair["unprofiled_after_ns"] / pair["unprofiled_before_ns"]
    return pair["measured_speedup"] >= FASTER


def _workload(recording: str) -> str:
    """The workload a recording ran (`X_run2` is X again)."""
    return recording.removesuffix("_run2")


def _measured(pair: dict) -> float:
    if pair["metric"] == "memory":
        return float(pair["measured_growth_before_bytes_per_step"])
    return float(pair["measured_speedup"])


def _recommended(path: Path, unprofiled_ns: int | None) -> Document:
    document = analyze(read_trace(path), Options(unprofiled_step_ns=unprofiled_ns), CHANGES)
    document.recommendations = recommend(document)
    return document


def _find(block: Recommendations, rule: str) -> tuple[int | None, float | None]:
    """The rank, within its group (latency levers and throughput levers are ranked apart), of the
    finding that is the rule or lists it as an alternative, and its gain."""
    for finding in block.fired:
        alternative = next((a for a in finding.alternatives if a.id == rule), None)
        if finding.id == rule or alternative is not None:
            same_group = [f for f in block.fired if f.group == finding.group]
            gain = alternative.speedup if alternative else finding.gain.speedup if finding.gain else None
            return same_group.index(finding) + 1, gain
    return None, None


def _predicted(document: Document, rule: str, gain: float | None, action: str | None) -> float | None:
    """The rule's own estimate on "before", fired or not (module docstring); `action` names the
    alternative the pair measured where a rule offers two (cpu-bound: "one worker")."""
    if not document.devices:
        return gain
    device = max(document.devices, key=lambda d: d.busy_ns)
    if action == "one worker":
        return device.whatif.pipeline.speedup
    if rule in ESTIMATES:
        return ESTIMATES[rule](device)
    alone = device.whatif.change(CHANGE_OF.get(rule, ""))
    return alone.speedup if alone is not None and alone.applicable else gain


ESTIMATES: dict[str, Callable[[Device], float | None]] = {
    "bigger-batch": lambda device: device.whatif.bigger_batch.throughput_gain,
    "more-instances": lambda device: device.whatif.more_instances.throughput_bound,
    "cpu-bound": lambda device: device.whatif.pipeline.workers_speedup,
    "memory-growth": lambda device: device.memory.growth_per_step_bytes if device.memory else None,
}
"""Where a rule without a replayed latency change keeps its estimate in the analysis (also read by
tests/real/test_recommendations.py)."""


def totals(results: list[Result]) -> dict[str, object]:
    """Recall, top-1, specificity and gain errors, each over its pairs (module docstring)."""
    worked = [r for r in results if r.worked]
    single = [r for r in worked if r.single]
    still = {(r.before, r.rule) for r in worked}  # measured: doubling again from there worked too
    fixed = [r for r in worked if (r.after, r.rule) not in still]
    errors = [abs(r.error) for r in results if r.error is not None]
    return {
        "pairs": len(results),
        "pairs_whose_fix_worked": len(worked),
        "recall": _share(r.fired_before for r in worked),
        "top1_single_bottleneck": _share(r.rank == 1 for r in single),
        "specificity": _share(not r.fired_after for r in fixed),
        "specificity_all_pairs": _share(not r.fired_after for r in results),
        "median_error": statistics.median(errors) if errors else None,
        "worst_error": max(errors) if errors else None,
        "within_30": sum(e <= TOLERANCE for e in errors) / len(results),
    }


def _share(flags) -> float:
    flags = list(flags)
    return sum(flags) / max(len(flags), 1)


def render(results: list[Result], summary: dict[str, object]) -> str:
    """A Markdown table of the pairs and the totals."""
    lines = [
        "| pair | rule | fired before (rank in group) | fired after | predicted | measured | error |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        rank = f"yes ({r.rank})" if r.fired_before else "no"
        error = f"{r.error:+.0%}" if r.error is not None else "-"
        lines.append(
            f"| {r.pair} | {r.rule} | {rank} | {'yes' if r.fired_after else 'no'} | {_value(r, r.predicted)} "
            f"| {_value(r, r.measured)} | {error} |"
        )
    lines += ["", "| total | value |", "|---|---|"]
    lines += [f"| {key} | {_fmt(value)} |" for key, value in summary.items()]
    return "\n".join(lines)


def _value(r: Result, value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value / 2**20:.2f} MiB/step" if r.rule == "memory-growth" else f"x{value:.2f}"


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.0%}" if value <= 10 else f"{value:.2f}"
    return str(value)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calibrated", action="store_true", help="give each trace its unprofiled step time")
    args = parser.parse_args()
    pairs = [
        p
        for path in (CORPUS, MEMORY_PAIR)
        for p in tomllib.loads(path.read_text())["pair"]
        if p.get("recorded", True)
    ]
    results = [evaluate(pair, args.calibrated) for pair in pairs]
    print(render(results, totals(results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
