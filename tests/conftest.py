"""Shared fixtures: where the real traces live, and skipping when they are absent."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_ENV = "TRACEKIT_SHARED"
SHARED = Path(os.environ.get(SHARED_ENV) or ROOT.parent / "shared")
"""The shared data (traces/, seeds/, docs/): ../shared beside the checkout, or TRACEKIT_SHARED."""
SHARED_TRACES = SHARED / "traces"
SHARED_ABSENT = "../shared/traces is not beside this checkout"
"""In the reason of every skip for lack of the shared traces: the terminal summary counts them."""
GPU_DATA = ROOT / "tests" / "data" / "gpu"
sys.path.insert(0, str(Path(__file__).resolve().parent))


def shared_trace(relative: str) -> Path:
    """A trace under the shared traces, or skip the test with the reason."""
    path = SHARED_TRACES / relative
    if not path.exists():
        pytest.skip(f"{path} is absent ({SHARED_ABSENT}; {SHARED_ENV} names another folder)")
    return path


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter):
    """After the short summary: how many tests skipped for lack of the shared traces, and how to run them."""
    yield
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if SHARED_ABSENT in _reason(r)]
    if skipped:
        terminalreporter.write_line(
            f"{len(skipped)} tests skipped: {SHARED_TRACES} is absent; "
            f"set {SHARED_ENV}=/path/to/shared (the folder holding traces/) to run them"
        )


def _reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    return longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite tests/data/golden/ from the current code instead of comparing with it",
    )
