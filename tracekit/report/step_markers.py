"""The `--steps nvtx:NAME` option as the summaries suggest it when a trace has no ProfilerStep."""

from __future__ import annotations

import shlex

STEP_MARKER_USAGE = "--steps nvtx:NAME"


def step_marker_examples(names: list[str]) -> list[str]:
    """`--steps nvtx:NAME` for each range name, the value quoted for a shell where it needs it."""
    return [f"--steps {shlex.quote('nvtx:' + name)}" for name in names]
