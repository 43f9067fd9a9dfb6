"""Shared fixtures: where the real traces live, and skipping when they are absent."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_TRACES = ROOT.parent / "shared" / "traces"
GPU_DATA = ROOT / "tests" / "data" / "gpu"
sys.path.insert(0, str(Path(__file__).resolve().parent))


def shared_trace(relative: str) -> Path:
    """A trace under ../shared/traces, or skip the test with the reason."""
    path = SHARED_TRACES / relative
    if not path.exists():
        pytest.skip(f"{path} is absent (../shared/traces is not beside this checkout)")
    return path


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite tests/data/golden/ from the current code instead of comparing with it",
    )
