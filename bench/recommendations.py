"""Recommendations on the real before/after corpus (tests/data/gpu/corpus.toml): does the expected rule
fire on "before" and not on "after", at which rank, and how close is its predicted gain to the gain
measured without the profiler.

    python bench/recommendations.py [--calibrated]

Per pair: fired on before (as a finding, or as an alternative of one), fired on after, rank of the
finding within its group (latency or throughput levers), the rule's predicted speedup (the change
alone, replayed on "before"; throughput levers: their throughput gain) against the measured one
(unprofiled medians), and the error predicted / measured - 1. Totals: recall, top-1 on the pairs
whose fix made the step faster, specificity (no fire on "after"), median and worst gain error,
share of pairs within 30 %. With --calibrated, each
"before" is analysed with its unprofiled median step (`--unprofiled-step`), as a user who measured
it would.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tracekit.analysis.analyze import Options, analyze  # noqa: E402
from tracekit.readers import read_trace  # noqa: E402
from tracekit.rules import CHANGES, RULES, recommend  # noqa: E402

CORPUS = ROOT / "tests" / "data" / "gpu" / "corpus.toml"
TOLERANCE = 0.30
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
    faster: bool

    @property
    def error(self) -> float | None:
        return self.predicted / self.measured - 1 if self.predicted and self.measured else None


def evaluate(pair: dict, calibrated: bool = False) -> Result:
    """Analyse both traces of a pair and compare the expected rule's verdict with the measurement."""
    folder = CORPUS.parent
    before_step = pair["unprofiled_before_ns"] if calibrated and pair["metric"] == "step_time" else None
    after_step = pair["unprofiled_after_ns"] if calibrated and pair["metric"] == "step_time" else None
    before = _recommended(folder / pair["before_trace"], before_step)
    after = _recommended(folder / pair["after_trace"], after_step)
    rule = pair["expected_rule"]
    rank, gain = _find(before["recommendations"], rule)
    return Result(
        pair=pair["id"],
        rule=rule,
        measured=float(pair["measured_speedup"]),
        fired_before=rank is not None,
        rank=rank,
        fired_after=_find(after["recommendations"], rule)[0] is not None,
        predicted=_predicted(before, rule, gain),
        faster=float(pair["measured_speedup"]) > 1.1,
    )


def _recommended(path: Path, unprofiled_ns: int | None) -> dict:
    document = analyze(read_trace(path), Options(unprofiled_step_ns=unprofiled_ns), CHANGES)
    document["recommendations"] = recommend(document)
    return document


def _find(block: dict, rule: str) -> tuple[int | None, float | None]:
    """The rank, within its group (latency levers and throughput levers are ranked apart), of the
    finding that is the rule or lists it as an alternative, and its gain."""
    for finding in block["fired"]:
        alternative = next((a for a in finding.get("alternatives", []) if a["id"] == rule), None)
        if finding["id"] == rule or alternative is not None:
            same_group = [f for f in block["fired"] if f.get("group") == finding.get("group")]
            gain = alternative["speedup"] if alternative else (finding["gain"] or {}).get("speedup")
            return same_group.index(finding) + 1, gain
    return None, None


def _predicted(document: dict, rule: str, gain: float | None) -> float | None:
    """The change alone, replayed on "before" (the pair differs by that one change)."""
    change = CHANGE_OF.get(rule)
    devices = document["devices"]
    if change is None or not devices:
        return gain
    device = max(devices, key=lambda d: d["busy_ns"])
    alone = device["whatif"].get(change, {})
    return alone.get("speedup") if alone.get("applicable") else gain


def totals(results: list[Result]) -> dict[str, object]:
    """Recall, top-1, specificity and gain errors over the pairs."""
    faster = [r for r in results if r.faster]
    errors = [abs(r.error) for r in results if r.error is not None]
    return {
        "pairs": len(results),
        "recall": sum(r.fired_before for r in results) / len(results),
        "recall_faster": sum(r.fired_before for r in faster) / max(len(faster), 1),
        "top1_faster": sum(r.rank == 1 for r in faster) / max(len(faster), 1),
        "specificity": sum(not r.fired_after for r in results) / len(results),
        "median_error": statistics.median(errors) if errors else None,
        "worst_error": max(errors) if errors else None,
        "within_30": sum(e <= TOLERANCE for e in errors) / len(results),
    }


def render(results: list[Result], summary: dict[str, object]) -> str:
    """A Markdown table of the pairs and the totals."""
    lines = [
        "| pair | rule | fired before (rank in group) | fired after | predicted | measured | error |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        rank = f"yes ({r.rank})" if r.fired_before else "no"
        predicted = f"x{r.predicted:.2f}" if r.predicted else "-"
        error = f"{r.error:+.0%}" if r.error is not None else "-"
        lines.append(
            f"| {r.pair} | {r.rule} | {rank} | {'yes' if r.fired_after else 'no'} | {predicted} "
            f"| x{r.measured:.2f} | {error} |"
        )
    lines += ["", "| total | value |", "|---|---|"]
    lines += [f"| {key} | {_fmt(value)} |" for key, value in summary.items()]
    return "\n".join(lines)


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.0%}" if value <= 10 else f"{value:.2f}"
    return str(value)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calibrated", action="store_true", help="give each trace its unprofiled step time")
    args = parser.parse_args()
    pairs = [p for p in tomllib.loads(CORPUS.read_text())["pair"] if p.get("recorded", True)]
    results = [evaluate(pair, args.calibrated) for pair in pairs]
    print(render(results, totals(results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
