"""The one error type users see: a problem with an input, named by its file."""

from __future__ import annotations

from pathlib import Path


class TraceError(Exception):
    """An input that cannot be used. Shown to users as one line: `PATH: what is wrong`."""

    def __init__(self, path: str | Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = str(path)
        self.problem = problem
