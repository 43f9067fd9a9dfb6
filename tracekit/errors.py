"""The one error type users see: a problem with an input, named by its file."""

from __future__ import annotations

from pathlib import Path

MAX_MESSAGE_CHARS = 200
"""A message is one line of at most this many characters, `PATH: what is wrong`, unless the path
alone is long: the problem then still gets MIN_PROBLEM_CHARS."""
MIN_PROBLEM_CHARS = 150


class TraceError(Exception):
    """An input that cannot be used. Shown to users as one line: `PATH: what is wrong`.

    The line is kept short: newlines become spaces and a long problem is cut with an ellipsis, so a
    hostile value is never echoed whole. The path is always shown whole: it names the file.
    """

    def __init__(self, path: str | Path, problem: str) -> None:
        shown_path = _one_line(str(path))
        room = max(MAX_MESSAGE_CHARS - len(shown_path) - 2, MIN_PROBLEM_CHARS)
        super().__init__(f"{shown_path}: {_cut(_one_line(problem), room)}")
        self.path = str(path)
        self.problem = problem


def shown_value(value: object, limit: int = 40) -> str:
    """A value from a file as an error message shows it: repr, cut to `limit` characters."""
    return _cut(repr(value), limit)


def _one_line(text: str) -> str:
    """Every line break str.splitlines knows (\x1c-\x1e, \x85, \u2028 too) and tab as one space."""
    return " ".join(text.split()) if len(text.splitlines()) > 1 or "\t" in text else text


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
