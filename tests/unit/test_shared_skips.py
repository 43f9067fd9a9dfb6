"""Tests that need the shared traces: TRACEKIT_SHARED points them elsewhere, and the terminal
summary counts those that skipped for lack of them (tests/conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, SHARED_ENV, shared_trace

SHARED_TEST = "tests/real/test_shared_msprof.py"


def _pytest(shared: Path) -> subprocess.CompletedProcess:
    environment = {**os.environ, SHARED_ENV: str(shared)}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", SHARED_TEST]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=environment, timeout=300)


def test_skips_for_lack_of_the_shared_traces_are_counted_with_the_way_out(tmp_path: Path) -> None:
    result = _pytest(tmp_path / "nowhere")
    skipped = _pytest_count(result.stdout, "skipped")
    assert skipped > 0 and _pytest_count(result.stdout, "passed") == 0
    line = f"{skipped} tests skipped: {tmp_path / 'nowhere' / 'traces'} is absent; set {SHARED_ENV}="
    assert line in result.stdout


def test_the_variable_points_the_tests_at_another_folder(tmp_path: Path) -> None:
    shared = shared_trace("msprof").parent.parent  # skips, counted, when the shared traces are absent
    (tmp_path / "elsewhere").symlink_to(shared)
    result = _pytest(tmp_path / "elsewhere")
    assert result.returncode == 0, result.stdout[-2000:]
    assert _pytest_count(result.stdout, "passed") > 0 and "tests skipped:" not in result.stdout


def _pytest_count(stdout: str, word: str) -> int:
    last = stdout.strip().splitlines()[-1]
    counts = {part.split()[1].rstrip(","): int(part.split()[0]) for part in last.split(" in ")[0].split(", ")}
    return counts.get(word, 0)
