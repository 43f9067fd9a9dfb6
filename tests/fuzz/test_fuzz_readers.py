"""Mutation fuzzing of every reader and command, within a short time budget.

TRACEKIT_FUZZ_SECONDS (default 60) is shared by all targets; TRACEKIT_FUZZ_SEED picks the random
sequence (default 0). Long runs: `make fuzz SECONDS=N`. Failures are kept under .fuzz-failures/.
"""

from __future__ import annotations

import os

import pytest
from engine import TARGETS, fuzz

SECONDS = float(os.environ.get("TRACEKIT_FUZZ_SECONDS", "60"))
SEED = int(os.environ.get("TRACEKIT_FUZZ_SEED", "0"))


@pytest.mark.parametrize("target", TARGETS, ids=[t.name for t in TARGETS])
def test_fuzz_reader(target) -> None:
    if SECONDS <= 0:
        pytest.skip("TRACEKIT_FUZZ_SECONDS=0")
    result = fuzz(target, SECONDS / len(TARGETS), SEED + TARGETS.index(target))
    runs = sum(result.runs.values())
    print(f"\n{target.name}: {runs} runs ({dict(result.runs)}), {sum(result.failures.values())} failed")
    assert runs > 0, f"{target.name}: no case ran"
    lines = [f"{count} x {signature}\n    saved: {result.examples.get(signature, '-')}"
             for signature, count in result.failures.most_common()]  # fmt: skip
    assert not result.failures, f"{target.name}: {sum(result.failures.values())} of {runs} runs failed\n" + (
        "\n".join(lines)
    )
