"""Short kernel names: what hotspots group by."""

from __future__ import annotations

import re

_ANONYMOUS = "(anonymous namespace)"
_BRACKETS = re.compile(r"[<>()]")


def short_kernel_name(name: str) -> str:
    """The demangled name without return type, template arguments and parameter list.

    `void at::native::elementwise_kernel<128, 4, F>(int, F)` becomes `at::native::elementwise_kernel`.
    Names in brackets, the profilers' own labels such as `[CUDA graph 5]`, stay whole.
    """
    if name.startswith("[") and name.endswith("]"):
        return name
    text = name.replace(_ANONYMOUS, "{anonymous}")
    words = "".join(_top_level(text)).split()
    return words[-1] if words else name.strip()


def _top_level(text: str) -> list[str]:
    """The pieces of `text` outside any <...> or (...), found bracket by bracket (not per character)."""
    depth, start, kept = 0, 0, []
    for bracket in _BRACKETS.finditer(text):
        if depth == 0:
            kept.append(text[start : bracket.start()])
        depth = depth + 1 if bracket.group() in "<(" else max(depth - 1, 0)
        start = bracket.end()
    if depth == 0:
        kept.append(text[start:])
    return kept
