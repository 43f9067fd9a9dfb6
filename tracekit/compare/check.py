"""`tracekit check` as data: every budget's verdict and the overall status (`tracekit.check/1`)."""

from __future__ import annotations

from tracekit.compare.budget import DEFAULT_PRIOR, Budget
from tracekit.compare.noise import ALPHA, CONFIDENCE, TEST_NAME
from tracekit.compare.run import Run
from tracekit.compare.verdict import INCONCLUSIVE, MIN_STEPS, PASS, REGRESSION, judge

SCHEMA = "tracekit.check/1"
STATUSES = (PASS, REGRESSION, INCONCLUSIVE)


def check(
    new: Run, baselines: list[Run], budgets: list[Budget], budget_source: str, prior: float = DEFAULT_PRIOR
) -> dict[str, object]:
    """Judge every budget; the status is the worst verdict (regression > inconclusive > pass)."""
    verdicts = _worst_first([judge(budget, new, baselines, prior).as_dict() for budget in budgets])
    counts = {status: sum(v["status"] == status for v in verdicts) for status in STATUSES}
    return {
        "schema": SCHEMA,
        "status": overall_status(counts),
        "counts": counts,
        "new": _run_block(new),
        "baselines": [_run_block(run) for run in baselines],
        "budget": {"source": budget_source, "entries": {b.path: b.text for b in budgets}},
        "noise": {
            "test": TEST_NAME,
            "alpha": ALPHA,
            "confidence": CONFIDENCE,
            "min_steps": MIN_STEPS,
            "prior": prior,
        },
        "verdicts": verdicts,
    }


def _worst_first(verdicts: list[dict]) -> list[dict]:
    """Regressions, then inconclusive verdicts, then passes; the largest relative change first."""
    rank = {REGRESSION: 0, INCONCLUSIVE: 1, PASS: 2}
    return sorted(verdicts, key=lambda v: (rank[v["status"]], -abs(v["relative_change"] or 0.0)))


def overall_status(counts: dict[str, int]) -> str:
    """The worst status present."""
    if counts[REGRESSION]:
        return REGRESSION
    return INCONCLUSIVE if counts[INCONCLUSIVE] else PASS


def _run_block(run: Run) -> dict[str, object]:
    return {"source": run.source, "steps": run.steps}
