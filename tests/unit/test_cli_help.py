"""`--help` pages and `tracekit formats` as people read them: no type artefacts, aligned columns."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tracekit.cli.main import app
from tracekit.readers import READERS

COMMANDS = [[]] + [[command.name] for command in app.registered_commands]  # every command, new ones too


def _run(*args: str, columns: int = 100) -> str:
    env = {**os.environ, "COLUMNS": str(columns)}
    done = subprocess.run(
        [sys.executable, "-m", "tracekit", *args], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "tracekit")
def test_help_has_no_type_artefacts(command: list[str]) -> None:
    page = _run(*command, "--help")
    assert "--help" in page
    for artefact in ("<bool>", "<list[", "Path]>", "range>"):
        assert artefact not in page


def test_help_names_what_a_value_is() -> None:
    page = _run("analyze", "--help", columns=120)
    for option, metavar in (("--steps", "A:B|nvtx:NAME"), ("--json", "FILE|-"), ("--lang", "en|zh")):
        line = next(line for line in page.splitlines() if f" {option} " in line)
        assert metavar in line
    check_page = _run("check", "--help", columns=120)
    assert "PATH" in next(line for line in check_page.splitlines() if "--baseline" in line)


@pytest.mark.parametrize("columns", [60, 80, 200])
def test_formats_are_aligned_and_fit(columns: int) -> None:
    lines = _run("formats", columns=columns).splitlines()
    names = [line.split()[0] for line in lines if not line.startswith(" ")]
    assert names == [reader.name for reader in READERS]
    start = max(len(name) for name in names) + 2
    for line in lines:
        assert len(line) <= columns
        assert line[start - 1] == " " and line[start] != " "  # every description starts in one column
